"""The demo data of customers and commissions seeds once, beside the core demo lab."""

import pytest

from metrolab.commissions.models import Commission
from metrolab.core.permissions import SYSTEM

pytestmark = pytest.mark.django_db


def test_demo_commissions_seed_once(demo_lab):
    """The shared demo lab was seeded once (each seeder returned True); a second time, no."""
    from metrolab.commissions.demo import demo_seed_commissions

    assert demo_seed_commissions(actor=SYSTEM) is False
    assert set(Commission.objects.values_list("review", flat=True)) == {
        "pending",
        "accepted",
        "rejected",
    }
    assert Commission.objects.filter(status="cancelled").count() == 1
    portal = Commission.objects.get(channel="portal")
    assert portal.customer.portal_accounts.get().user.username == "customer"
