"""Services of equipment (R6.5, R8c, R6.8a): what each writes, and that every refusal writes
nothing at all (no row of the app, no audit event)."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from metrolab.core import testing
from metrolab.core.permissions import SYSTEM
from metrolab.core.text import NAME
from metrolab.equipment import charts, selectors, services
from metrolab.equipment.models import (
    Equipment,
    LocationEvent,
    UsageRecord,
)
from metrolab.equipment.tests.conftest import PDF_BYTES, days, nothing_written
from metrolab.notifications.models import Notification

pytestmark = pytest.mark.django_db
S = Equipment.Status


def on_day(n: int):
    """A day n days from today, as seen when the test runs (not when it is collected: a run
    may cross midnight in the lab's time zone)."""
    return functools.partial(days, n)


def resolved(values: dict) -> dict:
    return {name: value() if callable(value) else value for name, value in values.items()}


# refused(service, code=, field=, match=, **kwargs): the service refuses, writing nothing.
refused = functools.partial(testing.refused, unchanged=("equipment",))


# --- the register ---------------------------------------------------------------------------


def test_register_equipment_with_its_first_location(cast, pressure_discipline):
    equipment = services.equipment_create(
        actor=cast["equipment_manager"],
        asset_no="EQ-100",
        name="活塞式压力计 Piston gauge",
        kind="standard",
        model="PG-60",
        serial_no="S-1",
        manufacturer="西仪",
        range_text="0.1–6 MPa",
        accuracy_text="0.02 级",
        discipline=pressure_discipline,
        custodian=cast["metrologist"],
        rfid_uid="e2-00-aa-01",
        purchase_date=days(-400),
        commissioning_date=days(-390),
        calibration_interval_months=24,
        location="压力室 Pressure lab",
    )
    equipment.refresh_from_db()
    assert equipment.status == S.IN_SERVICE and equipment.status_colour == "green"
    assert equipment.rfid_uid == "E200AA01"
    assert equipment.location == "压力室 Pressure lab" and equipment.location_updated_at
    [event] = equipment.location_events.all()
    assert (event.source, event.by) == ("staff", cast["equipment_manager"])


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"asset_no": " "}, "asset_no"),
        ({"name": ""}, "name"),
        ({"kind": "robot"}, "kind"),
        ({"calibration_interval_months": 0}, "calibration_interval_months"),
        ({"calibration_interval_months": 121}, "calibration_interval_months"),
        ({"rfid_uid": "x!"}, "rfid_uid"),
        ({"purchase_date": on_day(1)}, "purchase_date"),
        ({"purchase_date": on_day(-10), "commissioning_date": on_day(-11)}, "commissioning_date"),
        ({"model": "m" * (NAME + 1)}, "model"),
    ],
)
def test_bad_register_entries_are_refused(cast, fields, field):
    values = {"asset_no": "EQ-9", "name": "Gauge", **resolved(fields)}
    refused(services.equipment_create, field=field, actor=cast["equipment_manager"], **values)


def test_duplicates_a_lay_custodian_and_a_scrapped_start_are_refused(make_equipment, cast):
    make_equipment("EQ-001", rfid_uid="AABBCCDD")
    manager = cast["equipment_manager"]
    refused(
        services.equipment_create,
        code="conflict",
        field="asset_no",
        actor=manager,
        asset_no="eq-001",
        name="Another",
    )
    refused(
        services.equipment_create,
        code="conflict",
        field="rfid_uid",
        actor=manager,
        asset_no="EQ-002",
        name="Another",
        rfid_uid="aa:bb:cc:dd",
    )
    refused(
        services.equipment_create,
        field="custodian",
        actor=manager,
        asset_no="EQ-002",
        name="Another",
        custodian=cast["customer_a"],
    )
    refused(
        services.equipment_create,
        field="status",
        actor=manager,
        asset_no="EQ-002",
        name="Another",
        status="scrapped",
    )


