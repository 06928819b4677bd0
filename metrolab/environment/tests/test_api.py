"""The environment API with real tokens and sessions: devices report readings (401 without a
token, 403 for others), partial rejection with HTTP 200, batch limits, room status, series."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from metrolab.environment.models import IngestCounter, Reading

pytestmark = pytest.mark.django_db

URL = "/api/v1/environment/readings"


@pytest.fixture
def probe(room, make_sensor):
    return make_sensor("T-1", room, correction=Decimal("-0.5"))


def post(client, body, raw=None):
    headers = {"Authorization": f"Bearer {raw}"} if raw else {}
    return client.post(URL, body, content_type="application/json", headers=headers)


def test_a_device_reports_a_batch_with_one_bad_item(client, probe, make_device):
    device, raw = make_device()
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


def test_not_the_shape_is_422(client, probe, make_device):
    _, raw = make_device()
    for body in ({}, {"readings": "T-1 20.0"}, [{"sensor": "T-1"}], {"readings": {"a": 1}}):
        response = post(client, body, raw)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "invalid"
    assert not IngestCounter.objects.exists()


def test_a_large_batch_and_the_limit(client, room, make_sensor, make_device):
    for n in range(10):
        make_sensor(f"S-{n}", room)
    _, raw = make_device()
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


def test_rooms_and_status(client, room, probe, make_device, cast, login):
    _, raw = make_device()
    now = timezone.now()
    post(client, {"readings": [{"sensor": "T-1", "time": now.isoformat(), "value": 26.0}]}, raw)
    auth = {"Authorization": f"Bearer {raw}"}
    rooms = client.get("/api/v1/environment/rooms", headers=auth)
    assert rooms.status_code == 200
    assert rooms.json() == [
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


def test_series(client, probe, make_device, cast, login):
    _, raw = make_device()
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
