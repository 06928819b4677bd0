"""`/api/v1/commissions/...`: shapes, permissions (customer A never reads B's: 404), creation
through the API for the lab and for customers, review, cancellation, and the public status
query (right code, wrong code, wrong number, rate limit)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from metrolab.commissions.models import Commission
from metrolab.commissions.services import commission_create, commission_review

pytestmark = pytest.mark.django_db

BASE = "/api/v1/commissions"
LINE = {"instrument_name": "压力表", "service": "calibration", "quantity": 2}


def post(client, path, data, **headers):
    return client.post(f"{BASE}{path}", data, content_type="application/json", **headers)


@pytest.fixture
def mine(cast, org_a, slot):
    return commission_create(
        customer=org_a, lines=[LINE], channel="portal", slot=slot, actor=cast["customer_a"]
    )


@pytest.fixture
def theirs(cast, org_b, slot):
    return commission_create(
        customer=org_b, lines=[LINE], channel="portal", slot=slot, actor=cast["customer_b"]
    )


def test_detail_shape(cast, client, mine):
    client.force_login(cast["receptionist"])
    body = client.get(f"{BASE}/{mine.pk}").json()
    assert set(body) == {
        "id",
        "number",
        "customer",
        "contact",
        "channel",
        "status",
        "review",
        "review_note",
        "reviewed_at",
        "slot",
        "query_code",
        "promised_date",
        "requirements",
        "quote_total",
        "created_at",
        "lines",
        "nodes",
    }
    assert body["number"] == mine.number and body["channel"] == "portal"
    assert body["customer"] == {"id": mine.customer_id, "code": "A001", "name": "示范制造有限公司"}
    assert body["contact"]["name"] == "张工"
    assert body["slot"]["discipline"] == {"code": "P", "name": "压力"}
    assert body["quote_total"] == "160.00"
    [line] = body["lines"]
    assert line["unit_price"] == "80.00" and line["amount"] == "160.00" and line["quantity"] == 2
    assert [n["status"] for n in body["nodes"]] == [
        "applied",
        "items_received",
        "tasks_assigned",
        "testing",
        "certificate_issued",
        "completed",
    ]
    assert body["nodes"][0]["at"] is not None and body["nodes"][1]["at"] is None


def test_customers_see_only_their_own(cast, client, mine, theirs):
    client.force_login(cast["customer_a"])
    listing = client.get(f"{BASE}/").json()
    assert listing["count"] == 1 and [c["number"] for c in listing["items"]] == [mine.number]
    assert client.get(f"{BASE}/{mine.pk}").status_code == 200
    response = client.get(f"{BASE}/{theirs.pk}")
    missing = client.get(f"{BASE}/999999")
    assert response.status_code == missing.status_code == 404
    assert response.json()["error"] == missing.json()["error"]
    assert client.get(f"{BASE}/", {"customer_id": theirs.customer_id}).json()["count"] == 0
    assert post(client, f"/{theirs.pk}/cancel", {"reason": "x"}).status_code == 404
    assert Commission.objects.get(pk=theirs.pk).status == "applied"


def test_roles_without_access(cast, client, mine):
    for username in ("regulator", "device"):
        client.force_login(cast[username])
        assert client.get(f"{BASE}/").status_code == 403
        assert client.get(f"{BASE}/{mine.pk}").status_code == 403
    client.force_login(cast["metrologist"])
    response = post(client, f"/{mine.pk}/review", {"decision": "accepted"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_staff_list_filters_and_paginates(cast, client, mine, theirs):
    client.force_login(cast["director"])
    assert client.get(f"{BASE}/").json()["count"] == 2
    by_customer = client.get(f"{BASE}/", {"customer_id": mine.customer_id}).json()
    assert [c["number"] for c in by_customer["items"]] == [mine.number]
    commission_review(commission=theirs, decision="accepted", actor=cast["director"])
    accepted = client.get(f"{BASE}/", {"review": "accepted"}).json()
    assert [c["number"] for c in accepted["items"]] == [theirs.number]
    page = client.get(f"{BASE}/", {"limit": 1, "offset": 1}).json()
    assert page["count"] == 2 and len(page["items"]) == 1
    today = timezone.localdate()
    later = client.get(f"{BASE}/", {"date_from": (today + dt.timedelta(days=1)).isoformat()})
    assert later.json()["count"] == 0
    assert client.get(f"{BASE}/", {"q": "示范水务"}).json()["count"] == 1


def test_a_customer_applies_through_the_api(cast, client, org_a, slot):
    client.force_login(cast["customer_a"])
    slots = client.get(f"{BASE}/slots").json()["items"]
    assert slots == [
        {
            "id": slot.pk,
            "date": slot.date.isoformat(),
            "period": "am",
            "discipline": {"code": "P", "name": "压力"},
            "capacity": 2,
            "remaining": 2,
        }
    ]
    quote = post(client, "/quote", {"slot_id": slot.pk, "lines": [LINE]}).json()
    assert quote["total"] == "160.00" and quote["complete"] is True
    response = post(client, "/", {"slot_id": slot.pk, "lines": [LINE, {**LINE, "quantity": 1}]})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["channel"] == "portal" and body["quote_total"] == "240.00"
    assert body["customer"]["code"] == "A001" and len(body["query_code"]) == 8
    assert client.get(f"{BASE}/slots").json()["items"][0]["remaining"] == 1


def test_customer_api_refusals(cast, client, org_a, org_b, slot):
    client.force_login(cast["customer_a"])
    count = Commission.objects.count()
    other = post(client, "/", {"customer_id": org_b.pk, "slot_id": slot.pk, "lines": [LINE]})
    assert other.status_code == 404
    no_slot = post(client, "/", {"lines": [LINE]})
    assert no_slot.status_code == 422 and no_slot.json()["error"]["details"][0]["loc"] == ["slot"]
    desk = post(client, "/", {"channel": "desk", "slot_id": slot.pk, "lines": [LINE]})
    assert desk.status_code == 403 and desk.json()["error"]["code"] == "forbidden"
    bad = post(client, "/", {"slot_id": slot.pk, "lines": [{**LINE, "service": "repair"}]})
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert "unknown service" in error["message"] and error["details"][0]["loc"] == [
        "lines.0.service"
    ]
    zero = post(client, "/", {"slot_id": slot.pk, "lines": [{**LINE, "quantity": 0}]})
    assert zero.status_code == 422 and "at least 1" in zero.json()["error"]["message"]
    # 2⁶³ overflowed the database column: a server error, not a refusal.
    for huge in (2**63, 100_001):
        response = post(client, "/", {"slot_id": slot.pk, "lines": [{**LINE, "quantity": huge}]})
        assert response.status_code == 422, response.content
        assert response.json()["error"]["details"][0]["loc"] == ["lines.0.quantity"]
    assert Commission.objects.count() == count


def test_full_slot_through_the_api(cast, client, org_a, slot):
    slot.capacity = 1
    slot.save()
    client.force_login(cast["customer_a"])
    assert post(client, "/", {"slot_id": slot.pk, "lines": [LINE]}).status_code == 201
    full = post(client, "/", {"slot_id": slot.pk, "lines": [LINE]})
    assert full.status_code == 409 and full.json()["error"]["code"] == "slot_full"


def test_desk_creation_review_and_cancel(cast, client, org_a, pressure):
    client.force_login(cast["receptionist"])
    missing = post(client, "/", {"lines": [LINE]})
    assert missing.status_code == 422
    contact = org_a.contacts.get()
    created = post(
        client,
        "/",
        {
            "customer_id": org_a.pk,
            "contact_id": contact.pk,
            "requirements": "加急",
            "lines": [{**LINE, "serial_no": "SN-9"}],
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert body["channel"] == "desk" and body["contact"]["id"] == contact.pk
    assert body["lines"][0]["instrument_id"] is not None  # joined the instrument register
    pk = body["id"]
    rejected = post(client, f"/{pk}/review", {"decision": "rejected"})
    assert rejected.status_code == 422 and "reason" in rejected.json()["error"]["message"]
    accepted = post(client, f"/{pk}/review", {"decision": "accepted", "note": "附条件"})
    assert accepted.status_code == 200
    assert accepted.json()["review"] == "accepted" and accepted.json()["review_note"] == "附条件"
    again = post(client, f"/{pk}/review", {"decision": "accepted"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    cancelled = post(client, f"/{pk}/cancel", {"reason": "客户撤回"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["nodes"][-1]["status"] == "cancelled"


def test_arrivals_for_the_desk(cast, client, org_a, pressure, lab_clock):
    from metrolab.commissions.models import AppointmentSlot

    lab_clock(9)  # this afternoon's slot is ahead

    today = AppointmentSlot.objects.create(
        discipline=pressure, date=timezone.localdate(), period="pm", capacity=5
    )
    booked = commission_create(
        customer=org_a, lines=[LINE], channel="desk", slot=today, actor=cast["receptionist"]
    )
    commission_create(customer=org_a, lines=[LINE], channel="desk", actor=cast["receptionist"])
    client.force_login(cast["receptionist"])
    assert [c["number"] for c in client.get(f"{BASE}/arrivals").json()["items"]] == [booked.number]
    client.force_login(cast["customer_a"])
    assert client.get(f"{BASE}/arrivals").status_code == 403


def test_a_token_acts_with_its_roles(cast, client, mine):
    from metrolab.core.services import api_token_create

    _token, raw = api_token_create(
        user=cast["customer_a"], name="erp", roles=["customer"], actor=cast["customer_a"]
    )
    listing = client.get(f"{BASE}/", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert [c["number"] for c in listing["items"]] == [mine.number]


# --- public status query ----------------------------------------------------------------------


def status(client, number, code, **headers):
    return client.get(f"/api/v1/public/commissions/{number}/status", {"code": code}, **headers)


def test_public_status_shows_only_the_nodes(client, mine):
    response = status(client, mine.number, mine.query_code.lower())
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "number",
        "status",
        "status_label",
        "expected_completion",
        "nodes",
        "items",
    }
    assert (body["expected_completion"], body["items"]) == (None, [])
    assert body["number"] == mine.number and body["status"] == "applied"
    assert [(n["status"], bool(n["at"])) for n in body["nodes"]] == [("applied", True)]
    assert set(body["nodes"][0]) == {"status", "label", "at"}
    assert "示范" not in response.content.decode()  # nothing about the customer


def test_wrong_code_and_wrong_number_look_the_same(client, mine):
    wrong_code = status(client, mine.number, "AAAAAAAA")
    wrong_number = status(client, "WT1999-000001", mine.query_code)
    no_code = client.get(f"/api/v1/public/commissions/{mine.number}/status")
    for response in (wrong_code, wrong_number, no_code):
        assert response.status_code == 404
        assert response.json()["error"] == wrong_code.json()["error"]
        assert response.json()["error"]["code"] == "not_found"


def test_public_status_is_rate_limited_per_address(client, mine):
    for _ in range(10):
        assert status(client, mine.number, "WRONG").status_code == 404
    limited = status(client, mine.number, mine.query_code)
    assert limited.status_code == 429
    body = limited.json()
    assert set(body) == {"error", "request_id"} and body["error"]["code"] == "throttled"
    other = status(client, mine.number, mine.query_code, REMOTE_ADDR="10.0.0.8")
    assert other.status_code == 200


# --- text limits (R7.2) ---------------------------------------------------------------------


def test_a_10000_character_line_requirement_is_refused_whole(cast, client, org_a, pressure):
    """特殊要求 of 10 000 characters: 422 naming the field and the limit, nothing created, and
    nothing copied into the audit log."""
    from metrolab.core.models import AuditEvent
    from metrolab.core.text import NOTE
    from metrolab.customers.models import Instrument

    client.force_login(cast["receptionist"])
    events = AuditEvent.objects.count()
    line = {**LINE, "serial_no": "SN-1", "requirements": "要" * 10_000}
    refused = post(client, "/", {"customer_id": org_a.pk, "lines": [line]})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "invalid"
    [detail] = error["details"]
    assert detail["loc"] == ["body", "data", "lines", "0", "requirements"]
    assert detail["type"] == "string_too_long"
    assert detail["message"] == f"String should have at most {NOTE} characters"
    assert not Commission.objects.exists() and not Instrument.objects.exists()
    assert AuditEvent.objects.count() == events
    # The quote refuses it the same way; exactly the limit is kept whole.
    assert post(client, "/quote", {"lines": [line]}).status_code == 422
    line["requirements"] = "要" * NOTE
    created = post(client, "/", {"customer_id": org_a.pk, "lines": [line]})
    assert created.status_code == 201
    assert created.json()["lines"][0]["requirements"] == "要" * NOTE


def test_a_10000_character_commission_requirement_is_refused(cast, client, org_a, pressure):
    """The commission's own requirements were stored whole (and audited) at any length."""
    from metrolab.core.models import AuditEvent
    from metrolab.core.text import NOTE

    client.force_login(cast["receptionist"])
    events = AuditEvent.objects.count()
    refused = post(
        client, "/", {"customer_id": org_a.pk, "requirements": "x" * 10_000, "lines": [LINE]}
    )
    assert refused.status_code == 422
    [detail] = refused.json()["error"]["details"]
    assert detail["loc"] == ["body", "data", "requirements"]
    assert detail["message"] == f"String should have at most {NOTE} characters"
    assert not Commission.objects.exists()
    assert AuditEvent.objects.count() == events


