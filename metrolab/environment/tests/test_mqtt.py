"""MQTT ingestion against a real Mosquitto (issue 6, R6.11a-c): single readings and batches are
stored, bad payloads are counted and never stored, the broker's ACL keeps a device to its own
topics, the ingester survives a broker restart, and the command stops on SIGTERM."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db.models import Sum

from metrolab.environment.models import IngestCounter, Reading
from metrolab.environment.mqtt import (
    MqttIngester,
    Unreadable,
    batch_topic,
    parse_message,
    reading_topic,
)
from metrolab.environment.tests.mqtt_fixtures import *  # noqa: F403  (the broker fixtures)
from metrolab.environment.tests.mqtt_fixtures import DEVICE, DEVICE_SENSOR, TEST_ROOT, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def recent(seconds_ago: int) -> dt.datetime:
    """A whole second shortly before now (the ingester refuses times > 5 min ahead)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return now - dt.timedelta(seconds=seconds_ago)


def topic(code: str) -> str:
    return reading_topic(code, root=TEST_ROOT)


def stored(code: str) -> list[tuple[dt.datetime, float]]:
    return list(
        Reading.objects.filter(sensor__code=code).order_by("time").values_list("time", "value")
    )


def mqtt_rejected() -> int:
    total = IngestCounter.objects.filter(channel="mqtt").aggregate(n=Sum("rejected"))["n"]
    return total or 0


@pytest.fixture
def sensors(room, make_sensor, make_device):
    device, _raw = make_device(DEVICE[0])
    other, _raw = make_device("dev-other")
    return {
        "TH-01": make_sensor(DEVICE_SENSOR, room, device=device),
        "RH-01": make_sensor("RH-01", room, quantity="humidity", unit="%RH"),
        "TH-02": make_sensor("TH-02", room, device=other),
    }


# --- the envelope, without a broker -------------------------------------------------------------


@pytest.mark.django_db(transaction=False)
def test_parse_message_reads_the_topic_scheme():
    t = recent(10)
    single = parse_message(
        "metrolab/test/env/TH-01/reading",
        json.dumps({"time": t.isoformat(), "value": 20.5}).encode(),
        root="metrolab/test",
    )
    assert single.problem == ""
    assert single.items == [{"sensor": "TH-01", "time": t.isoformat(), "value": 20.5}]

    batch = parse_message(
        "metrolab/test/env/batch/dev-th-01",
        b'{"readings": [{"sensor": "TH-01", "time": 1, "value": 2}]}',
        root="metrolab/test",
    )
    assert batch.device_username == "dev-th-01"
    assert batch.items == [{"sensor": "TH-01", "time": 1, "value": 2}]

    for topic_, payload, problem in [
        ("metrolab/test/env/TH-01/reading", b"20.5 degrees", "payload is not JSON"),
        ("metrolab/test/env/TH-01/reading", b"\xff\xfe", "payload is not JSON"),
        ("metrolab/test/env/TH-01/reading", b"[1, 2]", "payload must be an object"),
        ("metrolab/test/env/TH-01/reading", b'{"value": 1}', "payload must be an object"),
        ("metrolab/test/env/TH-01/reading", b'{"sensor": "X", "time": 1, "value": 1}', "differs"),
        ("metrolab/test/env/batch", b'{"readings": 5}', "readings"),
        ("metrolab/test/env/TH-01/other", b"{}", "unknown topic"),
        ("elsewhere/env/TH-01/reading", b"{}", "topic outside"),
    ]:
        parsed = parse_message(topic_, payload, root="metrolab/test")
        assert problem in parsed.problem, (topic_, payload, parsed)
        assert parsed.items == []


# --- with a real broker -------------------------------------------------------------------------


def test_single_readings_and_a_batch_are_stored(mqtt_broker, run_ingester, sensors):
    ingester = run_ingester()
    t1, t2, t3 = recent(30), recent(20), recent(10)
    gateway = mqtt_broker.publisher()
    try:
        gateway.publish(topic("TH-01"), json.dumps({"time": t1.isoformat(), "value": 20.25}))
        # Epoch seconds, and an ISO time in another zone (+08:00), are both accepted.
        gateway.publish(topic("RH-01"), json.dumps({"time": t1.timestamp(), "value": 45}))
        east = t2.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()
        gateway.publish(
            batch_topic(root=TEST_ROOT),
            json.dumps(
                {
                    "readings": [
                        {"sensor": "TH-01", "time": east, "value": 20.5},
                        {"sensor": "TH-01", "time": t3.isoformat(), "value": 20.75},
                        {"sensor": "RH-01", "time": t3.isoformat(), "value": 46.5},
                    ]
                }
            ),
        )
    finally:
        gateway.close()

    wait_for(lambda: Reading.objects.count() == 5)
    assert stored("TH-01") == [(t1, 20.25), (t2, 20.5), (t3, 20.75)]
    assert stored("RH-01") == [(t1, 45.0), (t3, 46.5)]
    # The ingester counts a batch once its listeners (alarms, rules) ran, after the commit.
    wait_for(lambda: ingester.stats.stored == 5)
    assert ingester.stats.rejected == 0
    accepted = IngestCounter.objects.filter(channel="mqtt").aggregate(n=Sum("accepted"))["n"]
    assert accepted == 5
    # TH-01's readings are counted against its device (the ACL lets only it write its topic).
    device_counter = IngestCounter.objects.get(channel="mqtt", device__username=DEVICE[0])
    assert device_counter.accepted == 1


