"""The back office for master data: disciplines, price list, appointment slots, customers with
their contacts. Writes there are audited with the administrator as the actor."""

import pytest

from metrolab.commissions.models import Discipline
from metrolab.core.models import AuditEvent, User
from metrolab.core.permissions import SYSTEM

pytestmark = pytest.mark.django_db

PAGES = [
    "commissions/discipline",
    "commissions/pricelistentry",
    "commissions/appointmentslot",
    "commissions/commission",
    "customers/customer",
    "customers/portalaccount",
    "customers/instrument",
]


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.com", "Root-pass-2026")


def test_every_master_data_page_opens(client, superuser, org_a, slot):
    from metrolab.commissions.services import commission_create

    commission = commission_create(
        customer=org_a,
        lines=[{"instrument_name": "压力表", "service": "calibration"}],
        channel="desk",
        actor=SYSTEM,
    )
    client.force_login(superuser)
    for page in PAGES:
        assert client.get(f"/admin/{page}/").status_code == 200, page
    assert client.get(f"/admin/customers/customer/{org_a.pk}/change/").status_code == 200
    assert client.get(f"/admin/commissions/commission/{commission.pk}/change/").status_code == 200
    assert client.get(f"/admin/commissions/appointmentslot/{slot.pk}/change/").status_code == 200
    assert client.get("/admin/commissions/commission/add/").status_code == 403


def test_admin_writes_are_audited(client, superuser):
    client.force_login(superuser)
    response = client.post("/admin/commissions/discipline/add/", {"code": "T", "name": "温度"})
    assert response.status_code == 302
    discipline = Discipline.objects.get(code="T")
    event = AuditEvent.objects.get(
        object_type="commissions.discipline", object_id=str(discipline.pk)
    )
    assert event.actor_label == "root" and event.operation == "create"