def test_services_refuse_long_text_instead_of_cutting_it(cast, org_a, pressure):
    """The service itself refuses (pages, API, tasks and the CLI share it): the line's
    requirements, the commission's, and a cancellation's reason, which was cut to 300."""
    from metrolab.commissions.models import StatusEvent
    from metrolab.commissions.services import commission_cancel
    from metrolab.core.service import ServiceError
    from metrolab.core.text import NOTE, SHORT_TEXT

    desk = {"customer": org_a, "channel": "desk", "actor": cast["receptionist"]}
    with pytest.raises(ServiceError) as line:
        commission_create(lines=[{**LINE, "requirements": "x" * 10_000}], **desk)
    assert line.value.field == "lines.0.requirements"
    assert line.value.message == (
        f"Line 1: Special requirements: at most {NOTE} characters (10000 given)."
    )
    with pytest.raises(ServiceError) as own:
        commission_create(lines=[LINE], requirements="x" * 10_000, **desk)
    assert own.value.field == "requirements"
    assert own.value.message == f"Special requirements: at most {NOTE} characters (10000 given)."
    assert not Commission.objects.exists()
    commission = commission_create(lines=[LINE], **desk)
    with pytest.raises(ServiceError) as cancel:
        commission_cancel(commission=commission, reason="y" * 1000, actor=cast["receptionist"])
    assert cancel.value.field == "reason"
    assert cancel.value.message == (
        f"Reason for the cancellation: at most {SHORT_TEXT} characters (1000 given)."
    )
    commission.refresh_from_db()
    assert commission.status == "applied"
    assert not StatusEvent.objects.filter(commission=commission, status="cancelled").exists()
