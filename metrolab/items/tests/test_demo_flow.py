"""The demo lab's business data: commissions at every node reachable without certificates,
carried there through the real services, with an intact audit chain."""

import pytest

from metrolab.core import audit
from metrolab.core.demo import demo_seed

pytestmark = pytest.mark.django_db


def test_demo_seed_covers_every_state():
    from metrolab.commissions.demo import demo_seed_commissions
    from metrolab.commissions.models import Commission
    from metrolab.items.demo import demo_seed_flow
    from metrolab.items.models import Item, ItemMedia

    assert demo_seed() and demo_seed_commissions() and demo_seed_flow()
    assert demo_seed_flow() is False  # once only
    statuses = set(Commission.objects.values_list("status", flat=True))
    assert {"applied", "items_received", "tasks_assigned", "testing", "cancelled"} <= statuses
    reviews = set(Commission.objects.values_list("review", flat=True))
    assert {"pending", "accepted", "rejected"} <= reviews
    states = set(Item.objects.values_list("state", flat=True))
    assert {"awaiting_return", "returned", "in_testing"} <= states
    assert ItemMedia.objects.exists()
    assert audit.verify_chain().ok