@pytest.mark.parametrize("who", ["metrologist", "quality_manager", "director", "customer_a"])
def test_only_the_equipment_manager_and_admin_edit(who, cast, gauge):
    refused(services.equipment_create, code="forbidden", actor=cast[who], asset_no="X", name="X")
    refused(services.equipment_update, code="forbidden", equipment=gauge, actor=cast[who], name="Y")
    refused(
        services.equipment_set_status,
        code="forbidden",
        equipment=gauge,
        status="limited",
        reason="r",
        actor=cast[who],
    )
    services.equipment_update(equipment=gauge, actor=cast["admin"], name="由管理员改名")
    gauge.refresh_from_db()
    assert gauge.name == "由管理员改名"


def test_update_changes_the_entry_but_never_takes_another_asset_no(make_equipment, cast):
    first, second = make_equipment("EQ-001"), make_equipment("EQ-002")
    services.equipment_update(
        equipment=second,
        actor=cast["equipment_manager"],
        notes="备注",
        calibration_interval_months=6,
    )
    second.refresh_from_db()
    assert (second.notes, second.calibration_interval_months, second.asset_no) == (
        "备注",
        6,
        "EQ-002",
    )
    refused(
        services.equipment_update,
        code="conflict",
        field="asset_no",
        equipment=second,
        actor=cast["equipment_manager"],
        asset_no=first.asset_no,
    )


# --- status ---------------------------------------------------------------------------------


def test_status_changes_need_a_reason_and_scrapped_is_final(gauge, cast, calibrate):
    manager = cast["equipment_manager"]
    refused(
        services.equipment_set_status,
        field="reason",
        equipment=gauge,
        status="out_of_service",
        reason=" ",
        actor=manager,
    )
    refused(
        services.equipment_set_status,
        field="status",
        equipment=gauge,
        status="in_service",
        reason="same",
        actor=manager,
    )
    refused(
        services.equipment_set_status,
        field="status",
        equipment=gauge,
        status="broken",
        reason="?",
        actor=manager,
    )
    services.equipment_set_status(
        equipment=gauge, status="out_of_service", reason="示值超差", actor=manager
    )
    gauge.refresh_from_db()
    assert gauge.status == S.OUT_OF_SERVICE and gauge.status_colour == "red"
    # Back to use only with a confirmed calibration in date.
    error = refused(
        services.equipment_set_status,
        code="calibration_required",
        equipment=gauge,
        status="in_service",
        reason="修好了",
        actor=manager,
    )
    assert "EQ-001" in error.message
    calibrate(gauge, date=days(-1), due=days(364))
    services.equipment_set_status(equipment=gauge, status="limited", reason="限用", actor=manager)
    gauge.refresh_from_db()
    assert gauge.status_colour == "yellow"
    services.equipment_set_status(equipment=gauge, status="scrapped", reason="报废", actor=manager)
    for status in ("in_service", "out_of_service"):
        refused(
            services.equipment_set_status,
            code="scrapped",
            equipment=gauge,
            status=status,
            reason="复活",
            actor=manager,
        )
    history = selectors.status_history(gauge)
    # Newest first, down to its registration.
    assert [h["after_code"] for h in history] == [
        "scrapped",
        "limited",
        "out_of_service",
        "in_service",
    ]
    assert history[2]["reason"] == "示值超差" and history[2]["by"] == str(manager)


def test_software_returns_to_use_without_a_calibration(make_equipment, cast):
    software = make_equipment("SW-1", kind="software", name="数据采集软件")
    manager = cast["equipment_manager"]
    services.equipment_set_status(
        equipment=software, status="out_of_service", reason="升级", actor=manager
    )
    services.equipment_set_status(
        equipment=software, status="in_service", reason="升级完成", actor=manager
    )


# --- calibrations ---------------------------------------------------------------------------

POINTS = [("0", "MPa", "0.000", "0.002", "2"), ("10", "MPa", "0.004", "0.003", "2")]


