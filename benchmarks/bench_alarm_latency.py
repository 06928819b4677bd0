"""Alarm latency from MQTT publish to alarm raised (issue 6, goal ≤ 1 s), printed beside a
baseline measured in the same run (never asserted in tests: machines here are shared and
noisy).

    uv run python benchmarks/bench_alarm_latency.py                # SQLite (WAL, on disk)
    DATABASE_URL=postgres://user:pw@127.0.0.1:5432/metrolab_bench \
        uv run python benchmarks/bench_alarm_latency.py

Needs `mosquitto` (Debian package): the run starts its own broker on a free loopback port,
with the password file and ACL of the test fixture (`environment/tests/mqtt_fixtures.py`),
and a throw-away test database (on PostgreSQL `test_<name>`: point DATABASE_URL at a name no
test run is using); both are removed afterwards.

The production path end to end: a device publishes one reading (QoS 1) on
`<root>/env/<sensor>/reading`; the `MqttIngester` (a thread, as in `metrolab mqtt-ingest`,
default settings: it flushes 200 ms after a batch's first message) stores it with
`ingest_readings`, and after the commit the alarm listener `alarms.on_readings` evaluates it
(a room requirement 15–25 ℃, no delay), raises the alarm and tells the responsible person and
the equipment manager (notifications with their deliveries), all committed. A wrapper around
the listener notes when it is called (the reading is committed) and when it returns (the
alarm is committed); every alarm is also checked in the database, outside the timing.

Each repetition publishes three readings of the same sensor:
1. 30 ℃: raises an alarm. Measured: publish → alarm committed.
2. 20 ℃: clears it (not measured).
3. 20.5 ℃: changes no alarm. Measured (baseline): publish → reading committed; and the
   time the alarm engine took to find that nothing changes (its cost on every batch).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from metrolab.core.permissions import SYSTEM  # noqa: E402

REPEAT = 50
GOAL_SECONDS = 1.0
SENSOR = "BENCH-T01"


class Probe:
    """The alarm listener, timed: `stored` when ingestion committed and called it, `done`
    when the alarm engine returned (its transaction committed)."""

    def __init__(self):
        from metrolab.environment import alarms

        self.on_readings = alarms.on_readings
        self.event = threading.Event()
        self.stored = self.done = 0.0

    def __call__(self, readings):
        self.stored = time.perf_counter()
        self.on_readings(readings)
        self.done = time.perf_counter()
        self.event.set()


def make_room():
    from decimal import Decimal

    from metrolab.core.services import user_create
    from metrolab.environment.models import Requirement, Room, Sensor

    responsible = user_create(
        username="bench-responsible", password=None, roles=["metrologist"], actor=SYSTEM
    )
    user_create(
        username="bench-equipment", password=None, roles=["equipment_manager"], actor=SYSTEM
    )
    room = Room.objects.create(code="BENCH-TL", name="Benchmark lab", responsible=responsible)
    Requirement.objects.create(
        room=room, quantity="temperature", low=Decimal(15), high=Decimal(25), unit="℃"
    )
    Sensor.objects.create(
        code=SENSOR, name="bench probe", room=room, quantity="temperature", unit="℃"
    )


def start_broker(directory: Path):
    from metrolab.environment.tests.mqtt_fixtures import Broker, free_port, mosquitto_binary

    binary = mosquitto_binary()
    if binary is None:
        sys.exit("mosquitto is not installed (apt-get install mosquitto)")
    broker = Broker(
        binary=binary,
        directory=directory,
        port=free_port(),
        auth=shutil.which("mosquitto_passwd") is not None,
    )
    broker.write_config()
    broker.start()
    return broker


def run(broker) -> dict[str, list[float]]:
    from metrolab.environment import ingest
    from metrolab.environment.models import Alarm, Reading
    from metrolab.environment.mqtt import MqttIngester, reading_topic

    probe = Probe()
    ingest.ingest_listeners[:] = [probe]
    broker.configure(settings, client_id="metrolab-bench-ingest")
    ingester = MqttIngester()
    thread = threading.Thread(target=ingester.run, name="mqtt-ingester", daemon=True)
    thread.start()
    if not ingester.subscribed.wait(30):
        sys.exit("the ingester did not subscribe on the broker")
    publisher = broker.publisher()
    topic = reading_topic(SENSOR, root=broker.root)
    results: dict[str, list[float]] = {"alarm": [], "engine": [], "baseline": [], "quiet": []}

    def round_trip(value: float) -> float:
        """Publish one reading now; the seconds until the listener was called."""
        probe.event.clear()
        moment = dt.datetime.now(dt.UTC).isoformat()
        began = time.perf_counter()
        publisher.publish(topic, json.dumps({"time": moment, "value": value}))
        if not probe.event.wait(30):
            sys.exit(f"no reading stored within 30 s ({ingester.stats})")
        return began

    try:
        for n in range(REPEAT + 2):  # the first two warm up (connections, caches)
            began = round_trip(30.0)
            alarm, engine = probe.done - began, probe.done - probe.stored
            assert Alarm.objects.filter(cleared_at__isnull=True).count() == 1
            round_trip(20.0)
            assert not Alarm.objects.filter(cleared_at__isnull=True).exists()
            began = round_trip(20.5)
            baseline, quiet = probe.stored - began, probe.done - probe.stored
            if n >= 2:
                results["alarm"].append(alarm)
                results["engine"].append(engine)
                results["baseline"].append(baseline)
                results["quiet"].append(quiet)
        assert Alarm.objects.count() == REPEAT + 2
        assert Reading.objects.count() == 3 * (REPEAT + 2)
    finally:
        publisher.close()
        ingester.stop()
        thread.join(30)
    return results


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def main() -> None:
    vendor = connection.vendor
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    if vendor == "postgresql":
        version = connection.cursor().connection.info.server_version
        where = f"PostgreSQL {version // 10000}.{version % 10000}"
    else:
        where = "SQLite file, WAL"
    directory = Path(tempfile.mkdtemp(prefix="bench-mosquitto-"))
    broker = None
    try:
        make_room()
        broker = start_broker(directory)
        results = run(broker)
    finally:
        if broker is not None:
            broker.stop()
        shutil.rmtree(directory, ignore_errors=True)
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    base = statistics.median(results["baseline"])
    print(
        f"Alarm latency on {where}, MQTT publish (QoS 1) → committed, Mosquitto on loopback, "
        f"{REPEAT} repetitions"
    )
    print(f"   (goal: alarm raised ≤ {GOAL_SECONDS:g} s after the publish)")
    for label, key in (
        ("reading stored, no alarm (baseline)", "baseline"),
        ("alarm raised and told", "alarm"),
        ("  of which the alarm engine", "engine"),
        ("alarm engine, reading raising none", "quiet"),
    ):
        values = results[key]
        median = statistics.median(values)
        print(
            f"   {label:<36} median {median * 1000:7.1f} ms   p95 {p95(values) * 1000:7.1f} ms"
            f"   max {max(values) * 1000:7.1f} ms   ratio {median / base:.2f}"
        )


if __name__ == "__main__":
    main()
