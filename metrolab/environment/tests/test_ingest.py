"""The ingestion function (R6.11b/c): every rejection code, bad items never stored and never
stopping good ones, per-device counters, aggregates against an independent computation,
sensors' latest value moving forward only, listeners after commit."""

from __future__ import annotations

import datetime as dt
import random
import statistics
from collections import defaultdict

import pytest

from metrolab.environment import ingest
from metrolab.environment.ingest import ingest_readings
from metrolab.environment.models import Aggregate, IngestCounter, Reading, Sensor

from .conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def sensors(room, make_sensor):
    return {
        "t1": make_sensor("T-1", room),
        "t2": make_sensor("T-2", room),
        "h1": make_sensor("H-1", room, quantity="humidity", unit="%RH"),
    }


def bind(device, *codes):
    """Bind the sensors to the device account (a device reports only for its own)."""
    for sensor in Sensor.objects.filter(code__in=codes):
        sensor.device = device
        sensor.save()


def item(sensor="T-1", time=T0, value=20.0):
    return {
        "sensor": sensor,
        "time": time.isoformat() if isinstance(time, dt.datetime) else time,
        "value": value,
    }


def test_every_rejection_code_and_the_good_items_are_stored(
    sensors, room, make_sensor, make_device
):
    device, _ = make_device("probe-1")
    other, _ = make_device("probe-2")
    bind(device, "T-1", "T-2", "H-1")
    make_sensor("T-BOUND", room, device=other)
    make_sensor("T-MINE", room, device=device)
    make_sensor("T-OFF", room, active=False, device=device)
    make_sensor("T-FREE", room)  # bound to no device
    make_sensor("T-RANGE", room, device=device, plausible_low=-20, plausible_high=60)
    make_sensor("T-NEW", room, device=device, installed_at=T0 + dt.timedelta(minutes=1))
    Reading.objects.create(sensor=sensors["t2"], time=T0, value=1.0)
    now = T0 + dt.timedelta(minutes=10)
    oldest = now - dt.timedelta(days=31)  # the raw-retention window (METROLAB_ENV_RAW_DAYS)
    batch = [
        item("T-1", T0, 20.5),  # 0 good
        item("NOPE", T0, 20.0),  # 1 unknown_sensor
        item("T-BOUND", T0, 20.0),  # 2 not_allowed (another device's)
        item("T-OFF", T0, 20.0),  # 3 inactive_sensor
        item("T-1", T0 + dt.timedelta(seconds=1), float("nan")),  # 4 bad_value
        item("T-1", T0 + dt.timedelta(seconds=2), float("inf")),  # 5 bad_value
        item("T-1", T0 + dt.timedelta(seconds=3), True),  # 6 bad_value (a bool)
        item("T-1", T0 + dt.timedelta(seconds=4), "warm"),  # 7 bad_value
        item("T-1", "2026-11-30T08:00:05", 20.0),  # 8 bad_time (naive)
        item("T-1", "yesterday", 20.0),  # 9 bad_time
        item("T-1", now + dt.timedelta(seconds=301), 20.0),  # 10 future_time
        item("T-2", T0, 20.0),  # 11 duplicate (stored)
        item("T-1", T0, 21.0),  # 12 duplicate (earlier in this batch)
        {"sensor": "T-1", "value": 1},  # 13 bad_item (no time)
        "T-1 20.0",  # 14 bad_item
        {"sensor": 17, "time": T0.isoformat(), "value": 1},  # 15 bad_item
        item("T-MINE", T0, 19.0),  # 16 good (bound to this device)
        item(
            "T-2", now + dt.timedelta(seconds=300), "20.25"
        ),  # 17 good: at the limit, numeric string
        item("H-1", T0.timestamp() + 30.5, 45),  # 18 good: epoch seconds
        item("T-FREE", T0, 20.0),  # 19 not_allowed (bound to no device)
        item("H-1", T0 + dt.timedelta(seconds=40), 100.5),  # 20 implausible_value (physical)
        item("H-1", T0 + dt.timedelta(seconds=41), 100),  # 21 good: on the physical limit
        item("T-1", T0 + dt.timedelta(seconds=5), -273.15),  # 22 implausible: absolute zero
        item("T-RANGE", T0, 60.5),  # 23 implausible_value (the sensor's range)
        item("T-RANGE", T0 + dt.timedelta(seconds=1), 60),  # 24 good: on its range's limit
        item("T-1", oldest - dt.timedelta(seconds=1), 20.0),  # 25 too_old
        item("T-1", oldest, 20.0),  # 26 good: on the retention limit
        item("T-NEW", T0, 20.0),  # 27 before_installation
        item("T-NEW", T0 + dt.timedelta(minutes=1), 20.0),  # 28 good: at its installation
    ]
    result = ingest_readings(batch, device=device, channel="http", now=now)
    codes = {r.index: r.code for r in result.rejected}
    assert codes == {
        1: "unknown_sensor",
        2: "not_allowed",
        3: "inactive_sensor",
        4: "bad_value",
        5: "bad_value",
        6: "bad_value",
        7: "bad_value",
        8: "bad_time",
        9: "bad_time",
        10: "future_time",
        11: "duplicate",
        12: "duplicate",
        13: "bad_item",
        14: "bad_item",
        15: "bad_item",
        19: "not_allowed",
        20: "implausible_value",
        22: "implausible_value",
        23: "implausible_value",
        25: "too_old",
        27: "before_installation",
    }
    assert {r.code for r in result.rejected} == set(ingest.REJECTION_CODES)
    assert [r.index for r in result.rejected] == sorted(codes)
    messages = {r.index: r.message for r in result.rejected}
    assert messages[2] == "This sensor reports through another device."
    assert messages[19] == (
        "This sensor is bound to no device: it takes readings only from the lab's internal "
        "channels (Modbus poller, MQTT ingester, simulator)."
    )
    assert messages[20] == (
        "The value 100.5 is physically impossible for relative humidity (0–100 %RH)."
    )
    assert messages[22] == (
        "The value -273.15 is physically impossible for temperature (above -273.15 ℃)."
    )
    assert messages[23] == "The value 60.5 is outside this sensor's plausible range (-20–60 ℃)."
    assert messages[25] == "The time is older than raw readings are kept (31 days)."
    assert messages[27] == (
        "The time is before the sensor was installed (2026-11-30T08:01:00+00:00)."
    )
    assert result.rejected[0].sensor == "NOPE"
    assert result.stored == 8
    stored = {(r.sensor.code, r.time, r.value) for r in Reading.objects.select_related("sensor")}
    assert stored == {
        ("T-1", T0, 20.5),
        ("T-2", T0, 1.0),  # the one stored before, untouched
        ("T-MINE", T0, 19.0),
        ("T-2", now + dt.timedelta(seconds=300), 20.25),
        ("H-1", T0 + dt.timedelta(seconds=30.5), 45.0),
        ("H-1", T0 + dt.timedelta(seconds=41), 100.0),
        ("T-RANGE", T0 + dt.timedelta(seconds=1), 60.0),
        ("T-1", oldest, 20.0),
        ("T-NEW", T0 + dt.timedelta(minutes=1), 20.0),
    }
    counter = IngestCounter.objects.get(device=device, channel="http")
    assert (counter.accepted, counter.rejected) == (8, 21)
    assert counter.last_rejection.startswith("[before_installation] T-NEW:")
    assert counter.last_seen == now


