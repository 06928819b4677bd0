# The items' fixtures by name: their module also holds an autouse fixture (English messages)
# that the record templates' tests, which read the Chinese pages, must not get.
from metrolab.items.tests.fixtures import customers, make_commission, receive  # noqa: F401
from metrolab.records.tests.fixtures import *  # noqa: F403
from metrolab.tasks.tests.fixtures import *  # noqa: F403