def test_bad_payloads_are_counted_never_stored_and_the_ingester_goes_on(
    mqtt_broker, run_ingester, sensors
):
    ingester = run_ingester()
    now = recent(0)
    gateway = mqtt_broker.publisher()
    try:
        gateway.publish(topic("RH-01"), b"not json at all")
        gateway.publish(topic("RH-01"), f'{{"time": "{now.isoformat()}", "value": NaN}}')
        gateway.publish(topic("RH-01"), json.dumps({"time": now.isoformat(), "value": "warm"}))
        gateway.publish(topic("NOPE-9"), json.dumps({"time": now.isoformat(), "value": 1.0}))
        future = now + dt.timedelta(hours=2)
        gateway.publish(topic("RH-01"), json.dumps({"time": future.isoformat(), "value": 40}))
        gateway.publish(topic("RH-01"), json.dumps({"time": "2026-11-30T08:00:00", "value": 40}))
        gateway.publish(batch_topic(root=TEST_ROOT), json.dumps({"readings": ["x", 7]}))
        gateway.publish(topic("RH-01"), json.dumps([now.isoformat(), 40]))
        # After all of these, a good reading is still stored.
        gateway.publish(topic("RH-01"), json.dumps({"time": now.isoformat(), "value": 41.5}))
    finally:
        gateway.close()

    wait_for(lambda: stored("RH-01") == [(now, 41.5)])
    # not JSON, NaN, "warm", unknown sensor, future, naive time, 2 batch items, wrong shape
    wait_for(lambda: mqtt_rejected() == 9)
    assert Reading.objects.count() == 1
    wait_for(lambda: ingester.stats.messages == 9)
    assert ingester.stats.unreadable == 2
    last = IngestCounter.objects.filter(channel="mqtt").order_by("-last_seen").first()
    assert last.accepted == 1
    assert last.last_seen is not None


def test_implausible_early_and_old_readings_are_refused_over_mqtt(
    mqtt_broker, run_ingester, sensors, room, make_sensor
):
    """The same checks as over HTTP: a humidity above 100 %RH, a value outside the sensor's
    plausible range, a time before the sensor's installation or older than raw readings are
    kept are refused and counted; the good readings of the same batch are stored."""
    make_sensor("TH-R", room, plausible_low=0, plausible_high=50)
    make_sensor("TH-N", room, installed_at=recent(60))
    ingester = run_ingester()
    now = recent(0)
    gateway = mqtt_broker.publisher()
    try:
        gateway.publish(topic("RH-01"), json.dumps({"time": now.isoformat(), "value": 100.5}))
        gateway.publish(
            batch_topic(root=TEST_ROOT),
            json.dumps(
                {
                    "readings": [
                        {"sensor": "TH-R", "time": now.isoformat(), "value": 51},
                        {"sensor": "TH-N", "time": recent(120).isoformat(), "value": 21},
                        {
                            "sensor": "RH-01",
                            "time": (now - dt.timedelta(days=40)).isoformat(),
                            "value": 45,
                        },
                        {"sensor": "TH-R", "time": now.isoformat(), "value": 49.5},
                        {"sensor": "TH-N", "time": now.isoformat(), "value": 21},
                    ]
                }
            ),
        )
    finally:
        gateway.close()

    wait_for(lambda: mqtt_rejected() == 4)
    wait_for(lambda: ingester.stats.stored == 2)
    assert stored("TH-R") == [(now, 49.5)]
    assert stored("TH-N") == [(now, 21.0)]
    assert stored("RH-01") == []
    assert ingester.stats.rejected == 4
    counter = IngestCounter.objects.get(channel="mqtt", device=None)
    assert (counter.accepted, counter.rejected) == (2, 4)
    assert counter.last_rejection == (
        "[too_old] RH-01: The time is older than raw readings are kept (31 days)."
    )


