"""Customer services (R6.1a, R9.1): customers, contacts, portal accounts and the instrument
register; refusals change nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from metrolab.core.models import AuditEvent, User
from metrolab.core.permissions import SYSTEM
from metrolab.core.service import ServiceError
from metrolab.core.testing import nothing_written
from metrolab.customers.selectors import customer_list, portal_customer, portal_users
from metrolab.customers.services import (
    contact_create,
    contact_update,
    customer_create,
    customer_update,
    instrument_register,
    instrument_served,
    portal_account_create,
    portal_account_link,
)

pytestmark = pytest.mark.django_db


def test_customer_create_and_update_are_audited(cast):
    customer = customer_create(
        data={"code": "C9", "name": " 某公司 ", "settlement": "monthly", "credit_limit": "5000"},
        actor=cast["receptionist"],
    )
    assert customer.name == "某公司" and customer.settlement == "monthly"
    customer_update(
        customer=customer, data={"address": "科技路 1 号"}, actor=cast["admin"], reason="搬迁"
    )
    customer.refresh_from_db()
    assert customer.address == "科技路 1 号" and customer.name == "某公司"
    event = AuditEvent.objects.filter(action="customer.update").last()
    assert event.actor_label == "admin" and event.reason == "搬迁"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": "A001", "name": "重复"}, "already exists"),
        ({"code": "", "name": "无代码"}, "cannot be blank"),
        ({"code": "Z1", "name": "x", "settlement": "barter"}, "not a valid choice"),
        ({"code": "Z1", "name": "x", "colour": "red"}, "Unknown field"),
    ],
)
def test_bad_customer_input_is_refused(cast, org_a, data, message):
    with nothing_written("customers", User), pytest.raises(ServiceError, match=message):
        customer_create(data=data, actor=cast["receptionist"])


def test_one_primary_contact(cast, org_a):
    first = org_a.contacts.get()
    assert first.is_primary  # the first contact of a customer
    second = contact_create(
        customer=org_a, data={"name": "赵工", "is_primary": True}, actor=cast["receptionist"]
    )
    first.refresh_from_db()
    assert second.is_primary and not first.is_primary
    contact_update(contact=first, data={"is_primary": True}, actor=cast["receptionist"])
    second.refresh_from_db()
    assert not second.is_primary
    with pytest.raises(ServiceError, match="valid email"):
        contact_update(contact=first, data={"email": "not-mail"}, actor=cast["receptionist"])


def test_portal_account_for_a_contact(cast, org_a, client):
    contact = org_a.contacts.get()
    account = portal_account_create(
        contact=contact, username="zhang-a", password="Portal-pass-2026", actor=cast["receptionist"]
    )
    user = account.user
    assert user.role_codes == {"customer"} and not user.is_staff
    assert user.display_name == "张工" and user.email == "zhang@a.example"
    assert portal_customer(user) == org_a
    assert set(portal_users(org_a)) == {cast["customer_a"], user}
    assert client.login(username="zhang-a", password="Portal-pass-2026")
    assert client.get("/commissions/").status_code == 200


def test_portal_account_refusals(cast, org_a, org_b):
    contact = org_a.contacts.get()
    # A member of the lab staff who also holds the customer role (given before the refusals).
    staff = cast["receptionist"]
    staff.groups.add(*cast["customer_a"].groups.all())
    staff.__dict__.pop("_role_codes", None)
    with nothing_written("customers", User):
        with pytest.raises(ServiceError, match="exists already"):
            portal_account_create(
                contact=contact, username="customer_b", password="Portal-pass-2026", actor=SYSTEM
            )
        with pytest.raises(ServiceError, match="too short"):
            portal_account_create(
                contact=contact, username="new-one", password="short", actor=SYSTEM
            )
        with pytest.raises(ServiceError, match="Lab staff"):
            portal_account_link(user=staff, customer=org_a, actor=SYSTEM)
        with pytest.raises(ServiceError, match="customer role"):
            portal_account_link(user=cast["metrologist"], customer=org_a, actor=SYSTEM)
        with pytest.raises(ServiceError, match="already"):
            portal_account_link(user=cast["customer_a"], customer=org_b, actor=SYSTEM)
        with pytest.raises(ServiceError, match="another customer"):
            portal_account_link(
                user=cast["customer"], customer=org_b, contact=contact, actor=SYSTEM
            )


def test_selectors_scope_customers(cast, org_a, org_b):
    assert set(customer_list(user=cast["receptionist"])) == {org_a, org_b}
    assert list(customer_list(user=cast["customer_a"])) == [org_a]
    assert list(customer_list(user=cast["customer"])) == []  # no organisation linked
    assert list(customer_list(user=cast["regulator"])) == []
    assert list(customer_list(user=cast["receptionist"], search="13900000002")) == [org_b]


def test_instrument_register_and_service_dates(cast, org_a):
    instrument = instrument_register(customer=org_a, name="压力表", serial_no="S1", actor=SYSTEM)
    assert (
        instrument_register(customer=org_a, name="压力表", serial_no=" s1 ", actor=SYSTEM)
        == instrument
    )
    assert instrument_register(customer=org_a, name="压力表", serial_no="", actor=SYSTEM) is None
    other = instrument_register(customer=org_a, name="温度计", serial_no="S1", actor=SYSTEM)
    assert other != instrument  # same serial no., another instrument
    served = dt.date(2026, 3, 1)
    instrument_served(
        instrument=instrument, served_on=served, next_due_date=dt.date(2027, 3, 1), actor=SYSTEM
    )
    instrument.refresh_from_db()
    assert instrument.last_service_date == served and instrument.next_due_date.year == 2027
    with pytest.raises(ServiceError, match="after the service date"):
        instrument_served(
            instrument=instrument, served_on=served, next_due_date=served, actor=SYSTEM
        )
