"""One scoping rule for every list a customer's portal user sees (R4.3,
customers.selectors.restrict): their own organisation's commissions, items and instruments,
on the pages and through the API alike; the lab sees all of them."""

from __future__ import annotations

import datetime as dt

import pytest

from metrolab.customers.models import Instrument
from metrolab.customers.selectors import restrict
from metrolab.items.tests.fixtures import *  # noqa: F403  (customers, make_commission, receive)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_organisations(customers, make_commission, receive):
    """Customer A and customer B, each with a commission, a received item and an instrument."""
    rows = {}
    for key in ("a", "b"):
        commission = make_commission(key)
        item = receive(commission)
        instrument = Instrument.objects.create(
            customer=customers[key],
            name=f"Instrument {key.upper()}",
            next_due_date=dt.date.today() + dt.timedelta(days=10),
        )
        rows[key] = {"commission": commission, "item": item, "instrument": instrument}
    return rows


def _api(client, path):
    answer = client.get(f"/api/v1/{path}")
    assert answer.status_code == 200, answer.content
    return answer.json()


def _page(client, path) -> list:
    answer = client.get(path)
    assert answer.status_code == 200
    return list(answer.context["page"].object_list)


def test_a_portal_user_sees_only_their_own_organisation(client, cast, two_organisations):
    mine, theirs = two_organisations["a"], two_organisations["b"]
    client.force_login(cast["customer_a"])

    commissions = _api(client, "commissions/")
    assert [c["number"] for c in commissions["items"]] == [mine["commission"].number]
    assert commissions["count"] == 1
    assert _page(client, "/commissions/") == [mine["commission"]]

    items = _api(client, "items/")
    assert [i["number"] for i in items["items"]] == [mine["item"].number]
    assert _page(client, "/items/") == [mine["item"]]

    instruments = _api(client, "customers/instruments")
    assert [i["id"] for i in instruments["items"]] == [mine["instrument"].pk]
    assert _page(client, "/customers/instruments/") == [mine["instrument"]]
    assert _page(client, "/customers/instruments/due/") == [mine["instrument"]]

    # Another organisation's commission, named by its customer: nothing, or not found.
    customer_b = theirs["commission"].customer_id
    assert _api(client, f"commissions/?customer_id={customer_b}")["count"] == 0
    assert client.get("/commissions/", {"customer": customer_b}).status_code == 404
    assert client.get(f"/api/v1/customers/instruments?customer_id={customer_b}").status_code == 404


def test_the_lab_sees_every_organisation(client, cast, two_organisations):
    client.force_login(cast["receptionist"])
    assert _api(client, "commissions/")["count"] == 2
    assert _api(client, "items/")["count"] == 2
    assert _api(client, "customers/instruments")["count"] == 2
    assert len(_page(client, "/items/")) == 2


def test_restrict_is_the_one_rule(cast, two_organisations, customers):
    """Lab staff: all rows; a portal user: their organisation's; anyone else (a regulator, a
    customer account without an organisation): none."""
    rows = Instrument.objects.all()
    assert restrict(rows, cast["receptionist"], "customer").count() == 2
    assert list(restrict(rows, cast["customer_b"], "customer")) == [
        two_organisations["b"]["instrument"]
    ]
    assert restrict(rows, cast["regulator"], "customer").count() == 0
    assert restrict(rows, cast["customer"], "customer").count() == 0
    assert restrict(rows, None, "customer").count() == 0