def test_a_device_reports_only_for_its_own_sensors(room, make_sensor, make_device):
    """A device's own sensor: stored; another device's, or one bound to none: refused. The
    internal channels (no device) report for all of them."""
    a, _ = make_device("probe-a")
    b, _ = make_device("probe-b")
    make_sensor("T-A", room, device=a)
    make_sensor("T-B", room, device=b)
    make_sensor("T-FREE", room)
    batch = [item("T-A", T0), item("T-B", T0), item("T-FREE", T0)]
    result = ingest_readings(batch, device=a, channel="mqtt", now=T0)
    assert result.stored == 1
    assert [(r.index, r.code) for r in result.rejected] == [(1, "not_allowed"), (2, "not_allowed")]
    for second, channel in enumerate(("modbus", "mqtt", "simulated"), start=1):
        at = T0 + dt.timedelta(seconds=second)
        result = ingest_readings(
            [item(code, at) for code in ("T-A", "T-B", "T-FREE")], channel=channel, now=T0
        )
        assert (result.stored, result.rejected) == (3, []), channel


def test_counters_per_device_and_channel(sensors, make_device):
    a, _ = make_device("probe-a")
    b, _ = make_device("probe-b")
    bind(a, "T-1")
    bind(b, "T-2")
    ingest_readings([item("T-1", T0), item("X", T0)], device=a, channel="http", now=T0)
    ingest_readings([item("T-1", T0 + dt.timedelta(seconds=1))], device=a, channel="http", now=T0)
    ingest_readings([item("T-1", T0 + dt.timedelta(seconds=2))], device=a, channel="mqtt", now=T0)
    ingest_readings([item("T-2", "bad")], device=b, channel="mqtt", now=T0)
    ingest_readings([item("T-2", T0)], channel="modbus", now=T0)
    ingest_readings([item("T-2", T0 + dt.timedelta(seconds=1))], channel="modbus", now=T0)
    got = {
        (c.device.username if c.device else None, c.channel): (c.accepted, c.rejected)
        for c in IngestCounter.objects.select_related("device")
    }
    assert got == {
        ("probe-a", "http"): (2, 1),
        ("probe-a", "mqtt"): (1, 0),
        ("probe-b", "mqtt"): (0, 1),
        (None, "modbus"): (2, 0),
    }


