from metrolab.items.tests.fixtures import *  # noqa: F403
from metrolab.records.tests.fixtures import *  # noqa: F403
from metrolab.tasks.tests.fixtures import *  # noqa: F403