def test_a_calibration_counts_only_once_confirmed(gauge, calibrate):
    calibration = calibrate(gauge, points=POINTS, confirm=False, result_summary="符合 0.02 级")
    assert calibration.points.count() == 2 and not calibration.confirmed
    assert gauge.current_calibration() is None
    assert selectors.calibration_due_status(gauge).state == "none"
    point = calibration.points.get(nominal=10)
    assert (point.correction, point.expanded_uncertainty, point.coverage_factor) == (
        Decimal("0.004"),
        Decimal("0.003"),
        Decimal("2"),
    )


@pytest.mark.parametrize(
    ("kw", "field", "match"),
    [
        ({"date": on_day(0), "due_date": on_day(0)}, "due_date", "after"),
        ({"date": on_day(1), "due_date": on_day(300)}, "date", "future"),
        ({"certificate_no": ""}, "certificate_no", None),
        ({"body": ""}, "body", None),
        ({"points": [{"nominal": "1", "unit": "", "correction": 0, "U": 1}]}, "points", "unit"),
        ({"points": [{"nominal": "x", "unit": "MPa", "correction": 0, "U": 1}]}, "points", None),
        ({"points": [{"nominal": 1, "unit": "MPa", "correction": 0, "U": 0}]}, "points", "U"),
        (
            {"points": [{"nominal": 1, "unit": "MPa", "correction": 0, "U": 1, "k": 11}]},
            "points",
            "k",
        ),
        (
            {"points": [{"nominal": 1, "unit": "MPa", "correction": "0.0000000001", "U": 1}]},
            "points",
            "decimal",
        ),
        (
            {"points": [{"nominal": 1, "unit": "MPa", "correction": 0, "U": 1}] * 2},
            "points",
            "twice",
        ),
    ],
)
def test_bad_calibrations_are_refused(gauge, cast, kw, field, match):
    values = {
        "certificate_no": "JL-1",
        "body": "省计量院",
        "date": days(-5),
        "due_date": days(360),
        **resolved(kw),
    }
    refused(
        services.equipment_calibration_add,
        field=field,
        match=match,
        equipment=gauge,
        actor=cast["equipment_manager"],
        **values,
    )


def test_a_certificate_is_entered_once_and_must_be_a_document(gauge, cast, calibrate):
    calibrate(gauge, certificate_no="JL-7")
    manager = cast["equipment_manager"]
    values = {"body": "b", "date": days(-2), "due_date": days(300), "actor": manager}
    refused(
        services.equipment_calibration_add,
        code="conflict",
        equipment=gauge,
        certificate_no="jl-7",
        **values,
    )
    text = SimpleUploadedFile("cert.pdf", b"not a pdf at all", content_type="application/pdf")
    refused(
        services.equipment_calibration_add,
        field="file",
        equipment=gauge,
        certificate_no="JL-8",
        upload=text,
        **values,
    )
    pdf = SimpleUploadedFile("证书.pdf", PDF_BYTES, content_type="application/pdf")
    calibration = services.equipment_calibration_add(
        equipment=gauge, certificate_no="JL-8", upload=pdf, **values
    )
    assert calibration.has_file and calibration.file_type == "application/pdf"
    assert calibration.file_name == "证书.pdf" and len(calibration.file_sha256) == 64


