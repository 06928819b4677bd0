"""Customer pages: who may open them, the list with search and pagination, the card, editing,
portal accounts, the instrument register and what is due — customers see only their own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from metrolab.core.roles import LAB_STAFF
from metrolab.customers.models import Contact, Customer, Instrument, PortalAccount

pytestmark = pytest.mark.django_db

CUSTOMERS = {"customer", "customer_a", "customer_b"}
READERS = {"admin", "director", "quality_manager", "receptionist"}
EDITORS = {"admin", "receptionist"}


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/customers/", READERS),
        ("/customers/new/", EDITORS),
        ("/customers/instruments/", set(LAB_STAFF) | CUSTOMERS),
        ("/customers/instruments/due/", set(LAB_STAFF) | CUSTOMERS),
    ],
)
def test_pages_open_only_for_their_roles(cast, client, url, allowed):
    for username, user in cast.items():
        client.force_login(user)
        status = client.get(url).status_code
        expected = 200 if username in allowed else 403
        assert status == expected, f"{username} on {url}: {status}, expected {expected}"


def test_customer_a_never_sees_b(cast, client, org_a, org_b):
    b_contact = org_b.contacts.get()
    b_instrument = Instrument.objects.create(customer=org_b, name="流量计", serial_no="B-1")
    client.force_login(cast["customer_a"])
    assert client.get(f"/customers/{org_a.pk}/").status_code == 200
    assert client.get("/customers/mine/")["Location"] == f"/customers/{org_a.pk}/"
    assert client.get(f"/customers/{org_b.pk}/").status_code == 404
    assert client.get(f"/customers/{org_b.pk}/edit/").status_code == 403
    assert client.get(f"/customers/contacts/{b_contact.pk}/edit/").status_code == 403
    html = client.get("/customers/instruments/").content.decode()
    assert "B-1" not in html
    assert client.get(f"/customers/instruments/{b_instrument.pk}/edit/").status_code == 403
    client.force_login(cast["customer"])  # customer role, no organisation
    assert client.get("/customers/mine/").status_code == 404
    assert client.get(f"/customers/{org_a.pk}/").status_code == 404


def test_own_card_hides_the_labs_notes_and_accounts(cast, client, org_a):
    from metrolab.customers.services import customer_update

    customer_update(customer=org_a, data={"notes": "内部备注"}, actor=cast["receptionist"])
    client.force_login(cast["customer_a"])
    page = client.get(f"/customers/{org_a.pk}/")
    html = page.content.decode()
    assert "张工" in html and "内部备注" not in html and page.context["accounts"] == []
    client.force_login(cast["receptionist"])
    page = client.get(f"/customers/{org_a.pk}/")
    assert "内部备注" in page.content.decode()
    assert [a.user for a in page.context["accounts"]] == [cast["customer_a"]]


def test_list_search_and_pagination(cast, client, org_a, org_b):
    from metrolab.customers.services import customer_create

    for n in range(30):
        customer_create(data={"code": f"Z{n:03d}", "name": f"客户{n}"}, actor=cast["admin"])
    client.force_login(cast["director"])
    first = client.get("/customers/")
    assert first.context["page"].paginator.count == 32 and len(first.context["page"]) == 25
    assert not first.context["can_edit"]
    second = client.get("/customers/", {"page": 2})
    assert len(second.context["page"]) == 7
    found = client.get("/customers/", {"q": "张工"})
    assert [c.code for c in found.context["page"]] == ["A001"]


def test_receptionist_registers_and_edits_a_customer(cast, client):
    client.force_login(cast["receptionist"])
    response = client.post(
        "/customers/new/",
        {"code": "N1", "name": "新客户", "settlement": "cash", "credit_limit": "0"},
    )
    customer = Customer.objects.get(code="N1")
    assert response["Location"] == f"/customers/{customer.pk}/"
    duplicate = client.post(
        "/customers/new/", {"code": "N1", "name": "重", "settlement": "cash", "credit_limit": "0"}
    )
    assert duplicate.status_code == 200 and "code" in duplicate.context["form"].errors
    response = client.post(
        f"/customers/{customer.pk}/edit/",
        {
            "code": "N1",
            "name": "新客户（改）",
            "settlement": "monthly",
            "credit_limit": "100",
            "active": "on",
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "新客户（改）" and customer.settlement == "monthly"


def test_contacts_and_portal_accounts_from_the_card(cast, client, org_a):
    client.force_login(cast["receptionist"])
    response = client.post(
        f"/customers/{org_a.pk}/contacts/new/",
        {"name": "周工", "phone": "13600000000", "email": "zhou@a.example", "notify_email": "on"},
    )
    assert response.status_code == 302
    contact = Contact.objects.get(name="周工")
    assert contact.customer == org_a and not contact.notify_sms and contact.notify_email
    response = client.post(
        f"/customers/contacts/{contact.pk}/portal-account/",
        {"username": "zhou", "password": "short"},
    )
    assert response.status_code == 200 and "password" in response.context["form"].errors
    response = client.post(
        f"/customers/contacts/{contact.pk}/portal-account/",
        {"username": "zhou", "password": "Portal-pass-2026"},
    )
    assert response.status_code == 302
    account = PortalAccount.objects.get(user__username="zhou")
    assert account.customer == org_a and account.contact == contact


def test_due_page_for_the_lab_and_for_the_customer(cast, client, org_a, org_b):
    today = timezone.localdate()
    Instrument.objects.create(
        customer=org_a, name="压力表", serial_no="A-due", next_due_date=today + dt.timedelta(days=5)
    )
    Instrument.objects.create(
        customer=org_a,
        name="压力表",
        serial_no="A-over",
        next_due_date=today - dt.timedelta(days=5),
    )
    Instrument.objects.create(
        customer=org_a,
        name="压力表",
        serial_no="A-later",
        next_due_date=today + dt.timedelta(days=90),
    )
    Instrument.objects.create(
        customer=org_b, name="流量计", serial_no="B-due", next_due_date=today + dt.timedelta(days=1)
    )
    client.force_login(cast["receptionist"])
    html = client.get("/customers/instruments/due/").content.decode()
    assert "A-due" in html and "A-over" in html and "B-due" in html and "A-later" not in html
    html = client.get("/customers/instruments/due/", {"customer": org_b.pk}).content.decode()
    assert "B-due" in html and "A-due" not in html
    client.force_login(cast["customer_a"])
    html = client.get("/customers/instruments/due/").content.decode()
    assert "A-due" in html and "A-over" in html and "B-due" not in html
    html = client.get("/customers/instruments/").content.decode()
    assert "A-later" in html and "B-due" not in html
    # A customer cannot widen the view to another customer
    html = client.get("/customers/instruments/", {"customer": org_b.pk}).content.decode()
    assert "B-due" not in html


def test_instrument_edit_sets_the_due_date(cast, client, org_a):
    instrument = Instrument.objects.create(customer=org_a, name="压力表", serial_no="E1")
    client.force_login(cast["receptionist"])
    response = client.post(
        f"/customers/instruments/{instrument.pk}/edit/",
        {"name": "压力表", "serial_no": "E1", "next_due_date": "2027-01-31"},
    )
    assert response.status_code == 302
    instrument.refresh_from_db()
    assert instrument.next_due_date == dt.date(2027, 1, 31)


def test_remove_a_mistaken_customer_but_keep_one_with_commissions(cast, client, org_a, pressure):
    from metrolab.commissions.services import commission_create
    from metrolab.customers.services import customer_create

    mistake = customer_create(data={"code": "X1", "name": "录错了"}, actor=cast["receptionist"])
    commission_create(
        customer=org_a,
        lines=[{"instrument_name": "压力表", "service": "calibration"}],
        channel="desk",
        actor=cast["receptionist"],
    )
    client.force_login(cast["receptionist"])
    assert client.get(f"/customers/{mistake.pk}/delete/").status_code == 405
    assert client.post(f"/customers/{mistake.pk}/delete/")["Location"] == "/customers/"
    assert not Customer.objects.filter(pk=mistake.pk).exists()
    kept = client.post(f"/customers/{org_a.pk}/delete/")
    assert kept["Location"] == f"/customers/{org_a.pk}/"
    assert Customer.objects.filter(pk=org_a.pk).exists()
    client.force_login(cast["customer_a"])
    assert client.post(f"/customers/{org_a.pk}/delete/").status_code == 403


def test_remove_a_contact_passes_on_the_primary_role(cast, client, org_a):
    from metrolab.customers.services import contact_create

    first = org_a.contacts.get()
    second = contact_create(customer=org_a, data={"name": "钱工"}, actor=cast["receptionist"])
    client.force_login(cast["receptionist"])
    assert client.post(f"/customers/contacts/{first.pk}/delete/").status_code == 302
    second.refresh_from_db()
    assert second.is_primary and not Contact.objects.filter(pk=first.pk).exists()
    account = PortalAccount.objects.get(user=cast["customer_a"])
    assert account.contact is None  # the account stays, without a contact