def test_an_internal_channel_may_report_for_a_bound_sensor(room, make_sensor, make_device):
    device, _ = make_device()
    make_sensor("T-B", room, device=device)
    assert ingest_readings([item("T-B", T0)], channel="modbus", now=T0).stored == 1


def test_unknown_channel_is_a_programming_error(sensors):
    with pytest.raises(ValueError):
        ingest_readings([item()], channel="carrier-pigeon")


def test_empty_batch_changes_nothing(sensors):
    result = ingest_readings([], channel="http")
    assert (result.stored, result.rejected) == (0, [])
    assert not IngestCounter.objects.exists()


def _independent_aggregates(rows):
    """(sensor_id, period, start) -> (count, min, max, mean) straight from the raw values."""
    buckets = defaultdict(list)
    for sensor_id, time, value in rows:
        buckets[(sensor_id, "m", time.replace(second=0, microsecond=0))].append(value)
        buckets[(sensor_id, "h", time.replace(minute=0, second=0, microsecond=0))].append(value)
    return {key: (len(v), min(v), max(v), statistics.fmean(v)) for key, v in buckets.items()}


def _stored_aggregates():
    return {
        (a.sensor_id, a.period, a.start): (a.count, a.minimum, a.maximum, a.mean)
        for a in Aggregate.objects.all()
    }


def test_aggregates_across_boundaries_and_out_of_order_batches(sensors):
    rng = random.Random(6)
    # 07:58:30 .. 09:01:30 every 7 s for two sensors: crosses minute and hour boundaries.
    start = T0 - dt.timedelta(minutes=1, seconds=30)
    items = [
        item(code, start + dt.timedelta(seconds=7 * i), round(rng.uniform(15, 25), 3))
        for i in range(545)
        for code in ("T-1", "H-1")
    ]
    rng.shuffle(items)
    # Out of order, in uneven batches, each spanning many buckets.
    position = 0
    while position < len(items):
        size = rng.randint(1, 200)
        result = ingest_readings(
            items[position : position + size], channel="http", now=T0 + dt.timedelta(hours=2)
        )
        assert not result.rejected
        position += size
    rows = list(Reading.objects.values_list("sensor_id", "time", "value"))
    assert len(rows) == len(items)
    expected = _independent_aggregates(rows)
    stored = _stored_aggregates()
    assert stored.keys() == expected.keys()
    for key, (count, low, high, mean) in expected.items():
        got = stored[key]
        assert got[:3] == (count, low, high), key
        assert got[3] == pytest.approx(mean, rel=1e-12), key
    # The hours 07, 08 and 09 for each sensor.
    assert sorted({k[2].hour for k in stored if k[1] == "h"}) == [7, 8, 9]


