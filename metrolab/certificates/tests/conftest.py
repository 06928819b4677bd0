# The records' fixtures (a started gauge task, its record, `move` to approve it) by name.
from metrolab.items.tests.fixtures import customers, make_commission, receive  # noqa: F401
from metrolab.records.tests.fixtures import *  # noqa: F403
from metrolab.tasks.tests.fixtures import *  # noqa: F403

from .fixtures import *  # noqa: F403