def test_confirmation_rules(gauge, cast, calibrate):
    manager = cast["equipment_manager"]
    calibration = calibrate(gauge, confirm=False)
    refused(
        services.equipment_calibration_confirm,
        field="note",
        calibration=calibration,
        note="",
        actor=manager,
    )
    refused(
        services.equipment_calibration_confirm,
        code="forbidden",
        calibration=calibration,
        note="ok",
        actor=cast["metrologist"],
    )
    services.equipment_calibration_confirm(calibration=calibration, note="满足要求", actor=manager)
    calibration.refresh_from_db()
    assert calibration.confirmed_by == manager and calibration.confirmation_note == "满足要求"
    refused(
        services.equipment_calibration_confirm,
        code="conflict",
        calibration=calibration,
        note="again",
        actor=manager,
    )
    # Valid ON its due date; expired the day after, and then it cannot be confirmed.
    on_due = calibrate(gauge, date=days(-365), due=days(0), confirm=False)
    services.equipment_calibration_confirm(calibration=on_due, note="ok", actor=manager)
    expired = calibrate(gauge, date=days(-366), due=days(-1), confirm=False)
    refused(
        services.equipment_calibration_confirm,
        code="expired",
        calibration=expired,
        note="ok",
        actor=manager,
    )


def test_confirming_may_return_equipment_to_service(gauge, cast, calibrate):
    manager = cast["equipment_manager"]
    services.equipment_set_status(
        equipment=gauge, status="out_of_service", reason="到期", actor=manager
    )
    kept_out = calibrate(gauge, confirm=False)
    services.equipment_calibration_confirm(calibration=kept_out, note="ok", actor=manager)
    gauge.refresh_from_db()
    assert gauge.status == S.OUT_OF_SERVICE  # not asked: stays out
    returned = calibrate(gauge, date=days(-1), confirm=False)
    services.equipment_calibration_confirm(
        calibration=returned, note="ok", return_to_service=True, actor=manager
    )
    gauge.refresh_from_db()
    assert gauge.status == S.IN_SERVICE
    assert gauge.current_calibration() == returned
    [back, out, _registered] = selectors.status_history(gauge)
    assert back["after_code"] == "in_service" and returned.certificate_no in back["reason"]
    assert out["reason"] == "到期"


def test_calibrations_of_scrapped_equipment_are_refused(gauge, cast):
    manager = cast["equipment_manager"]
    services.equipment_set_status(equipment=gauge, status="scrapped", reason="报废", actor=manager)
    refused(
        services.equipment_calibration_add,
        code="scrapped",
        equipment=gauge,
        certificate_no="JL",
        body="b",
        date=days(-1),
        due_date=days(300),
        actor=manager,
    )


# --- intermediate checks --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({"reference_value": "10", "lower_limit": "10", "upper_limit": "11"}, "upper_limit"),
        ({"reference_value": "10", "lower_limit": "9", "upper_limit": "9.5"}, "upper_limit"),
        (
            {
                "reference_value": "10",
                "lower_limit": "9",
                "upper_limit": "11",
                "upper_warning": "11",
            },
            "upper_warning",
        ),
        (
            {
                "reference_value": "10",
                "lower_limit": "9",
                "upper_limit": "11",
                "lower_warning": "10",
            },
            "lower_warning",
        ),
        ({"reference_value": "", "lower_limit": "9", "upper_limit": "11"}, "reference_value"),
        ({"reference_value": "ten", "lower_limit": "9", "upper_limit": "11"}, "reference_value"),
    ],
)
def test_bad_check_plans_are_refused(gauge, cast, limits, field):
    refused(
        services.equipment_check_plan_create,
        field=field,
        equipment=gauge,
        actor=cast["equipment_manager"],
        quantity="10 MPa",
        unit="MPa",
        **limits,
    )


