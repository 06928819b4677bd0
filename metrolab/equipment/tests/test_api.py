"""`/api/v1/equipment/`: who may read and who may edit (the equipment manager and the
administrator edit; the rest of the lab reads; customers, devices and anonymous callers are
refused), calibrations with points, check results, bookings, standards, and the RFID reader
posting locations with a real device token."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from metrolab.core.roles import LAB_STAFF
from metrolab.equipment.models import Booking, Equipment, EquipmentCalibration, LocationEvent
from metrolab.equipment.tests.conftest import days, nothing_written

pytestmark = pytest.mark.django_db

BASE = "/api/v1/equipment"
EDITORS = {"equipment_manager", "admin"}
READ_ONLY = set(LAB_STAFF) - EDITORS
OUTSIDERS = {"customer_a", "customer", "regulator", "device"}


def post(client, url, data, **kw):
    return client.post(url, data, content_type="application/json", **kw)


def test_the_lab_reads_outsiders_are_refused(client, cast, gauge, calibrate):
    calibrate(gauge, points=[("10", "MPa", "0.004", "0.003", "2")])
    for name, user in cast.items():
        client.force_login(user)
        listing = client.get(f"{BASE}/")
        detail = client.get(f"{BASE}/{gauge.pk}")
        expected = 200 if name in LAB_STAFF else 403
        assert (listing.status_code, detail.status_code) == (expected, expected), name
    client.logout()
    assert client.get(f"{BASE}/").status_code == 401
    client.force_login(cast["checker"])
    body = client.get(f"{BASE}/{gauge.pk}").json()
    assert body["asset_no"] == "EQ-001" and body["status_colour"] == "green"
    assert body["calibration"]["state"] == "ok"
    assert body["calibrations"][0]["points"][0]["unit"] == "MPa"
    listing = client.get(f"{BASE}/", {"q": "EQ-0", "limit": 10}).json()["items"]
    assert [e["asset_no"] for e in listing] == ["EQ-001"]


def test_only_editors_create_update_and_change_status(client, cast, pressure_discipline):
    data = {
        "asset_no": "EQ-API",
        "name": "精密数字压力计",
        "discipline": "P",
        "custodian": "metrologist",
        "rfid_uid": "e2:00:99:01",
        "location": "压力室",
    }
    for name in [*sorted(READ_ONLY), *sorted(OUTSIDERS)]:
        client.force_login(cast[name])
        with nothing_written():
            assert post(client, f"{BASE}/", data).status_code == 403, name
    client.logout()
    assert post(client, f"{BASE}/", data).status_code == 401

    client.force_login(cast["equipment_manager"])
    created = post(client, f"{BASE}/", data)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["discipline"], body["custodian"], body["rfid_uid"]) == (
        "P",
        "metrologist",
        "E2009901",
    )
    assert body["location"] == "压力室"
    pk = body["id"]
    assert post(client, f"{BASE}/", data).status_code == 409  # the asset no. is taken
    bad = post(client, f"{BASE}/", {**data, "asset_no": "EQ-2", "discipline": "XX"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["loc"] == ["discipline"]

    client.force_login(cast["metrologist"])
    assert (
        client.patch(f"{BASE}/{pk}", {"name": "x"}, content_type="application/json").status_code
        == 403
    )
    assert (
        post(client, f"{BASE}/{pk}/status", {"status": "limited", "reason": "r"}).status_code == 403
    )

    client.force_login(cast["admin"])
    patched = client.patch(f"{BASE}/{pk}", {"model": "DPI 620"}, content_type="application/json")
    assert patched.status_code == 200
    assert patched.json()["model"] == "DPI 620" and patched.json()["name"] == "精密数字压力计"
    no_reason = post(client, f"{BASE}/{pk}/status", {"status": "limited", "reason": ""})
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "invalid"
    limited = post(client, f"{BASE}/{pk}/status", {"status": "limited", "reason": "部分量程"})
    assert limited.status_code == 200 and limited.json()["status_colour"] == "yellow"


def test_calibrations_and_their_confirmation(client, cast, gauge):
    payload = {
        "certificate_no": "JL2026-0001",
        "body": "省计量院",
        "date": days(-3).isoformat(),
        "due_date": days(362).isoformat(),
        "points": [
            {"nominal": "0", "unit": "MPa", "correction": "0", "expanded_uncertainty": "0.002"},
            {
                "nominal": "10",
                "unit": "MPa",
                "correction": "0.004",
                "expanded_uncertainty": "0.003",
                "coverage_factor": "2",
            },
        ],
    }
    client.force_login(cast["quality_manager"])
    with nothing_written():
        assert post(client, f"{BASE}/{gauge.pk}/calibrations", payload).status_code == 403
    client.force_login(cast["equipment_manager"])
    made = post(client, f"{BASE}/{gauge.pk}/calibrations", payload)
    assert made.status_code == 201
    assert len(made.json()["points"]) == 2 and made.json()["confirmed"] is False
    assert post(client, f"{BASE}/{gauge.pk}/calibrations", payload).status_code == 409
    wrong = post(
        client,
        f"{BASE}/{gauge.pk}/calibrations",
        {**payload, "certificate_no": "JL-2", "due_date": days(-4).isoformat()},
    )
    assert wrong.status_code == 422
    pk = made.json()["id"]
    client.force_login(cast["metrologist"])
    assert post(client, f"{BASE}/calibrations/{pk}/confirm", {"note": "ok"}).status_code == 403
    client.force_login(cast["equipment_manager"])
    confirmed = post(client, f"{BASE}/calibrations/{pk}/confirm", {"note": "满足 0.02 级要求"})
    assert confirmed.status_code == 200 and confirmed.json()["confirmed"] is True
    assert post(client, f"{BASE}/calibrations/{pk}/confirm", {"note": "x"}).status_code == 409
    assert EquipmentCalibration.objects.get().confirmed_by == cast["equipment_manager"]


def test_check_results(client, cast, plan):
    url = f"{BASE}/plans/{plan.pk}/results"
    client.force_login(cast["checker"])
    assert post(client, url, {"date": days(0).isoformat(), "value": "10"}).status_code == 403
    client.force_login(cast["metrologist"])
    result = post(client, url, {"date": days(0).isoformat(), "value": "9.969"})
    assert result.status_code == 201
    assert result.json()["passed"] is False and result.json()["rules_broken"] == [1]
    assert "test 1" in result.json()["rules_text"]
    assert (
        post(
            client, f"{BASE}/plans/999999/results", {"date": days(0).isoformat(), "value": "1"}
        ).status_code
        == 404
    )


def test_a_reader_posts_locations_with_its_device_token(client, cast, gauge, reader_token):
    _reader, raw = reader_token
    auth = {"Authorization": f"Bearer {raw}"}
    seen = post(
        client,
        f"{BASE}/location",
        {"uid": "e2-00-00-01", "location": "压力室 Zone 2", "reader": "gate-2"},
        headers=auth,
    )
    assert seen.status_code == 200, seen.json()
    assert seen.json() == {
        **seen.json(),
        "asset_no": "EQ-001",
        "location": "压力室 Zone 2",
        "source": "reader",
        "reader": "gate-2",
    }
    gauge.refresh_from_db()
    assert gauge.location == "压力室 Zone 2"
    event = LocationEvent.objects.get(equipment=gauge, source="reader")
    assert event.by.username == "zone-reader-1"
    with nothing_written():
        unknown = post(
            client,
            f"{BASE}/location",
            {"uid": "DEADBEEF", "location": "x", "reader": "gate-2"},
            headers=auth,
        )
    assert unknown.status_code == 404
    error = unknown.json()["error"]
    assert error["code"] == "not_found" and "DEADBEEF" in error["message"]
    assert set(unknown.json()) == {"error", "request_id"}
    # The device may post locations, not read or edit the register.
    assert client.get(f"{BASE}/", headers=auth).status_code == 403
    assert post(client, f"{BASE}/", {"asset_no": "X", "name": "X"}, headers=auth).status_code == 403
    # A bad token is not a reader.
    assert (
        post(
            client,
            f"{BASE}/location",
            {"uid": "E2000001", "location": "x", "reader": "g"},
            headers={"Authorization": "Bearer mlt_bad_token"},
        ).status_code
        == 401
    )


def test_lab_staff_post_locations_customers_do_not(client, cast, gauge):
    body = {"uid": "E2000001", "location": "库房", "reader": "phone"}
    client.force_login(cast["customer_a"])
    assert post(client, f"{BASE}/location", body).status_code == 403
    client.force_login(cast["item_keeper"])
    assert post(client, f"{BASE}/location", body).status_code == 200


def test_bookings_api(client, cast, gauge):
    start = timezone.make_aware(dt.datetime.combine(days(2), dt.time(9)))
    data = {
        "equipment": gauge.pk,
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
        "purpose": "检定",
    }
    client.force_login(cast["customer_a"])
    assert post(client, f"{BASE}/bookings", data).status_code == 403
    client.force_login(cast["checker"])
    made = post(client, f"{BASE}/bookings", data)
    assert made.status_code == 201 and made.json()["asset_no"] == "EQ-001"
    clash = post(
        client,
        f"{BASE}/bookings",
        {
            **data,
            "starts_at": (start + dt.timedelta(hours=1)).isoformat(),
            "ends_at": (start + dt.timedelta(hours=3)).isoformat(),
        },
    )
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "conflict"
    listing = client.get(f"{BASE}/bookings", {"equipment": gauge.pk})
    assert [b["id"] for b in listing.json()["items"]] == [made.json()["id"]]
    client.force_login(cast["metrologist"])
    assert post(client, f"{BASE}/bookings/{made.json()['id']}/cancel", {}).status_code == 403
    client.force_login(cast["checker"])
    assert post(client, f"{BASE}/bookings/{made.json()['id']}/cancel", {}).status_code == 200
    assert Booking.objects.get().cancelled


def test_standards_api(client, cast, gauge):
    data = {
        "name": "0.05 级活塞式压力计标准装置",
        "certificate_no": "[2023]浙量标证字第1号",
        "certificate_expiry": days(400).isoformat(),
        "measurands": "压力",
        "range_text": "(0.1–6) MPa",
        "equipment": [gauge.pk],
    }
    client.force_login(cast["metrologist"])
    assert post(client, f"{BASE}/standards", data).status_code == 403
    client.force_login(cast["equipment_manager"])
    assert post(client, f"{BASE}/standards", {**data, "equipment": [999999]}).status_code == 422
    made = post(client, f"{BASE}/standards", data)
    assert made.status_code == 201 and made.json()["equipment"] == [gauge.pk]
    client.force_login(cast["quality_manager"])
    listing = client.get(f"{BASE}/standards").json()["items"]
    assert [s["name"] for s in listing] == [data["name"]]
    detail = client.get(f"{BASE}/standards/{made.json()['id']}").json()
    assert detail["certificate_state"] == "ok" and detail["url"].startswith("/equipment/")
    assert client.get(f"{BASE}/standards/999999").status_code == 404
    assert Equipment.objects.get().standards.count() == 1
