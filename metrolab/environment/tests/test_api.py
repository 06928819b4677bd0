"""The environment API with real tokens and sessions: devices report readings (401 without a
token, 403 for others), partial rejection with HTTP 200, batch limits, room status, series."""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal

import pytest
from django.utils import timezone

from metrolab.environment.models import IngestCounter, Reading

pytestmark = pytest.mark.django_db

URL = "/api/v1/environment/readings"


@pytest.fixture
def reporter(make_device):
    """The device account probe-1 and its raw token."""
    return make_device()


@pytest.fixture
def probe(room, make_sensor, reporter):
    """T-1, bound to probe-1 (a device reports only for its own sensors)."""
    return make_sensor("T-1", room, correction=Decimal("-0.5"), device=reporter[0])


def post(client, body, raw=None):
    headers = {"Authorization": f"Bearer {raw}"} if raw else {}
    return client.post(URL, body, content_type="application/json", headers=headers)


def test_a_device_reports_a_batch_with_one_bad_item(client, probe, reporter):
    device, raw = reporter
    now = timezone.now().replace(microsecond=0)
    body = {
        "readings": [
            {"sensor": "T-1", "time": (now - dt.timedelta(seconds=60)).isoformat(), "value": 20.5},
            {"sensor": "T-1", "time": now.isoformat(), "value": "NaN"},
            {"sensor": "T-9", "time": now.isoformat(), "value": 20},
            {"sensor": "T-1", "time": now.timestamp(), "value": 21},
        ]
    }
    response = post(client, body, raw)
    assert response.status_code == 200
    assert response.json() == {
        "stored": 2,
        "rejected": [
            {
                "index": 1,
                "sensor": "T-1",
                "code": "bad_value",
                "message": "The value must be a finite number.",
            },
            {
                "index": 2,
                "sensor": "T-9",
                "code": "unknown_sensor",
                "message": "No sensor has the code 'T-9'.",
            },
        ],
    }
    assert sorted(Reading.objects.values_list("value", flat=True)) == [20.5, 21.0]
    counter = IngestCounter.objects.get(device=device, channel="http")
    assert (counter.accepted, counter.rejected) == (2, 2)


def test_no_token_is_401_and_other_roles_are_403(client, probe, cast, login):
    body = {"readings": []}
    assert post(client, body).status_code == 401
    assert post(client, body, "mlt_abcd_not-a-token").status_code == 401
    login(cast["customer_a"])
    assert client.post(URL, body, content_type="application/json").status_code == 403
    login(cast["metrologist"])
    assert client.post(URL, body, content_type="application/json").status_code == 403
    login(cast["admin"])
    assert client.post(URL, body, content_type="application/json").status_code == 200
    assert not Reading.objects.exists()


def test_not_the_shape_is_422(client, probe, reporter):
    _, raw = reporter
    for body in ({}, {"readings": "T-1 20.0"}, [{"sensor": "T-1"}], {"readings": {"a": 1}}):
        response = post(client, body, raw)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "invalid"
    assert not IngestCounter.objects.exists()


