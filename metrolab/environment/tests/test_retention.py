"""Retention (R6.11c): raw readings and minute aggregates older than their settings go, in
chunks, with progress printed; hour aggregates and everything younger stay."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from metrolab.environment.ingest import ingest_readings
from metrolab.environment.models import Aggregate, Reading
from metrolab.environment.retention import retention_run
from metrolab.environment.tasks import environment_retention_task

from .conftest import T0

pytestmark = pytest.mark.django_db

NOW = T0 - dt.timedelta(days=1)  # in the past, so the command (real now) sees it all


@pytest.fixture
def history(room, make_sensor):
    """Readings of one sensor around both cut-offs (31 days for raw, 400 for minutes), stored
    while the raw readings were kept longer (the ingester refuses what retention would
    delete)."""
    make_sensor("T-1", room, installed_at=NOW - dt.timedelta(days=500))
    raw_cut = NOW - dt.timedelta(days=31)
    minute_cut = NOW - dt.timedelta(days=400)
    times = [
        raw_cut - dt.timedelta(minutes=2),
        raw_cut - dt.timedelta(microseconds=1),  # just before: goes
        raw_cut,  # on the cut-off: stays
        raw_cut + dt.timedelta(seconds=1),
        minute_cut - dt.timedelta(minutes=1),  # its minute goes, its hour stays
        minute_cut,
    ]
    with override_settings(METROLAB_ENV_RAW_DAYS=500):
        result = ingest_readings(
            [{"sensor": "T-1", "time": t, "value": 20.0} for t in times], channel="http", now=NOW
        )
    assert result.stored == len(times)
    return raw_cut, minute_cut


def test_retention_run(history):
    raw_cut, minute_cut = history
    hours_before = Aggregate.objects.filter(period="h").count()
    lines = []
    result = retention_run(now=NOW, chunk=1, progress=lines.append)
    assert (result.raw_before, result.minute_before) == (raw_cut, minute_cut)
    assert sorted(Reading.objects.values_list("time", flat=True)) == [
        raw_cut,
        raw_cut + dt.timedelta(seconds=1),
    ]
    assert result.readings_deleted == 4
    minutes = set(Aggregate.objects.filter(period="m").values_list("start", flat=True))
    assert minute_cut - dt.timedelta(minutes=1) not in minutes and minute_cut in minutes
    assert result.minutes_deleted == 1
    assert Aggregate.objects.filter(period="h").count() == hours_before  # hours are kept
    # One line per chunk: the progress is visible.
    assert len(lines) == 5 and lines[3].endswith("4 deleted")


def test_retention_settings(history, settings):
    settings.METROLAB_ENV_RAW_DAYS = 600
    settings.METROLAB_ENV_MINUTE_DAYS = 600
    result = retention_run(now=NOW)
    assert (result.readings_deleted, result.minutes_deleted) == (0, 0)
    settings.METROLAB_ENV_RAW_DAYS = 0
    assert retention_run(now=NOW).readings_deleted == 6
    assert not Reading.objects.exists()


def test_command_and_task(history, settings):
    settings.METROLAB_ENV_RAW_DAYS = 0  # relative to the real now: all of the fixture
    settings.METROLAB_ENV_MINUTE_DAYS = 0
    out = StringIO()
    call_command("environment_retention", "--chunk", "4", stdout=out)
    text = out.getvalue()
    assert "raw readings before" in text and "4 deleted" in text and "6 deleted" in text
    assert "Done: 6 raw readings" in text
    assert not Reading.objects.exists() and not Aggregate.objects.filter(period="m").exists()
    assert Aggregate.objects.filter(period="h").exists()
    assert environment_retention_task.call() == {"readings": 0, "minutes": 0}