def test_results_are_judged_and_a_broken_rule_alerts_managers_and_custodian(plan, cast):
    metrologist = cast["metrologist"]
    ok = services.equipment_check_result_add(
        plan=plan, date=days(-20), value="10.012", actor=metrologist
    )
    assert ok.passed and ok.rules_broken == ""
    assert not Notification.objects.filter(event=services.CHECK_FAILED_EVENT).exists()
    bad = services.equipment_check_result_add(
        plan=plan, date=days(-10), value="10.031", actor=cast["equipment_manager"], note="复测"
    )
    assert not bad.passed and bad.rules_broken == "1"
    alerts = Notification.objects.filter(event=services.CHECK_FAILED_EVENT)
    # The equipment manager, and the custodian (the metrologist); nobody else.
    assert {n.recipient.username for n in alerts} == {"equipment_manager", "metrologist"}
    # Alerts are written in the lab's language (settings.LANGUAGE_CODE), whoever triggers them.
    with translation.override(settings.LANGUAGE_CODE):
        broken = charts.rules_text("1")
    assert broken and all("EQ-001" in n.subject and broken in n.body for n in alerts)
    assert selectors.latest_check_failed(plan.equipment)
    # Two of three beyond 2σ (10.020): test 5.
    two = services.equipment_check_result_add(
        plan=plan, date=days(-5), value="10.021", actor=metrologist
    )
    assert two.rules_broken == "5"
    back = services.equipment_check_result_add(
        plan=plan, date=days(0), value="10.0", actor=metrologist
    )
    assert back.passed and not selectors.latest_check_failed(plan.equipment)


def test_result_refusals(plan, cast):
    metrologist = cast["metrologist"]
    services.equipment_check_result_add(plan=plan, date=days(-3), value="10", actor=metrologist)
    for who in ("checker", "quality_manager", "receptionist"):
        refused(
            services.equipment_check_result_add,
            code="forbidden",
            plan=plan,
            date=days(0),
            value="10",
            actor=cast[who],
        )
    refused(
        services.equipment_check_result_add,
        field="date",
        plan=plan,
        date=days(-4),
        value="10",
        actor=metrologist,
    )
    refused(
        services.equipment_check_result_add,
        field="date",
        plan=plan,
        date=days(1),
        value="10",
        actor=metrologist,
    )
    refused(
        services.equipment_check_result_add,
        field="value",
        plan=plan,
        date=days(0),
        value="abc",
        actor=metrologist,
    )
    services.equipment_check_plan_update(plan=plan, actor=cast["equipment_manager"], active=False)
    refused(
        services.equipment_check_result_add,
        code="inactive",
        plan=plan,
        date=days(0),
        value="10",
        actor=metrologist,
    )


def test_a_plan_update_keeps_past_judgements(plan, cast):
    result = services.equipment_check_result_add(
        plan=plan, date=days(0), value="10.025", actor=cast["metrologist"]
    )
    assert result.passed
    services.equipment_check_plan_update(
        plan=plan, actor=cast["equipment_manager"], upper_limit="10.020"
    )
    plan.refresh_from_db()
    result.refresh_from_db()
    assert plan.upper_limit == Decimal("10.020") and result.passed
    assert plan.next_due() == days(90)


# --- maintenance and faults -----------------------------------------------------------------


def test_anyone_of_the_lab_reports_a_fault_and_stops_the_equipment(gauge, cast):
    record = services.equipment_maintenance_add(
        equipment=gauge,
        kind="fault",
        date=days(0),
        description="指针卡滞 pointer sticks",
        take_out_of_service=True,
        actor=cast["checker"],
    )
    gauge.refresh_from_db()
    assert gauge.status == S.OUT_OF_SERVICE and record.by == cast["checker"]
    stopped = selectors.status_history(gauge)[0]
    assert "pointer sticks" in stopped["reason"] and stopped["by"] == str(cast["checker"])
    alerts = Notification.objects.filter(event=services.FAULT_EVENT)
    assert {n.recipient.username for n in alerts} == {"equipment_manager", "metrologist"}


