"""The demo helper carries commissions through the real services; the back office edits
storage places and the numbering rule."""

from __future__ import annotations

import pytest

from metrolab.core.permissions import SYSTEM
from metrolab.core.services import user_create
from metrolab.items.models import ItemNumberRule, StorageLocation
from metrolab.items.selectors import item_state_from_events
from metrolab.tasks.demo import STAGES, demo_carry_commission
from metrolab.tasks.tests.fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("stage", "status", "state"),
    [
        ("items_received", "items_received", "moved"),
        ("tasks_assigned", "tasks_assigned", "moved"),
        ("testing", "testing", "in_testing"),
        ("returned", "testing", "returned"),
    ],
)
def test_demo_stages(cast, make_commission, qualified_setup, stage, status, state):
    commission = make_commission(lines=[("Gauge", 2, "calibration")])
    items = demo_carry_commission(
        commission,
        stage,
        receptionist=cast["receptionist"],
        keeper=cast["item_keeper"],
        manager=cast["director"],
        metrologist=cast["metrologist"],
        # Assigned under a qualified set-up (the demo's own libraries are not seeded here).
        task_setup=lambda task: qualified_setup.setup(task.service),
    )
    commission.refresh_from_db()
    assert commission.status == status
    assert len(items) == 2 and items[0].media.count() == 1
    for item in items:
        item.refresh_from_db()
        assert item.state == state == item_state_from_events(item).state
    assert stage in STAGES


def test_back_office_edits_places_and_the_rule(client):
    root = user_create(username="root", password="pw-root-123", roles=["admin"], actor=SYSTEM)
    root.is_superuser = True
    root.save()
    client.force_login(root)
    assert client.get("/admin/items/storagelocation/").status_code == 200
    response = client.post(
        "/admin/items/storagelocation/add/",
        {"room": "Store 2", "shelf": "C-01", "code": "S2-C01", "active": "on"},
    )
    assert response.status_code == 302
    assert StorageLocation.objects.get(code="S2-C01").room == "Store 2"
    response = client.post(
        "/admin/items/itemnumberrule/add/",
        {"prefix": "JL", "year_digits": 2, "sequence_digits": 6, "check_digit": "on"},
    )
    assert response.status_code == 302
    assert ItemNumberRule.objects.get().prefix == "JL"
    # One rule: no second one can be added.
    assert client.get("/admin/items/itemnumberrule/add/").status_code == 403
