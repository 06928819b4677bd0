from metrolab.items.tests.fixtures import *  # noqa: F403
