"""The life of an original record end to end with the built-in JJG 52-2013 template (R6.2,
R4.4): made from the started task, filled with the engine's worked example (real numbers),
submitted, checked and approved; the task moves in_progress → checking → done, the equipment
usage closes, the customer's instrument register is updated, the listeners run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from metrolab.equipment.models import UsageRecord
from metrolab.records import services
from metrolab.records.models import Record, RecordSignature
from metrolab.records.selectors import record_detail
from metrolab.records.tests.fixtures import PASSWORD
from metrolab.tasks.models import Task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_a_record_is_pinned_when_made(cast, gauge_record, gauge_task, qualified_setup):
    record = gauge_record
    today = timezone.localdate()
    assert record.number == f"JL{today.year}000001"
    assert record.status == Record.Status.DRAFT and record.measured_by == cast["metrologist"]
    assert record.template_version.template.code == "jjg52-2013-pressure-gauge"
    assert record.method == qualified_setup.method
    assert record.retain_until == today.replace(year=today.year + 6)
    assert record.context["item"]["number"] == gauge_task.item.number
    assert record.context["customer"]["name"] == "甲方仪表厂 Customer A"
    assert record.context["method"]["code"] == "JJG 52-2013"
    uses = {u.equipment.asset_no: u for u in record.equipment_used.all()}
    assert uses["YQ-001"].role == "standard" and uses["YQ-002"].role == ""
    assert uses["YQ-001"].calibration == qualified_setup.calibrations[0]
    assert uses["YQ-001"].snapshot["certificate_no"] == "YJL2025-0001"
    assert (
        uses["YQ-001"].snapshot["due_date"] == qualified_setup.calibrations[0].due_date.isoformat()
    )
    assert record.complete is False and record.transitions.get().target == "draft"


def test_end_to_end_with_the_worked_example(cast, gauge_record, move):
    record = move(gauge_record, "filled")
    # The engine's worked example: errors, hysteresis, 合格.
    assert record.complete is True and record.decision == "pass"
    summary = record.results["summary"]
    assert summary["max_error"]["text"] == "0.035"
    assert summary["max_hysteresis"]["text"] == "0.010"
    points = record.results["points"]
    assert points[5]["values"]["mpe"]["text"] == "0.0400"
    assert points[1]["values"]["error_up"]["text"] == "0.010"
    # Header fields come from the frozen context and the equipment snapshot.
    assert record.results["header"]["standard_certificate"] == "YJL2025-0001"
    assert record.results["header"]["method"] == "JJG 52-2013"

    task = record.task
    assert UsageRecord.objects.filter(task=task, ended_at__isnull=True).count() == 2
    record = services.record_submit(record=record, actor=cast["metrologist"], password=PASSWORD)
    task.refresh_from_db()
    assert record.status == "submitted" and task.status == Task.Status.CHECKING
    assert UsageRecord.objects.filter(task=task, ended_at__isnull=True).count() == 0
    record = services.record_check(record=record, actor=cast["checker"], password=PASSWORD)
    assert record.status == "checked" and record.checked_by == cast["checker"]
    heard = []
    services.record_approved_listeners.append(lambda **kw: heard.append(kw["record"].number))
    try:
        record = services.record_approve(record=record, actor=cast["approver"], password=PASSWORD)
    finally:
        services.record_approved_listeners.pop()
    task.refresh_from_db()
    assert record.status == "approved" and record.locked_at is not None
    assert task.status == Task.Status.DONE
    assert heard == [record.number]
    signatures = record_detail(record)["signatures"]
    assert [(s["meaning"], s["signer"], s["valid"]) for s in signatures] == [
        ("measured", "metrologist", True),
        ("checked", "checker", True),
        ("approved", "approver", True),
    ]
    assert signatures[0]["printed_name"] == "Metrologist"
    assert all(s["authenticated_by"] == "password" for s in signatures)
    assert [t.target for t in record.transitions.order_by("pk")] == [
        "draft", "submitted", "checked", "approved",
    ]  # fmt: skip
    assert RecordSignature.objects.filter(record=record).count() == 3


def test_instrument_register_updated_on_approval(cast, gauge_record, move, customers):
    from metrolab.customers.models import Instrument

    instrument = Instrument.objects.create(
        customer=customers["a"], name="压力表", serial_no="SN-001"
    )
    line = gauge_record.task.item.line
    line.instrument = instrument
    line.save()
    record = move(gauge_record, "approved")
    instrument.refresh_from_db()
    served = timezone.localdate(record.approved_at)
    assert instrument.last_service_date == served
    # The template's interval: 6 months, valid until the day before.
    from metrolab.metrology.record_template import add_months

    assert instrument.next_due_date == add_months(served, 6) - dt.timedelta(days=1)


def test_record_numbers_count_up(cast, gauge_record, start_task):
    second = services.record_create(task=start_task(), actor=cast["metrologist"])
    year = timezone.localdate().year
    assert (gauge_record.number, second.number) == (f"JL{year}000001", f"JL{year}000002")