def test_a_large_batch_and_the_limit(client, room, make_sensor, reporter):
    device, raw = reporter
    for n in range(10):
        make_sensor(f"S-{n}", room, device=device)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)
    readings = [
        {
            "sensor": f"S-{i % 10}",
            "time": (start + dt.timedelta(seconds=i // 10)).isoformat(),
            "value": 20 + (i % 7) / 10,
        }
        for i in range(10_000)
    ]
    response = post(client, {"readings": readings}, raw)
    assert response.status_code == 200
    assert response.json() == {"stored": 10_000, "rejected": []}
    assert Reading.objects.count() == 10_000
    too_many = post(client, {"readings": [*readings, readings[0]]}, raw)
    assert too_many.status_code == 413
    assert Reading.objects.count() == 10_000


def test_rooms_and_status(client, room, probe, reporter, cast, login):
    _, raw = reporter
    now = timezone.now()
    post(client, {"readings": [{"sensor": "T-1", "time": now.isoformat(), "value": 26.0}]}, raw)
    auth = {"Authorization": f"Bearer {raw}"}
    rooms = client.get("/api/v1/environment/rooms", headers=auth)
    assert rooms.status_code == 200
    assert rooms.json()["items"] == [
        {
            "id": room.pk,
            "code": "TL-1",
            "name": "Temperature lab",
            "kind": "lab",
            "kind_label": str(room.get_kind_display()),
            "sensors": 1,
        }
    ]
    status = client.get(f"/api/v1/environment/rooms/{room.pk}/status", headers=auth)
    assert status.status_code == 200
    body = status.json()
    assert body["alarms"] == []
    assert body["sensors"][0]["value"] == 25.5  # corrected by -0.5
    assert body["sensors"][0]["stale"] is False
    verdicts = {r["quantity"]: r["verdict"] for r in body["requirements"]}
    assert verdicts == {"temperature": "outside", "humidity": "no_data"}
    assert client.get("/api/v1/environment/rooms/999999/status", headers=auth).status_code == 404
    login(cast["metrologist"])
    assert client.get(f"/api/v1/environment/rooms/{room.pk}/status").status_code == 200
    login(cast["customer_a"])
    assert client.get("/api/v1/environment/rooms").status_code == 403
    assert client.get(f"/api/v1/environment/rooms/{room.pk}/status").status_code == 403


def test_series(client, probe, reporter, cast, login):
    _, raw = reporter
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    post(
        client,
        {
            "readings": [
                {
                    "sensor": "T-1",
                    "time": (start + dt.timedelta(minutes=i)).isoformat(),
                    "value": 20,
                }
                for i in range(30)
            ]
        },
        raw,
    )
    url = "/api/v1/environment/sensors/T-1/series"
    # Devices report; plotting history is for the lab.
    assert client.get(url, headers={"Authorization": f"Bearer {raw}"}).status_code == 403
    login(cast["metrologist"])
    body = client.get(url).json()
    assert body["resolution"] == "raw" and len(body["points"]) == 30
    assert body["points"][0]["value"] == 19.5
    hours = client.get(url, {"resolution": "hour"}).json()
    assert hours["resolution"] == "hour" and sum(p["count"] for p in hours["points"]) == 30
    window = client.get(
        url,
        {
            "start": start.isoformat(),
            "end": (start + dt.timedelta(minutes=9)).isoformat(),
        },
    ).json()
    assert len(window["points"]) == 10
    assert client.get(url, {"resolution": "week"}).status_code == 422
    backwards = {"start": start.isoformat(), "end": (start - dt.timedelta(hours=1)).isoformat()}
    assert client.get(url, backwards).status_code == 422
    assert client.get("/api/v1/environment/sensors/NOPE/series").status_code == 404
    login(cast["customer_a"])
    assert client.get(url).status_code == 403


def strict_json(response):
    """The body parsed as strict JSON: NaN / Infinity (not JSON) fail the test."""

    def refuse(constant):
        raise AssertionError(f"not JSON: {constant}")

    return json.loads(response.content, parse_constant=refuse)


def test_implausible_early_and_old_readings_are_rejected_per_item(
    client, room, make_sensor, reporter
):
    """Each item is checked against the quantity's physical limits, the sensor's plausible
    range, its installation and the raw-retention window; the good items of the batch are
    stored, and sending the batch again stores nothing twice."""
    device, raw = reporter
    now = timezone.now().replace(microsecond=0)
    make_sensor("RH-1", room, quantity="humidity", unit="%RH", device=device)
    make_sensor("T-R", room, device=device, plausible_low=10, plausible_high=40)
    make_sensor("T-N", room, device=device, installed_at=now - dt.timedelta(hours=1))
    body = {
        "readings": [
            {"sensor": "RH-1", "time": now.isoformat(), "value": 101},
            {"sensor": "RH-1", "time": now.isoformat(), "value": -0.5},
            {"sensor": "RH-1", "time": (now - dt.timedelta(seconds=1)).isoformat(), "value": 55},
            {"sensor": "T-R", "time": now.isoformat(), "value": 40.5},
            {"sensor": "T-R", "time": now.isoformat(), "value": -300},
            {"sensor": "T-R", "time": (now - dt.timedelta(seconds=1)).isoformat(), "value": 22},
            {"sensor": "T-N", "time": (now - dt.timedelta(hours=2)).isoformat(), "value": 21},
            {"sensor": "T-R", "time": (now - dt.timedelta(days=32)).isoformat(), "value": 21},
            {"sensor": "T-N", "time": now.isoformat(), "value": 21},
        ]
    }
    response = post(client, body, raw)
    assert response.status_code == 200
    installed = (now - dt.timedelta(hours=1)).astimezone(dt.UTC).isoformat()
    assert response.json() == {
        "stored": 3,
        "rejected": [
            {
                "index": 0,
                "sensor": "RH-1",
                "code": "implausible_value",
                "message": (
                    "The value 101 is physically impossible for relative humidity (0–100 %RH)."
                ),
            },
            {
                "index": 1,
                "sensor": "RH-1",
                "code": "implausible_value",
                "message": (
                    "The value -0.5 is physically impossible for relative humidity (0–100 %RH)."
                ),
            },
            {
                "index": 3,
                "sensor": "T-R",
                "code": "implausible_value",
                "message": "The value 40.5 is outside this sensor's plausible range (10–40 ℃).",
            },
            {
                "index": 4,
                "sensor": "T-R",
                "code": "implausible_value",
                "message": (
                    "The value -300 is physically impossible for temperature (above -273.15 ℃)."
                ),
            },
            {
                "index": 6,
                "sensor": "T-N",
                "code": "before_installation",
                "message": f"The time is before the sensor was installed ({installed}).",
            },
            {
                "index": 7,
                "sensor": "T-R",
                "code": "too_old",
                "message": "The time is older than raw readings are kept (31 days).",
            },
        ],
    }
    stored = sorted(Reading.objects.values_list("sensor__code", "value"))
    assert stored == [("RH-1", 55.0), ("T-N", 21.0), ("T-R", 22.0)]
    again = post(client, body, raw).json()
    assert again["stored"] == 0
    assert [r["code"] for r in again["rejected"]] == [
        "implausible_value",
        "implausible_value",
        "duplicate",
        "implausible_value",
        "implausible_value",
        "duplicate",
        "before_installation",
        "too_old",
        "duplicate",
    ]
    assert Reading.objects.count() == 3
    counter = IngestCounter.objects.get(device=device, channel="http")
    assert (counter.accepted, counter.rejected) == (3, 15)


def test_a_device_token_reports_only_for_its_own_sensors(client, room, make_sensor, make_device):
    """Device A's token: its own sensor is stored; device B's sensor and a sensor bound to no
    device (fed by the lab's internal channels only) are refused item by item."""
    device_a, raw_a = make_device("probe-a")
    device_b, raw_b = make_device("probe-b")
    make_sensor("T-A", room, device=device_a)
    make_sensor("T-B", room, device=device_b)
    make_sensor("T-FREE", room)
    now = timezone.now().replace(microsecond=0).isoformat()
    body = {
        "readings": [
            {"sensor": code, "time": now, "value": 20} for code in ("T-A", "T-B", "T-FREE")
        ]
    }
    response = post(client, body, raw_a)
    assert response.status_code == 200
    assert response.json() == {
        "stored": 1,
        "rejected": [
            {
                "index": 1,
                "sensor": "T-B",
                "code": "not_allowed",
                "message": "This sensor reports through another device.",
            },
            {
                "index": 2,
                "sensor": "T-FREE",
                "code": "not_allowed",
                "message": (
                    "This sensor is bound to no device: it takes readings only from the lab's "
                    "internal channels (Modbus poller, MQTT ingester, simulator)."
                ),
            },
        ],
    }
    assert list(Reading.objects.values_list("sensor__code", flat=True)) == ["T-A"]
    # Device B's token reports for its own.
    assert post(client, body, raw_b).json()["stored"] == 1
    assert sorted(Reading.objects.values_list("sensor__code", flat=True)) == ["T-A", "T-B"]


@pytest.mark.parametrize("split", [False, True], ids=["one batch", "two batches"])
def test_huge_values_never_make_the_series_overflow(
    client, room, make_sensor, reporter, cast, login, split
):
    """Two readings of 1.7e308 in one minute (a temperature sensor with no plausible range:
    the quantity has no upper physical limit): the minute and hour means are 1.7e308, not
    Infinity, in one batch or merged from two."""
    device, raw = reporter
    make_sensor("T-BIG", room, device=device)
    minute = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=5)
    readings = [
        {"sensor": "T-BIG", "time": (minute + dt.timedelta(seconds=s)).isoformat(), "value": v}
        for s, v in ((10, 1.7e308), (20, 1.7e308), (30, 1.6e308))
    ]
    batches = [readings[:1], readings[1:]] if split else [readings]
    for batch in batches:
        assert post(client, {"readings": batch}, raw).json()["rejected"] == []
    login(cast["metrologist"])
    url = "/api/v1/environment/sensors/T-BIG/series"
    window = {"start": minute.isoformat(), "end": (minute + dt.timedelta(minutes=1)).isoformat()}
    minutes = strict_json(client.get(url, {**window, "resolution": "minute"}))
    for point in minutes["points"]:
        point["time"] = dt.datetime.fromisoformat(point["time"])
    assert minutes["points"] == [
        {
            "time": minute,
            "value": pytest.approx(1.7e308 / 3 * 2 + 1.6e308 / 3, rel=1e-15),
            "min": 1.6e308,
            "max": 1.7e308,
            "count": 3,
        }
    ]
    hour_start = minute.replace(minute=0)
    hours = strict_json(
        client.get(
            url,
            {
                "start": hour_start.isoformat(),
                "end": (hour_start + dt.timedelta(minutes=1)).isoformat(),
                "resolution": "hour",
            },
        )
    )
    assert [(p["count"], p["max"]) for p in hours["points"]] == [(3, 1.7e308)]
    assert hours["points"][0]["value"] == pytest.approx(1.7e308 / 3 * 2 + 1.6e308 / 3, rel=1e-15)
    raw_points = strict_json(client.get(url, {**window, "resolution": "raw"}))["points"]
    assert [p["value"] for p in raw_points] == [1.7e308, 1.7e308, 1.6e308]


def test_the_largest_floats_keep_a_finite_mean(client, room, make_sensor, reporter, cast, login):
    """At the very limit of a float, even a mean's rounding cannot reach Infinity."""
    device, raw = reporter
    make_sensor("T-MAX", room, device=device)
    largest = sys.float_info.max
    minute = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=5)
    for second in range(0, 50, 10):  # one reading a batch: four merges
        moment = (minute + dt.timedelta(seconds=second)).isoformat()
        body = {"readings": [{"sensor": "T-MAX", "time": moment, "value": largest}]}
        assert post(client, body, raw).json()["stored"] == 1
    login(cast["metrologist"])
    body = strict_json(
        client.get(
            "/api/v1/environment/sensors/T-MAX/series",
            {
                "start": minute.isoformat(),
                "end": (minute + dt.timedelta(minutes=1)).isoformat(),
                "resolution": "minute",
            },
        )
    )
    assert [(p["value"], p["min"], p["max"], p["count"]) for p in body["points"]] == [
        (largest, largest, largest, 5)
    ]