def test_maintenance_refusals(gauge, cast):
    checker, metrologist = cast["checker"], cast["metrologist"]
    base = {"equipment": gauge, "date": days(0), "description": "清洁 cleaning"}
    refused(
        services.equipment_maintenance_add,
        code="forbidden",
        kind="maintenance",
        actor=checker,
        **base,
    )
    refused(
        services.equipment_maintenance_add,
        code="forbidden",
        kind="fault",
        actor=cast["customer_a"],
        **base,
    )
    refused(
        services.equipment_maintenance_add, field="kind", kind="party", actor=metrologist, **base
    )
    refused(
        services.equipment_maintenance_add,
        field="take_out_of_service",
        kind="maintenance",
        take_out_of_service=True,
        actor=metrologist,
        **base,
    )
    refused(
        services.equipment_maintenance_add,
        field="description",
        kind="repair",
        actor=metrologist,
        **{**base, "description": ""},
    )
    refused(
        services.equipment_maintenance_add,
        field="date",
        kind="repair",
        actor=metrologist,
        **{**base, "date": days(1)},
    )
    services.equipment_maintenance_add(kind="maintenance", actor=metrologist, **base)


# --- usage ----------------------------------------------------------------------------------


def test_automatic_usage_from_a_task_is_written_once(gauge, cast, make_commission, receive):
    item = receive(make_commission())
    task = item.tasks.get()
    start = timezone.now() - dt.timedelta(hours=1)
    kwargs = {
        "equipment": gauge,
        "user": cast["metrologist"],
        "task": task,
        "source": "auto",
        "actor": cast["metrologist"],
    }
    first = services.equipment_usage_record(started_at=start, **kwargs)
    again = services.equipment_usage_record(started_at=start + dt.timedelta(minutes=5), **kwargs)
    assert first.pk == again.pk and UsageRecord.objects.count() == 1
    [closed] = services.equipment_usage_close_for_task(task=task, actor=SYSTEM)
    assert closed.ended_at is not None
    assert services.equipment_usage_record(started_at=timezone.now(), **kwargs).pk != first.pk


def test_manual_usage_rules(gauge, cast):
    metrologist, checker = cast["metrologist"], cast["checker"]
    now = timezone.now()
    mine = services.equipment_usage_record(
        equipment=gauge,
        user=metrologist,
        started_at=now - dt.timedelta(hours=2),
        actor=metrologist,
        condition_before="正常",
    )
    assert mine.source == "manual" and mine.ended_at is None
    refused(
        services.equipment_usage_record,
        code="forbidden",
        field="user",
        equipment=gauge,
        user=checker,
        started_at=now,
        actor=metrologist,
    )
    refused(
        services.equipment_usage_record,
        field="ended_at",
        equipment=gauge,
        user=metrologist,
        started_at=now,
        ended_at=now,
        actor=metrologist,
    )
    refused(
        services.equipment_usage_record,
        field="started_at",
        equipment=gauge,
        user=metrologist,
        started_at=now + dt.timedelta(hours=1),
        actor=metrologist,
    )
    refused(
        services.equipment_usage_record,
        code="forbidden",
        equipment=gauge,
        user=cast["customer_a"],
        started_at=now,
        actor=cast["customer_a"],
    )
    # The equipment manager enters a use for someone else.
    services.equipment_usage_record(
        equipment=gauge,
        user=checker,
        started_at=now - dt.timedelta(hours=1),
        ended_at=now,
        actor=cast["equipment_manager"],
    )
    refused(services.equipment_usage_close, code="forbidden", usage=mine, actor=checker)
    services.equipment_usage_close(usage=mine, actor=metrologist, condition_after="正常")
    mine.refresh_from_db()
    assert mine.ended_at and mine.condition_after == "正常"
    refused(services.equipment_usage_close, code="conflict", usage=mine, actor=metrologist)


# --- location -------------------------------------------------------------------------------