def test_a_device_batch_topic_carries_only_the_devices_own_sensors(
    mqtt_broker, run_ingester, sensors
):
    """On its own batch topic a device reports for its sensor; another device's sensor and a
    sensor bound to no device are refused (only the trusted topics feed those)."""
    run_ingester()
    t1 = recent(10)
    device = mqtt_broker.publisher(DEVICE)
    try:
        device.publish(
            batch_topic(DEVICE[0], root=TEST_ROOT),
            json.dumps(
                {
                    "readings": [
                        {"sensor": code, "time": t1.isoformat(), "value": 21.0}
                        for code in ("TH-01", "TH-02", "RH-01")
                    ]
                }
            ),
        )
    finally:
        device.close()

    counter = wait_for(
        lambda: IngestCounter.objects.filter(
            channel="mqtt", device__username=DEVICE[0], rejected=2
        ).first()
    )
    assert counter.accepted == 1
    assert "not_allowed" in counter.last_rejection and "RH-01" in counter.last_rejection
    assert stored("TH-01") == [(t1, 21.0)]
    assert stored("TH-02") == [] and stored("RH-01") == []


def test_the_broker_keeps_a_device_to_its_own_topics(mqtt_broker, run_ingester, sensors):
    if not mqtt_broker.auth:
        pytest.skip("mosquitto_passwd is not installed: the test broker runs without an ACL")
    run_ingester()
    t1, t2 = recent(20), recent(10)
    device = mqtt_broker.publisher(DEVICE)
    try:
        # Another sensor's topic: the broker's ACL drops it (the device gets no error).
        device.publish(topic("RH-01"), json.dumps({"time": t1.isoformat(), "value": 50}))
        # Its own batch topic: its own sensor is accepted, a sensor bound to another device
        # is refused.
        device.publish(
            batch_topic(DEVICE[0], root=TEST_ROOT),
            json.dumps(
                {
                    "readings": [
                        {"sensor": "TH-01", "time": t1.isoformat(), "value": 21.0},
                        {"sensor": "TH-02", "time": t1.isoformat(), "value": 21.0},
                    ]
                }
            ),
        )
        device.publish(topic("TH-01"), json.dumps({"time": t2.isoformat(), "value": 21.5}))
    finally:
        device.close()

    wait_for(lambda: len(stored("TH-01")) == 2)
    assert stored("TH-01") == [(t1, 21.0), (t2, 21.5)]
    assert stored("RH-01") == []
    assert stored("TH-02") == []
    counter = IngestCounter.objects.get(channel="mqtt", device__username=DEVICE[0])
    assert (counter.accepted, counter.rejected) == (2, 1)
    assert "not_allowed" in counter.last_rejection


def test_the_ingester_reconnects_after_a_broker_restart(mqtt_broker, run_ingester, sensors):
    ingester = run_ingester()
    t1, t2 = recent(20), recent(10)
    gateway = mqtt_broker.publisher()
    gateway.publish(topic("RH-01"), json.dumps({"time": t1.isoformat(), "value": 40}))
    gateway.close()
    wait_for(lambda: len(stored("RH-01")) == 1)

    mqtt_broker.stop()
    wait_for(lambda: not ingester.connected.is_set())
    mqtt_broker.start()
    wait_for(lambda: ingester.subscribed.is_set() and ingester.stats.connects >= 2, timeout=60)

    gateway = mqtt_broker.publisher()
    gateway.publish(topic("RH-01"), json.dumps({"time": t2.isoformat(), "value": 41}))
    gateway.close()
    wait_for(lambda: len(stored("RH-01")) == 2)
    assert stored("RH-01") == [(t1, 40.0), (t2, 41.0)]


def test_the_command_receives_what_was_published_while_it_was_away(mqtt_broker, settings, sensors):
    """The session is persistent: QoS 1 messages wait in the broker for the ingester."""
    mqtt_broker.configure(settings, client_id="metrolab-ingest-once")
    first = MqttIngester()
    thread = threading.Thread(target=first.run, daemon=True)
    thread.start()
    assert first.subscribed.wait(30)
    first.stop()
    thread.join(30)

    times = [recent(30), recent(20), recent(10)]
    gateway = mqtt_broker.publisher()
    try:
        for index, moment in enumerate(times):
            gateway.publish(
                topic("RH-01"), json.dumps({"time": moment.isoformat(), "value": index})
            )
    finally:
        gateway.close()

    out = StringIO()
    call_command("mqtt_ingest", once=3, seconds=120, stdout=out)
    assert "3 message(s), 3 reading(s) stored, 0 rejected" in out.getvalue()
    assert stored("RH-01") == [(moment, float(i)) for i, moment in enumerate(times)]


def test_unreadable_items_are_rejected_as_bad_items_by_the_ingest_function(sensors):
    from metrolab.environment.ingest import ingest_readings

    result = ingest_readings([Unreadable("payload is not JSON")], channel="mqtt")
    assert result.stored == 0
    assert [r.code for r in result.rejected] == ["bad_item"]


@pytest.mark.django_db(transaction=False)
def test_the_command_stops_cleanly_on_sigterm():
    """A real process: started, sent SIGTERM, exits 0 with its summary (no broker needed: it
    keeps retrying the connection until stopped)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "metrolab.cli", "mqtt_ingest"],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        assert "MQTT ingester: broker" in first_line, first_line
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 0, output
    assert "MQTT ingester stopped: 0 message(s)" in output
