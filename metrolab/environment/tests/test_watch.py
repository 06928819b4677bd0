"""`metrolab environment-watch` (R6.11d, R6.9c, R6.11e): one tick raises the offline alarms
and the alarms whose delay ran out, and runs the control rules when the regulation module
provides them; as a real process it keeps watching until SIGTERM and then stops cleanly."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import types
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from metrolab.environment import alarms, ingest
from metrolab.environment.ingest import ingest_readings
from metrolab.environment.management.commands.environment_watch import CONTROL_MODULE
from metrolab.environment.models import Alarm, Reading, Requirement
from metrolab.environment.tests.mqtt_fixtures import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings, monkeypatch):
    settings.LANGUAGE_CODE = "en"
    # Readings are stored without the listeners: the watch must find what they would have.
    monkeypatch.setattr(ingest, "ingest_listeners", [])


@pytest.fixture
def control_calls(monkeypatch):
    """A stand-in regulation module: records the times `evaluate_all` is called with."""
    calls = []
    module = types.ModuleType(CONTROL_MODULE)
    module.evaluate_all = calls.append
    monkeypatch.setitem(sys.modules, CONTROL_MODULE, module)
    return calls


def recent(seconds_ago: float) -> dt.datetime:
    return timezone.now().replace(microsecond=0) - dt.timedelta(seconds=seconds_ago)


def store(code: str, moment: dt.datetime, value: float) -> None:
    """A reading stored without the listeners (the watch must see to it on its own)."""
    result = ingest_readings(
        [{"sensor": code, "time": moment.isoformat(), "value": value}], channel="simulated"
    )
    assert result.stored == 1, result.rejected


@pytest.fixture
def watched(room, make_sensor):
    """T-01 silent for 10 min (period 60 s: offline); H-01 reporting, and outside its range
    for 10 min (delay 5 min) with no newer reading."""
    make_sensor("T-01", room, period_seconds=60)
    make_sensor("H-01", room, quantity="humidity", unit="%RH", period_seconds=3600)
    humidity = Requirement.objects.get(room=room, quantity="humidity")
    humidity.alarm_delay_seconds = 300
    humidity.save()
    store("T-01", recent(600), 20.0)
    store("H-01", recent(600), 75.0)
    readings = list(Reading.objects.filter(sensor__code="H-01").select_related("sensor"))
    alarms.on_readings(readings)  # the excursion starts; the delay has not run out yet then
    assert Alarm.objects.count() == 0
    return humidity


def test_one_tick_raises_offline_and_delayed_alarms_and_runs_the_rules(watched, control_calls):
    out = StringIO()
    before = timezone.now()
    call_command("environment_watch", once=True, stdout=out)
    assert "Environment watch: 2 alarm(s) raised, 0 cleared." in out.getvalue()
    assert sorted((a.sensor.code, a.kind) for a in Alarm.objects.all()) == [
        ("H-01", "high"),
        ("T-01", "offline"),
    ]
    humid = Alarm.objects.get(kind="high")
    assert (humid.value, humid.limit) == (75.0, Decimal("70"))
    assert len(control_calls) == 1 and control_calls[0] >= before

    call_command("environment_watch", once=True, stdout=out)  # nothing new
    assert "Environment watch: 0 alarm(s) raised, 0 cleared." in out.getvalue()
    assert Alarm.objects.count() == 2


def test_without_the_regulation_module_the_watch_still_runs(watched, monkeypatch):
    monkeypatch.setitem(sys.modules, CONTROL_MODULE, None)  # "not installed"
    out = StringIO()
    call_command("environment_watch", once=True, stdout=out)
    assert "2 alarm(s) raised, 0 cleared (no control rules module)." in out.getvalue()


def test_a_failing_step_is_logged_and_the_others_run(watched, monkeypatch, caplog):
    def broken(now):
        raise RuntimeError("database went away")

    module = types.ModuleType(CONTROL_MODULE)
    module.evaluate_all = broken
    monkeypatch.setitem(sys.modules, CONTROL_MODULE, module)
    monkeypatch.setattr("metrolab.environment.alarms.check_offline", broken)
    out = StringIO()
    call_command("environment_watch", once=True, stdout=out)
    assert "1 alarm(s) raised" in out.getvalue()  # the delayed one
    assert "the offline check failed" in caplog.text
    assert "the control rules failed" in caplog.text


def test_the_interval_must_be_positive():
    with pytest.raises(CommandError, match="positive"):
        call_command("environment_watch", once=True, interval=0)


def _database_url() -> str:
    """The test database, as a DATABASE_URL for a child process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.mark.django_db(transaction=True)
def test_the_command_watches_until_sigterm_and_stops_cleanly(room, make_sensor):
    """A real process on the test database: it raises the offline alarm of a silent sensor
    within a tick, and exits 0 with its summary on SIGTERM."""
    make_sensor("T-01", room, period_seconds=60)
    store("T-01", recent(600), 20.0)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "metrolab.cli", "environment-watch", "--interval", "0.2"],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        assert "Environment watch: every 0.2 s" in first_line, first_line
        wait_for(lambda: Alarm.objects.filter(sensor__code="T-01", kind="offline").exists())
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 0, output
    assert "Environment watch stopped:" in output
    assert "1 alarm(s) raised" in output
    assert Alarm.objects.count() == 1
