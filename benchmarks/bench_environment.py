"""Ingestion rate of environment readings (issue 6, goal ≥ 10 000 readings/s stored), printed
beside a baseline measured in the same run on the same database (never asserted in tests:
machines here are shared and noisy).

    uv run python benchmarks/bench_environment.py                  # SQLite (WAL, on disk)
    DATABASE_URL=postgres://user:pw@127.0.0.1:5432/metrolab_bench \
        uv run python benchmarks/bench_environment.py

The run creates a throw-away test database (Django's test database for DATABASE_URL: on
PostgreSQL `test_<name>`, so point it at a name no test run is using), and drops it after.

100 sensors report once a second; a batch is 10 s of all of them (1 000 readings, times as
ISO-8601 strings as they arrive over HTTP / MQTT). Each ingestion batch validates every item,
checks duplicates, stores the readings, merges the minute and hour aggregates (a minute bucket
is hit by 6 batches, so the merge path runs) and moves each sensor's latest value: one
transaction per batch.

1. Baseline: a bare `Reading.objects.bulk_create` of the same 1 000 rows per batch (parsed
   datetimes, one transaction per batch): the least work any ingester must do.
2. `ingest_readings`, batches of 1 000.
3. The HTTP API end to end (`POST /api/v1/environment/readings` with a device token, JSON
   parsing and authentication included), batches of 1 000.

Steps 2 and 3 run with the product's ingestion listeners, as in production: after each
commit the alarm engine judges the batch against the room's requirement (15–25 ℃, alarms on;
the values stay inside, the everyday case) and the rule engine against a switch rule. Step 2
is also run without listeners, to show what they cost.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from metrolab.core.permissions import SYSTEM  # noqa: E402

SENSORS = 100
STEPS = 10  # seconds per batch: 100 sensors × 10 s = 1 000 readings
BATCHES = 30
REPEAT = 3
# Readings start two days ago: within the raw-retention window and never in the future (the
# HTTP run is judged against the real clock).
T0 = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)


def make_sensors(prefix: str, device=None):
    """SENSORS sensors installed before T0, bound to `device` (the HTTP run's token reports
    only for its own sensors)."""
    from decimal import Decimal

    from metrolab.environment.models import Actuator, ControlRule, Requirement, Room, Sensor

    room = Room.objects.create(code=f"BENCH-{prefix}", name=f"Benchmark {prefix}")
    Requirement.objects.create(
        room=room,
        quantity="temperature",
        low=Decimal(15),
        high=Decimal(25),
        unit="℃",
        hysteresis=Decimal("0.5"),
        alarm_delay_seconds=60,
    )
    fan = Actuator.objects.create(
        code=f"FAN-{prefix}", name="fan", room=room, kind="ventilation", protocol="simulated"
    )
    ControlRule.objects.create(
        room=room, quantity="temperature", actuator=fan, mode="switch", high=Decimal(24)
    )
    return [
        Sensor.objects.create(
            code=f"{prefix}-{n:03d}",
            name=f"sensor {n}",
            room=room,
            quantity="temperature",
            unit="℃",
            installed_at=T0 - dt.timedelta(days=1),
            device=device,
        )
        for n in range(SENSORS)
    ]


def batches(sensors, start: dt.datetime):
    """BATCHES lists of 1 000 items {sensor, time (ISO), value}, time moving forward."""
    out = []
    for b in range(BATCHES):
        items = []
        for step in range(STEPS):
            moment = (start + dt.timedelta(seconds=b * STEPS + step)).isoformat()
            for n, sensor in enumerate(sensors):
                items.append(
                    {"sensor": sensor.code, "time": moment, "value": 20 + (n + step) % 50 / 100}
                )
        out.append(items)
    return out


def rate(seconds: float) -> float:
    return BATCHES * SENSORS * STEPS / seconds


def run_baseline(sensors, start) -> float:
    from metrolab.environment.models import Reading

    by_code = {s.code: s for s in sensors}
    rows = [
        [
            Reading(
                sensor=by_code[i["sensor"]],
                time=dt.datetime.fromisoformat(i["time"]),
                value=i["value"],
            )
            for i in batch
        ]
        for batch in batches(sensors, start)
    ]
    began = time.perf_counter()
    for batch in rows:
        with transaction.atomic():
            Reading.objects.bulk_create(batch)
    return time.perf_counter() - began


def run_ingest(sensors, start, listeners: bool = True) -> float:
    from metrolab.environment import ingest

    work = batches(sensors, start)
    now = start + dt.timedelta(days=1)
    kept = list(ingest.ingest_listeners)
    if not listeners:
        ingest.ingest_listeners.clear()
    try:
        began = time.perf_counter()
        for batch in work:
            result = ingest.ingest_readings(batch, channel="http", now=now)
            assert result.stored == len(batch), result.rejected[:3]
        return time.perf_counter() - began
    finally:
        ingest.ingest_listeners[:] = kept


def run_http(sensors, start, raw_token) -> float:
    work = [json.dumps({"readings": batch}) for batch in batches(sensors, start)]
    client = Client()
    headers = {"Authorization": f"Bearer {raw_token}"}
    began = time.perf_counter()
    for body in work:
        response = client.post(
            "/api/v1/environment/readings", body, content_type="application/json", headers=headers
        )
        assert response.status_code == 200 and not response.json()["rejected"], response.content[
            :300
        ]
    return time.perf_counter() - began


def main() -> None:
    from metrolab.core.services import api_token_create, user_create

    vendor = connection.vendor
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    if vendor == "postgresql":
        version = connection.cursor().connection.info.server_version
        where = f"PostgreSQL {version // 10000}.{version % 10000}"
    else:
        where = "SQLite file, WAL"
    try:
        device = user_create(username="bench-device", password=None, roles=["device"], actor=SYSTEM)
        _token, raw = api_token_create(user=device, name="bench", roles=["device"], actor=SYSTEM)
        span = dt.timedelta(seconds=BATCHES * STEPS)
        results = {"baseline": [], "bare": [], "ingest": [], "http": []}
        for r in range(REPEAT):
            # Fresh sensors each round, so every round starts from the same state.
            start = T0 + r * span
            results["baseline"].append(run_baseline(make_sensors(f"B{r}"), start))
            results["bare"].append(run_ingest(make_sensors(f"N{r}"), start, listeners=False))
            results["ingest"].append(run_ingest(make_sensors(f"I{r}"), start))
            results["http"].append(run_http(make_sensors(f"H{r}", device), start, raw))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    base = statistics.median(results["baseline"])
    print(
        f"Environment ingestion on {where}, "
        f"{BATCHES} batches × {SENSORS * STEPS} readings, {SENSORS} sensors, median of {REPEAT}"
    )
    print("   (goal: ≥ 10 000 readings/s stored)")
    for label, key in (
        ("bare bulk_create (baseline)", "baseline"),
        ("ingest_readings, no listeners", "bare"),
        ("ingest_readings + alarms, rules", "ingest"),
        ("HTTP API, device token", "http"),
    ):
        seconds = statistics.median(results[key])
        print(f"   {label:<32} {rate(seconds):>9,.0f} readings/s   time ratio {seconds / base:.2f}")


if __name__ == "__main__":
    main()