def test_staff_and_readers_locate_equipment(gauge, cast, reader_token):
    event = services.equipment_locate(equipment=gauge, location="温度室", actor=cast["checker"])
    assert (event.source, event.by) == ("staff", cast["checker"])
    refused(
        services.equipment_locate,
        field="location",
        equipment=gauge,
        location=" ",
        actor=cast["checker"],
    )
    refused(
        services.equipment_locate,
        code="forbidden",
        equipment=gauge,
        location="x",
        actor=cast["customer_a"],
    )
    reader, _raw = reader_token
    seen = services.equipment_locate_by_tag(
        uid="e2:00:00:01", location="压力室 Zone 2", reader="gate-2", actor=reader
    )
    gauge.refresh_from_db()
    assert (seen.source, seen.reader, seen.by) == ("reader", "gate-2", reader)
    assert gauge.location == "压力室 Zone 2" and gauge.location_updated_at == seen.at
    # The same reading again writes nothing; a new zone does.
    with nothing_written():
        repeat = services.equipment_locate_by_tag(
            uid="E2000001", location="压力室 Zone 2", reader="gate-2", actor=reader
        )
    assert repeat.pk == seen.pk
    moved = services.equipment_locate_by_tag(
        uid="E2000001", location="库房", reader="gate-3", actor=SYSTEM
    )
    assert moved.pk != seen.pk and LocationEvent.objects.filter(equipment=gauge).count() == 3
    refused(
        services.equipment_locate_by_tag,
        code="not_found",
        field="uid",
        uid="FFFF0000",
        location="x",
        reader="gate-2",
        actor=reader,
    )
    refused(
        services.equipment_locate_by_tag,
        field="reader",
        uid="E2000001",
        location="x",
        reader="",
        actor=reader,
    )


# --- measurement standards ------------------------------------------------------------------


@pytest.fixture
def method(db):
    from metrolab.methods.models import Method

    return Method.objects.create(
        kind="JJG",
        code="JJG 52",
        year="2013",
        title="弹性元件式一般压力表、压力真空表和真空表",
        effective_date=dt.date(2013, 12, 1),
    )


def test_measurement_standard_with_its_equipment_methods_and_certificate(
    make_equipment, cast, method
):
    gauge, pump = make_equipment("EQ-001"), make_equipment("EQ-002", kind="auxiliary")
    pdf = SimpleUploadedFile("考核证书.pdf", PDF_BYTES)
    standard = services.measurement_standard_create(
        actor=cast["equipment_manager"],
        name="0.05 级活塞式压力计标准装置",
        certificate_no="[2023]国量标浙证字第123号",
        certificate_issued=days(-700),
        certificate_expiry=days(1125),
        measurands="压力 pressure",
        range_text="(0.1–6) MPa",
        uncertainty_text="0.05 级",
        equipment=[gauge, pump],
        methods=[method],
        upload=pdf,
    )
    assert set(standard.equipment.all()) == {gauge, pump}
    assert list(standard.methods.all()) == [method] and standard.has_file
    services.measurement_standard_update(
        standard=standard, actor=cast["equipment_manager"], equipment=[gauge], active=False
    )
    standard.refresh_from_db()
    assert list(standard.equipment.all()) == [gauge] and not standard.active
    assert list(standard.methods.all()) == [method]  # not given: kept


def test_measurement_standard_refusals(make_equipment, cast):
    old = make_equipment("EQ-OLD")
    services.equipment_set_status(
        equipment=old, status="scrapped", reason="报废", actor=cast["equipment_manager"]
    )
    base = {
        "name": "S",
        "certificate_no": "C-1",
        "certificate_expiry": days(100),
        "measurands": "p",
        "range_text": "0-1 MPa",
    }
    manager = cast["equipment_manager"]
    refused(
        services.measurement_standard_create,
        field="equipment",
        actor=manager,
        equipment=[old],
        **base,
    )
    refused(
        services.measurement_standard_create,
        field="certificate_expiry",
        actor=manager,
        **{**base, "certificate_issued": days(-1), "certificate_expiry": days(-1)},
    )
    refused(
        services.measurement_standard_create,
        field="measurands",
        actor=manager,
        **{**base, "measurands": ""},
    )
    refused(
        services.measurement_standard_create,
        code="forbidden",
        actor=cast["quality_manager"],
        **base,
    )
    services.measurement_standard_create(actor=manager, **base)
    refused(services.measurement_standard_create, code="conflict", actor=manager, **base)
