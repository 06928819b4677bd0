"""The demo lab's business data: commissions at every node reachable without certificates,
carried there through the real services, with an intact audit chain."""

import pytest

from metrolab.core import audit
from metrolab.core.demo import demo_seed
from metrolab.core.permissions import SYSTEM

pytestmark = pytest.mark.django_db


def test_demo_seed_covers_every_state(demo_lab):
    from metrolab.commissions.demo import demo_seed_commissions
    from metrolab.commissions.models import Commission
    from metrolab.items.models import Item, ItemMedia
    from metrolab.tasks.demo import demo_seed_flow

    # The shared demo lab was seeded once (each seeder returned True); now each says no.
    assert demo_seed(actor=SYSTEM) is False and demo_seed_commissions(actor=SYSTEM) is False
    assert demo_seed_flow(actor=SYSTEM) is False  # once only
    statuses = set(Commission.objects.values_list("status", flat=True))
    assert {"applied", "items_received", "tasks_assigned", "testing", "cancelled"} <= statuses
    reviews = set(Commission.objects.values_list("review", flat=True))
    assert {"pending", "accepted", "rejected"} <= reviews
    states = set(Item.objects.values_list("state", flat=True))
    assert {"awaiting_return", "returned", "in_testing"} <= states
    assert ItemMedia.objects.exists()
    assert audit.verify_chain().ok


def test_certificate_hook_drives_the_last_two_nodes(demo_lab, monkeypatch):
    """The certificates issue plugs into `certificate_checks`; with every certificate issued a
    commission whose items are still in the lab reaches 出具报告 (certificate issued), one
    whose items were all returned reaches 完成 (completed), each node recorded once."""
    from metrolab.commissions import status
    from metrolab.commissions.models import Commission, StatusEvent
    from metrolab.commissions.services import commission_refresh_status
    from metrolab.items.models import Item

    monkeypatch.setattr(status, "certificate_checks", [lambda commission: True])
    in_lab = (
        Commission.objects.filter(items__state=Item.State.IN_TESTING)
        .distinct()
        .exclude(status="certificate_issued")  # the records demo's test report, issued already
        .first()
    )
    returned = (
        Commission.objects.filter(items__state=Item.State.RETURNED)
        .distinct()
        .exclude(items__state__in=[Item.State.IN_TESTING, Item.State.AWAITING_RETURN])
        .exclude(status="completed")  # the certificates demo's, completed already
        .first()
    )
    assert commission_refresh_status(in_lab, actor=SYSTEM) == ["certificate_issued"]
    assert commission_refresh_status(returned, actor=SYSTEM) == ["certificate_issued", "completed"]
    assert commission_refresh_status(returned, actor=SYSTEM) == []  # nothing twice
    in_lab.refresh_from_db()
    returned.refresh_from_db()
    assert (in_lab.status, returned.status) == ("certificate_issued", "completed")
    assert StatusEvent.objects.filter(commission=returned, status="completed").count() == 1
    assert audit.verify_chain().ok
