"""Cells and the change trail (R6.2c): only the measurer (or a device, readings only) writes a
draft; unknown and protected cells are refused; every change keeps old → new, who, when,
status and source; after a return a reason is required; the history groups the changes
field by field and the record's state replays at any moment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import SYSTEM
from metrolab.core.services import user_create
from metrolab.core.testing import refused
from metrolab.records import services
from metrolab.records.errors import RecordRefusal
from metrolab.records.models import Record, RecordChange
from metrolab.records.selectors import record_history, record_state_at
from metrolab.records.tests.fixtures import gauge_cells

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_only_the_measurer_writes(cast, gauge_record):
    refused(
        services.record_write,
        record=gauge_record,
        values={"standard.1": "0"},
        actor=cast["checker"],
        code=CoreRefusal.FORBIDDEN,
        unchanged=("records",),
    )


def test_unknown_and_protected_cells_are_refused(cast, gauge_record):
    error = refused(
        services.record_write,
        record=gauge_record,
        values={"error_up.1": "0", "header.method": "JJG 1", "standard.1": "0"},
        actor=cast["metrologist"],
        code=RecordRefusal.PROTECTED_CELL,
        unchanged=("records",),
    )
    assert set(error.errors) == {"error_up.1", "header.method"}
    error = refused(
        services.record_write,
        record=gauge_record,
        values={"standard.99": "0", "nonsense": "1"},
        actor=cast["metrologist"],
        code=RecordRefusal.UNKNOWN_CELL,
        unchanged=("records",),
    )
    assert set(error.errors) == {"standard.99", "nonsense"}
    refused(
        services.record_write,
        record=gauge_record,
        values={"standard.1": 5},
        actor=cast["metrologist"],
        code=CoreRefusal.INVALID,
        unchanged=("records",),
    )
    refused(
        services.record_write,
        record=gauge_record,
        values={"standard.1": "9" * 301},
        actor=cast["metrologist"],
        code=CoreRefusal.INVALID,
        unchanged=("records",),
    )


def test_a_device_writes_readings_only(cast, gauge_record):
    device = user_create(username="press-1", password=None, roles=["device"], actor=SYSTEM)
    services.record_write(
        record=gauge_record, values={"standard.1": "0"}, actor=device, source="device"
    )
    change = RecordChange.objects.get(record=gauge_record)
    assert (change.cell, change.by, change.source) == ("standard.1", device, "device")
    refused(
        services.record_write,
        record=gauge_record,
        values={"param.accuracy_class": "2.5"},
        actor=device,
        code=CoreRefusal.FORBIDDEN,
        unchanged=("records",),
    )


def test_trail_reason_after_return_history_and_replay(cast, gauge_record, move):
    record = move(gauge_record, "submitted")
    first = list(RecordChange.objects.filter(record=record).order_by("pk"))
    assert len(first) == len(gauge_cells())
    assert all(c.old == "" and c.by == cast["metrologist"] and c.status == "draft" for c in first)
    before_return = timezone.now()
    services.record_return(record=record, actor=cast["checker"], reason="点 2 升压读数有误")
    record.refresh_from_db()
    # After the return a reason is required.
    error = refused(
        services.record_write,
        record=record,
        values={"up_after.2": "0.331"},
        actor=cast["metrologist"],
        code=RecordRefusal.REASON_REQUIRED,
        unchanged=("records",),
    )
    assert error.field == "reason"
    services.record_write(
        record=record,
        values={"up_after.2": "0.331", "standard.1": "0"},  # the second unchanged: no entry
        actor=cast["metrologist"],
        reason="按原始读数更正",
    )
    record = Record.objects.get(pk=record.pk)
    change = RecordChange.objects.filter(record=record, cell="up_after.2").last()
    assert (change.old, change.new, change.reason, change.status) == (
        "0.330",
        "0.331",
        "按原始读数更正",
        "draft",
    )
    assert record.results["points"][1]["values"]["error_up"]["text"] == "0.011"
    history = {entry["cell"]: entry for entry in record_history(record)}
    assert [(c["old"], c["new"], c["reason"]) for c in history["up_after.2"]["changes"]] == [
        ("", "0.330", ""),
        ("0.330", "0.331", "按原始读数更正"),
    ]
    assert history["up_after.2"]["label"]["zh"] == "升压 轻敲后"
    # Replay: before the correction the record held 0.330 and was submitted.
    then = record_state_at(record, before_return)
    assert then["status"] == "submitted"
    assert then["cells"]["up_after.2"] == "0.330"
    assert then["results"]["points"][1]["values"]["error_up"]["text"] == "0.010"
    now = record_state_at(record, timezone.now())
    assert now["status"] == "draft" and now["cells"]["up_after.2"] == "0.331"
    # Before the record existed: nothing.
    empty = record_state_at(record, record.started_at - dt.timedelta(minutes=1))
    assert empty["existed"] is False and empty["cells"] == {}


def test_preview_evaluates_without_saving(cast, gauge_record):
    preview = services.record_preview(gauge_record, gauge_cells())
    assert preview["decision"] == "pass" and preview["complete"] is True
    assert preview["results_table"]["rows"][5]["cells"][-1] == "0.0400"
    assert any(c["id"] == "up_after.6" for c in preview["cells"])
    assert Record.objects.get(pk=gauge_record.pk).cells == {}
    assert not RecordChange.objects.exists()
