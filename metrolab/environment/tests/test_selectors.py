"""Reads of the environment: corrections applied, plot series at the right resolution, the
room's live status, and `conditions_at` (R6.2b): held / not held / no data, a method's
stricter range, inclusive limits just inside and just outside."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from metrolab.environment import selectors
from metrolab.environment.ingest import ingest_readings
from metrolab.environment.models import Requirement
from metrolab.methods.models import Method

from .conftest import T0

pytestmark = pytest.mark.django_db


def feed(code, values, start=T0, step=60):
    """Readings of `code` every `step` seconds from `start`."""
    result = ingest_readings(
        [
            {
                "sensor": code,
                "time": (start + dt.timedelta(seconds=step * i)).isoformat(),
                "value": v,
            }
            for i, v in enumerate(values)
        ],
        channel="simulated",
        now=start + dt.timedelta(days=1),
    )
    assert not result.rejected
    return result


@pytest.fixture
def method(db):
    return Method.objects.create(
        kind="JJG",
        code="JJG 160",
        year="2007",
        title="Standard platinum resistance thermometers",
        effective_date=dt.date(2008, 5, 21),
    )


@pytest.fixture
def probes(room, make_sensor):
    return {
        "t": make_sensor("T-1", room, correction=Decimal("0.1000"), uncertainty=Decimal("0.2")),
        "h": make_sensor("H-1", room, quantity="humidity", unit="%RH", period_seconds=30),
    }


def test_readings_and_series_are_corrected(probes):
    feed("T-1", [19.9, 20.0, 21.9])
    points = selectors.sensor_readings(probes["t"], T0, T0 + dt.timedelta(minutes=2))
    assert [p.value for p in points] == [20.0, 20.1, 22.0]  # exact: decimal correction
    minute = selectors.series(probes["t"], T0, T0 + dt.timedelta(minutes=2), "minute")
    assert [p.value for p in minute.points] == [20.0, 20.1, 22.0]
    hour = selectors.series(probes["t"], T0, T0 + dt.timedelta(minutes=2), "hour")
    assert len(hour.points) == 1
    assert (hour.points[0].minimum, hour.points[0].maximum, hour.points[0].count) == (20.0, 22.0, 3)
    assert hour.points[0].value == pytest.approx((19.9 + 20.0 + 21.9) / 3 + 0.1)


def test_series_chooses_its_resolution(probes):
    sensor = probes["t"]  # reports every 60 s
    now = T0 + dt.timedelta(days=1)
    assert selectors.choose_resolution(sensor, T0, T0 + dt.timedelta(hours=24), now) == "raw"
    assert selectors.choose_resolution(sensor, T0, T0 + dt.timedelta(hours=25), now) == "raw"
    assert selectors.choose_resolution(sensor, T0, T0 + dt.timedelta(days=2), now) == "hour"
    fast = probes["h"]  # every 30 s: 24 h of raw points is too many, minutes are fine
    assert selectors.choose_resolution(fast, T0, T0 + dt.timedelta(hours=24), now) == "minute"
    assert selectors.choose_resolution(fast, T0, T0 + dt.timedelta(hours=12), now) == "raw"
    # Raw readings past their retention are gone: minute buckets instead.
    old = now - dt.timedelta(days=40)
    assert selectors.choose_resolution(sensor, old, old + dt.timedelta(hours=1), now) == "minute"
    ancient = now - dt.timedelta(days=500)
    assert (
        selectors.choose_resolution(sensor, ancient, ancient + dt.timedelta(hours=1), now) == "hour"
    )
    feed("T-1", [20.0] * 5)
    auto = selectors.series(sensor, T0, T0 + dt.timedelta(hours=1), now=now)
    assert auto.resolution == "raw" and len(auto.points) == 5
    assert auto.as_dict()["points"][0] == {
        "time": T0.isoformat(),
        "value": 20.1,
        "min": 20.1,
        "max": 20.1,
        "count": 1,
    }


def test_room_status_values_ages_staleness_and_verdicts(room, probes, make_sensor):
    feed("T-1", [24.9])  # corrected 25.0: at the upper limit, within
    feed("H-1", [71.0])  # outside 30–70
    make_sensor("P-1", room, quantity="pressure", unit="kPa")  # never reported
    Requirement.objects.create(room=room, quantity="noise", high=Decimal("60"), unit="dB(A)")
    status = selectors.room_status(room, now=T0 + dt.timedelta(seconds=60))
    by_code = {s.sensor.code: s for s in status.sensors}
    assert by_code["T-1"].value == 25.0 and by_code["T-1"].age_seconds == 60
    assert not by_code["T-1"].stale and not by_code["H-1"].stale  # H-1: 60 s = 2 × 30 s
    assert by_code["P-1"].value is None and by_code["P-1"].stale
    verdicts = {req.quantity: v for req, v in status.requirements}
    assert verdicts == {"temperature": "within", "humidity": "outside", "noise": "no_data"}
    # One second later the humidity reading is stale: no data rather than a stale verdict.
    later = selectors.room_status(room, now=T0 + dt.timedelta(seconds=61))
    assert {req.quantity: v for req, v in later.requirements}["humidity"] == "no_data"
    body = json.loads(json.dumps(later.as_dict()))
    assert body["sensors"][0]["code"] == "H-1" and body["sensors"][0]["stale"] is True


def test_conditions_held(room, probes):
    feed("T-1", [14.9, 20.0, 24.9])  # corrected 15.0 … 25.0: the limits themselves
    feed("H-1", [30.0, 50.0, 70.0])
    conditions = selectors.conditions_at(room, T0, T0 + dt.timedelta(minutes=2))
    assert conditions.held
    t = conditions.quantities["temperature"]
    assert [r.value for r in t.readings] == [15.0, 20.1, 25.0]
    assert (t.minimum, t.maximum) == (15.0, 25.0)
    assert t.mean == pytest.approx(20.0333333333333)
    assert t.readings[0].uncertainty == 0.2 and t.readings[0].sensor == "T-1"
    assert [c.held for c in t.checks] == [True]


@pytest.mark.parametrize(
    ("raw", "held"),
    [
        (24.9, True),  # corrected 25.0: on the limit
        (24.8999, True),  # just inside
        (24.9001, False),  # just outside
        (14.9, True),  # corrected 15.0: on the lower limit
        (14.8999, False),
    ],
)
def test_inclusive_limits_just_inside_and_just_outside(room, probes, raw, held):
    feed("T-1", [20.0, raw])
    feed("H-1", [50.0])
    conditions = selectors.conditions_at(room, T0, T0 + dt.timedelta(minutes=1))
    check = conditions.quantities["temperature"].checks[0]
    assert (check.held, conditions.held) == (held, held)
    assert check.reason == ("" if held else "outside")
    assert check.outside == (0 if held else 1)


def test_no_reading_in_the_period_is_not_held(room, probes):
    feed("T-1", [20.0])
    feed("H-1", [50.0], start=T0 - dt.timedelta(minutes=5))  # before the period
    conditions = selectors.conditions_at(room, T0, T0 + dt.timedelta(minutes=1))
    humidity = conditions.quantities["humidity"]
    assert humidity.readings == [] and humidity.mean is None
    assert [(c.held, c.reason) for c in humidity.checks] == [(False, "no data")]
    assert conditions.quantities["temperature"].held
    assert not conditions.held
    # The period is inclusive at both ends.
    edge = selectors.conditions_at(room, T0 - dt.timedelta(minutes=5), T0)
    assert edge.held


def test_a_methods_stricter_range(room, probes, method):
    Requirement.objects.create(
        room=room,
        quantity="temperature",
        low=Decimal("18"),
        high=Decimal("22"),
        unit="℃",
        method=method,
    )
    # A looser method requirement on humidity does not widen the room's.
    Requirement.objects.create(
        room=room,
        quantity="humidity",
        low=Decimal("20"),
        high=Decimal("90"),
        unit="%RH",
        method=method,
    )
    feed("T-1", [20.0, 22.4])  # corrected 22.5: inside the room's 15–25, outside 18–22
    feed("H-1", [50.0, 50.0])
    end = T0 + dt.timedelta(minutes=1)
    assert selectors.conditions_at(room, T0, end).held  # without the method: the room's range
    conditions = selectors.conditions_at(room, T0, end, method=method)
    t = conditions.quantities["temperature"]
    assert [(c.requirement.method_id, c.held) for c in t.checks] == [
        (None, True),
        (method.pk, False),
    ]
    assert (t.low, t.high) == (Decimal("18"), Decimal("22"))
    h = conditions.quantities["humidity"]
    assert (h.low, h.high) == (Decimal("30"), Decimal("70")) and h.held
    assert not conditions.held
    # Another method's requirements do not apply.
    other = Method.objects.create(
        kind="JJG", code="JJG 1", year="2000", title="Other", effective_date=dt.date(2000, 1, 1)
    )
    assert selectors.conditions_at(room, T0, end, method=other).held


def test_conditions_are_serialisable(room, probes, method):
    feed("T-1", [20.0])
    feed("H-1", [50.0])
    body = selectors.conditions_at(room, T0, T0 + dt.timedelta(minutes=1), method=method).as_dict()
    again = json.loads(json.dumps(body))
    assert again["held"] is True and again["method"] == str(method)
    t = again["quantities"]["temperature"]
    assert t["readings"] == [{"time": T0.isoformat(), "value": 20.1, "sensor": "T-1", "U": 0.2}]
    assert t["requirements"][0]["low"] == 15.0 and t["requirements"][0]["held"] is True
    assert t["count"] == 1 and t["min"] == t["max"] == t["mean"] == 20.1


def test_a_period_that_ends_before_it_starts_is_refused(room):
    with pytest.raises(ValueError):
        selectors.conditions_at(room, T0, T0 - dt.timedelta(seconds=1))


def test_the_conditions_mean_of_huge_values_is_finite(room, make_sensor):
    """Conditions stored with a record: the mean of readings near the float's limit is the
    value itself, not an overflow (their sum would be infinite)."""
    make_sensor("T-BIG", room)
    feed("T-BIG", [1.7e308, 1.7e308, 1.6e308])
    conditions = selectors.conditions_at(room, T0, T0 + dt.timedelta(minutes=5))
    temperature = conditions.as_dict()["quantities"]["temperature"]
    assert temperature["count"] == 3
    assert temperature["mean"] == pytest.approx(1.7e308 / 3 * 2 + 1.6e308 / 3, rel=1e-15)
    assert (temperature["min"], temperature["max"]) == (1.6e308, 1.7e308)
    json.dumps(conditions.as_dict(), allow_nan=False)  # what the record stores: strict JSON


def test_weighted_mean():
    largest = 1.7976931348623157e308
    assert selectors.weighted_mean([]) is None
    assert selectors.weighted_mean([(20.5, 1), (21.0, 1)]) == 20.75
    assert selectors.weighted_mean([(19.0, 2), (22.0, 1)]) == 20.0
    assert selectors.weighted_mean([(largest, 3), (largest, 7)]) == largest
    assert selectors.weighted_mean([(-largest, 1), (largest, 1)]) == 0.0
    assert selectors.weighted_mean([(5e-324, 1), (0.0, 0)]) == 5e-324
