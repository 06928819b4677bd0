"""`/api/v1/customers/...`: shapes and scoping (customer A never reads B: 404)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from metrolab.customers.models import Customer, Instrument

pytestmark = pytest.mark.django_db

BASE = "/api/v1/customers"


def test_staff_list_detail_and_create(cast, client, org_a, org_b):
    client.force_login(cast["receptionist"])
    listing = client.get(f"{BASE}/").json()
    assert listing["count"] == 2
    assert listing["items"][0] == {
        "id": org_a.pk,
        "code": "A001",
        "name": "示范制造有限公司",
        "credit_code": "",
        "address": "",
        "settlement": "cash",
        "active": True,
    }
    assert [c["code"] for c in client.get(f"{BASE}/", {"q": "水务"}).json()["items"]] == ["B001"]
    detail = client.get(f"{BASE}/{org_a.pk}").json()
    assert [c["name"] for c in detail["contacts"]] == ["张工"]
    assert detail["contacts"][0]["is_primary"] is True
    created = client.post(
        f"{BASE}/", {"code": "C1", "name": "新客户"}, content_type="application/json"
    )
    assert created.status_code == 201 and created.json()["contacts"] == []
    duplicate = client.post(
        f"{BASE}/", {"code": "C1", "name": "重复"}, content_type="application/json"
    )
    assert duplicate.status_code == 409  # a conflict (another record holds the code)
    assert duplicate.json()["error"]["details"] == [
        {"loc": ["code"], "message": duplicate.json()["error"]["message"]}
    ]
    assert Customer.objects.filter(code="C1").count() == 1


def test_customers_read_only_their_own(cast, client, org_a, org_b):
    client.force_login(cast["customer_a"])
    assert [c["code"] for c in client.get(f"{BASE}/").json()["items"]] == ["A001"]
    assert client.get(f"{BASE}/{org_a.pk}").status_code == 200
    other, missing = client.get(f"{BASE}/{org_b.pk}"), client.get(f"{BASE}/999999")
    assert other.status_code == missing.status_code == 404
    assert other.json()["error"] == missing.json()["error"]
    created = client.post(f"{BASE}/", {"code": "X", "name": "x"}, content_type="application/json")
    assert created.status_code == 403


def test_instruments_scoped_and_due(cast, client, org_a, org_b):
    today = timezone.localdate()
    Instrument.objects.create(
        customer=org_a, name="压力表", serial_no="A1", next_due_date=today + dt.timedelta(days=3)
    )
    Instrument.objects.create(customer=org_a, name="压力表", serial_no="A2")
    Instrument.objects.create(
        customer=org_b, name="流量计", serial_no="B1", next_due_date=today + dt.timedelta(days=3)
    )
    client.force_login(cast["customer_a"])
    mine = client.get(f"{BASE}/instruments").json()
    assert {i["serial_no"] for i in mine["items"]} == {"A1", "A2"}
    due = client.get(f"{BASE}/instruments", {"due": "true"}).json()
    assert [i["serial_no"] for i in due["items"]] == ["A1"]
    assert set(due["items"][0]) == {
        "id",
        "customer_id",
        "name",
        "model_range",
        "accuracy_class",
        "serial_no",
        "manufacturer",
        "last_service_date",
        "next_due_date",
    }
    assert client.get(f"{BASE}/instruments", {"customer_id": org_b.pk}).status_code == 404
    client.force_login(cast["metrologist"])
    everyone = client.get(f"{BASE}/instruments", {"due": "true"}).json()
    assert {i["serial_no"] for i in everyone["items"]} == {"A1", "B1"}
    client.force_login(cast["regulator"])
    assert client.get(f"{BASE}/instruments").status_code == 403