def test_a_late_reading_merges_into_its_old_bucket(sensors):
    t1 = sensors["t1"]
    ingest_readings(
        [item("T-1", T0 + dt.timedelta(seconds=10), 20.0)],
        channel="http",
        now=T0 + dt.timedelta(hours=1),
    )
    ingest_readings(
        [item("T-1", T0 + dt.timedelta(minutes=30), 22.0)],
        channel="http",
        now=T0 + dt.timedelta(hours=1),
    )
    ingest_readings(
        [item("T-1", T0 + dt.timedelta(seconds=50), 18.0)],
        channel="http",
        now=T0 + dt.timedelta(hours=1),
    )
    minute = Aggregate.objects.get(sensor=t1, period="m", start=T0)
    assert (minute.count, minute.minimum, minute.maximum, minute.mean) == (2, 18.0, 20.0, 19.0)
    hour = Aggregate.objects.get(sensor=t1, period="h", start=T0)
    assert (hour.count, hour.minimum, hour.maximum, hour.mean) == (3, 18.0, 22.0, 20.0)
    # Sensor's latest value moved forward only: the late reading did not move it back.
    t1.refresh_from_db()
    assert (t1.last_time, t1.last_value) == (T0 + dt.timedelta(minutes=30), 22.0)


def test_rejected_items_leave_aggregates_and_sensor_alone(sensors):
    ingest_readings([item("T-1", T0, float("nan")), item("T-1", "x", 1.0)], channel="http", now=T0)
    assert not Aggregate.objects.exists() and not Reading.objects.exists()
    assert Sensor.objects.get(code="T-1").last_time is None


def test_listeners_get_the_stored_readings_after_commit(
    sensors, django_capture_on_commit_callbacks
):
    got = []
    ingest.ingest_listeners.append(got.append)

    def broken(readings):
        raise RuntimeError("a broken listener")

    ingest.ingest_listeners.insert(0, broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = ingest_readings([item("T-1", T0), item("T-1", "bad")], channel="http", now=T0)
            assert got == []  # not before the commit
        assert result.stored == 1
        assert [[(r.sensor.code, r.time) for r in batch] for batch in got] == [[("T-1", T0)]]
    finally:
        ingest.ingest_listeners.remove(got.append)
        ingest.ingest_listeners.remove(broken)


def test_time_forms(sensors):
    from metrolab.environment.ingest import parse_time, parse_value

    assert parse_time("2026-11-30T16:00:00+08:00") == T0
    assert parse_time("2026-11-30T08:00:00Z") == T0
    assert parse_time(T0.timestamp()) == T0
    assert parse_time(int(T0.timestamp())) == T0
    assert parse_time(T0.astimezone(dt.timezone(dt.timedelta(hours=8)))) == T0
    for bad in ("2026-11-30 08:00", T0.replace(tzinfo=None), float("nan"), None, True, [1], 1e20):
        assert parse_time(bad) is None, bad
    assert parse_value("  21.5 ") == 21.5 and parse_value(3) == 3.0
    for bad in ("nan", "inf", "1e999", None, False, {}, "21,5"):
        assert parse_value(bad) is None, bad


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_with_the_same_readings(room, make_sensor):
    """Two ingesters sending the same readings at once: each stored once, the other copy a
    clean duplicate rejection, the aggregates counted once (SQLite and PostgreSQL)."""
    import threading

    from django.db import connection

    make_sensor("T-1", room)
    batch = [item("T-1", T0 + dt.timedelta(seconds=i), 20.0 + i % 5) for i in range(300)]
    results, errors = [], []

    def run():
        try:
            results.append(ingest_readings(batch, channel="mqtt", now=T0 + dt.timedelta(hours=1)))
        except Exception as error:  # the test fails below with it
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.stored for r in results) == [0, 300]
    assert sorted(len(r.rejected) for r in results) == [0, 300]
    assert Reading.objects.count() == 300
    assert sum(Aggregate.objects.filter(period="h").values_list("count", flat=True)) == 300
    counter = IngestCounter.objects.get(device=None, channel="mqtt")
    assert (counter.accepted, counter.rejected) == (300, 300)
