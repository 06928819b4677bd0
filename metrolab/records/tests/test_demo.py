"""The demo's original records (issue 14 "Demo"): every state for each built-in template, made
through the real services by the demo people with the demo equipment in the demo rooms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from metrolab.core.permissions import SYSTEM
from metrolab.metrology.record_template import add_months
from metrolab.records.demo import demo_seed_records
from metrolab.records.models import Record, RecordSignature
from metrolab.records.services.signatures import signature_valid
from metrolab.tasks.models import Task

pytestmark = pytest.mark.django_db

D = Decimal
TEMPLATES = ("jjg52-2013-pressure-gauge", "digital-thermometer-sprt", "dmm-dc-voltage")


def _records(code: str):
    """The records demo's records of a template (its PLAN's commission; the certificates demo
    adds a commission of its own for another customer)."""
    from metrolab.records.demo import PLAN

    (customer,) = [spec["customer"] for spec in PLAN if spec["template"] == code]
    return Record.objects.filter(
        template_version__template__code=code, task__item__commission__customer__code=customer
    ).select_related(
        "task__item__line__instrument", "measured_by", "checked_by", "approved_by", "room"
    )


def _returned_and_corrected(records):
    """Drafts that went back from submitted with a reason and were corrected with one."""
    return [
        r
        for r in records
        if r.status == Record.Status.DRAFT
        and r.transitions.filter(source=Record.Status.SUBMITTED, target=Record.Status.DRAFT)
        .exclude(reason="")
        .exists()
        and r.changes.exclude(reason="").exists()
    ]


@pytest.mark.parametrize("code", TEMPLATES)
def test_every_state_for_each_builtin_template(demo_lab, code):
    records = list(_records(code))
    statuses = {r.status for r in records}
    assert {"draft", "submitted", "checked", "approved"} <= statuses
    drafts = [r for r in records if r.status == Record.Status.DRAFT]
    partly = [r for r in drafts if not r.complete and r.cells and not r.signatures.exists()]
    assert partly, "a draft partly filled"
    assert _returned_and_corrected(records)
    # made by the demo people, in the demo rooms
    assert {r.measured_by.username for r in records} == {"metrologist"}
    assert {r.checked_by.username for r in records if r.checked_by} == {"checker"}
    room = {
        "jjg52-2013-pressure-gauge": "PL-1",
        "digital-thermometer-sprt": "TL-1",
        "dmm-dc-voltage": "EL-1",
    }[code]
    assert {r.room.code for r in records} == {room}
    for record in records:
        if record.submitted_at is not None:
            assert record.conditions["room"]["code"] == room and record.conditions_held is True
        # the task's equipment took the template's roles with its calibration of the day
        roles = {u.role: u for u in record.equipment_used.select_related("equipment")}
        wanted = {
            "jjg52-2013-pressure-gauge": {"standard": "YQ-2015-003"},
            "digital-thermometer-sprt": {"standard": "YQ-2018-007", "bath": "YQ-2020-011"},
            "dmm-dc-voltage": {"calibrator": "YQ-2019-013"},
        }[code]
        assert {role: roles[role].equipment.asset_no for role in wanted} == wanted
        assert all(roles[role].snapshot["certificate_no"] for role in wanted)


@pytest.mark.parametrize("code", TEMPLATES)
def test_approved_records_are_signed_three_times_locked_and_their_task_done(demo_lab, code):
    approved = [r for r in _records(code) if r.status == Record.Status.APPROVED]
    assert approved
    today = timezone.localdate()
    for record in approved:
        signatures = list(record.signatures.select_related("signer"))
        assert [s.meaning for s in signatures] == ["measured", "checked", "approved"]
        assert all(signature_valid(s) for s in signatures)
        assert [s.signer.username for s in signatures][:2] == ["metrologist", "checker"]
        assert signatures[2].signer.username in ("approver", "director")
        assert {s.authenticated_by for s in signatures} == {"password"}
        assert record.locked_at is not None and record.complete
        assert record.task.status == Task.Status.DONE
        instrument = record.task.item.line.instrument
        assert instrument is not None and instrument.last_service_date == today


def test_the_checked_and_submitted_records_wait_with_their_signatures(demo_lab):
    for record in Record.objects.filter(status__in=["submitted", "checked"]):
        meanings = [s.meaning for s in record.signatures.all()]
        wanted = ["measured"] if record.status == "submitted" else ["measured", "checked"]
        assert meanings == wanted
        assert all(signature_valid(s) for s in record.signatures.all())
        assert record.task.status == Task.Status.CHECKING


def test_the_returned_gauge_shows_the_reason_and_the_correction(demo_lab):
    (record,) = _returned_and_corrected(_records("jjg52-2013-pressure-gauge"))
    back = record.transitions.get(source="submitted", target="draft")
    assert back.by.username == "checker"
    assert "1.208" in back.reason and "抄录错误" in back.reason
    (change,) = record.changes.exclude(reason="")
    assert (change.cell, change.old, change.new) == ("up_after.5", "1.208", "1.280")
    assert change.by.username == "metrologist" and "1.208 → 1.280" in change.reason
    assert change.status == Record.Status.DRAFT
    assert record.cells["up_after.5"] == "1.280" and record.decision == "pass"
    # the signature given before the correction shows invalid now
    (measured,) = record.signatures.all()
    assert measured.meaning == "measured" and signature_valid(measured) is False
    assert record.task.status == Task.Status.IN_PROGRESS


def test_an_approved_gauge_computes_the_engines_worked_example(demo_lab):
    """metrolab/metrology/tests/test_builtin_templates.py, class 1.6 (passing) and class 1.0
    (failing, 不合格): the same readings, the errors, hysteresis, tapping and MPE by hand there."""
    records = list(_records("jjg52-2013-pressure-gauge"))
    (passing,) = [r for r in records if r.status == "approved"]
    assert passing.cells["param.accuracy_class"] == "1.6"
    points = passing.results["points"]

    def column(name, field="value"):
        return [p["values"][name][field] for p in points]

    nominal = ("0", "0.32", "0.64", "0.96", "1.28", "1.6")
    assert [D(v) for v in column("nominal")] == [D(n) for n in nominal]
    assert column("error_up", "text") == ["0", "0.010", "0.005", "0.000", "0.015", "0.030"]
    assert [D(v) for v in column("error_down")] == [
        D("0.005"), D("0.015"), D("0.010"), D("0.010"), D("0.020"), D("0.035"),
    ]  # fmt: skip
    assert column("hysteresis")[1:] == ["0.005", "0.005", "0.010", "0.005", "0.005"]
    assert points[0]["values"]["hysteresis"]["applicable"] is False
    assert column("tapping")[1:] == ["0.005"] * 5
    assert [D(v) for v in column("mpe")] == [D("0.0256")] * 5 + [D("0.040")]
    summary = passing.results["summary"]
    assert (summary["max_error"]["text"], summary["max_hysteresis"]["text"]) == ("0.035", "0.010")
    assert summary["max_tapping"]["text"] == "0.005"
    assert passing.decision == "pass" and passing.results["interval_months"] == 6
    # the register: verified today, due again in six months (the day before)
    instrument = passing.task.item.line.instrument
    today = timezone.localdate()
    assert instrument.next_due_date == add_months(today, 6) - dt.timedelta(days=1)

    (failing,) = [r for r in records if r.cells.get("param.accuracy_class") == "1.0"]
    assert failing.decision == "fail" and failing.status == "checked"
    ok = [p["values"]["ok"]["value"] for p in failing.results["points"]]
    assert ok == [True, True, True, True, False, False]


def test_the_thermometers_use_the_sprt_and_stay_at_or_above_the_cmc(demo_lab):
    for record in _records("digital-thermometer-sprt").exclude(status="draft"):
        assert record.context["cmc"] == {"value": "0.06", "unit": "℃", "relative": False}
        for point in record.results["points"]:
            values = point["values"]
            assert values["std_correction"]["value"] is not None
            assert D(values["U"]["text"]) >= D("0.06")
        assert record.results["problems"] == []


def test_the_approved_test_record_is_an_insulation_resistance_test(demo_lab):
    """The testing template's one record (issue 15: a 检测报告 in the demo): a DMM of KH0003
    tested at 500 V DC with the insulation resistance tester of the electrical safety item E02,
    measured by 张检定, checked by 赵核验, approved; every position ≥ 20 MΩ → pass."""
    (record,) = _records("insulation-resistance")
    task = record.task
    assert (record.status, record.decision, record.complete) == ("approved", "pass", True)
    assert (task.service, task.scope.code, task.status) == ("testing", "E02", Task.Status.DONE)
    assert (task.method.code, task.method.year) == ("GB/T 13978", "2008")
    assert task.standard.name == "电气安全性能检测装置"
    assert task.item.commission.customer.code == "KH0003"
    assert record.room.code == "EL-1" and record.conditions_held is True
    signatures = list(record.signatures.select_related("signer"))
    assert [(s.meaning, s.signer.username) for s in signatures] == [
        ("measured", "metrologist"),
        ("checked", "checker"),
        ("approved", "approver"),
    ]
    (tester,) = record.equipment_used.select_related("equipment")
    assert (tester.role, tester.equipment.asset_no) == ("tester", "YQ-2021-017")
    assert tester.snapshot["certificate_no"].startswith("SJY")
    points = record.results["points"]
    rows = [
        (
            p["values"]["voltage"]["text"],
            p["values"]["resistance"]["text"],
            p["values"]["voltage_deviation"]["text"],
            p["values"]["decision"]["value"],
        )
        for p in points
    ]
    # (512 − 500)/500 = 2.4 %, (508 − 500)/500 = 1.6 %, (505 − 500)/500 = 1.0 %
    assert rows == [
        ("512", "1250", "2.4", "pass"),
        ("508", "860", "1.6", "pass"),
        ("505", "2200", "1.0", "pass"),
    ]
    assert record.results["summary"]["lowest"]["text"] == "860"
    assert record.results["interval_months"] is None


def test_the_test_records_entry_page_and_its_report_in_chinese(demo_lab, client, settings):
    """The approved test record's page in zh-Hans: the template's Chinese labels, the readings
    and the conclusion; the certificate its approval queued is a 检测报告 (service testing)."""
    import re

    from django.urls import reverse

    from metrolab.certificates.models import Certificate
    from metrolab.core.models import User

    (record,) = _records("insulation-resistance")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(
        User.objects.get(username="checker"), backend="metrolab.core.auth.ThrottledModelBackend"
    )
    response = client.get(
        reverse("records:detail", args=[record.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 200
    page = re.sub(r"\s+", " ", response.content.decode())
    for text in (
        "电气测量仪器绝缘电阻检测记录",
        "绝缘电阻读数",
        "实测试验电压",
        "试验电压偏差",
        "最小绝缘电阻",
        "检测结论",
        "1 电源输入端（L、N 短接）与外壳之间",
        "DM-2024-1207",
        "1250",
        "2200",
    ):
        assert text in page, text
    (certificate,) = record.certificates.all()
    assert certificate.kind == Certificate.Kind.TEST


def test_one_cancelled_record_and_one_approved_amendment(demo_lab):
    (cancelled,) = Record.objects.filter(status="cancelled")
    assert cancelled.task.status == Task.Status.ASSIGNED
    assert "指针卡滞" in cancelled.transitions.get(target="cancelled").reason
    (amendment,) = Record.objects.filter(amends__isnull=False)
    old = amendment.amends
    assert (amendment.status, old.status, amendment.revision) == ("approved", "superseded", 2)
    assert amendment.number == f"{old.number}-R2"
    (change,) = amendment.changes.all()
    assert (change.cell, change.old, change.new) == ("param.stability", "0.005", "0.006")
    assert "波动性" in change.reason
    assert old.signatures.count() == 3 and all(signature_valid(s) for s in old.signatures.all())
    assert amendment.approved_by.username == "director"


def test_the_audit_log_has_the_people_signing(demo_lab):
    from metrolab.core.models import AuditEvent, User

    names = {str(pk): name for pk, name in User.objects.values_list("pk", "username")}
    actions = {
        (action, names.get(actor))
        for action, actor in AuditEvent.objects.filter(action__startswith="record.").values_list(
            "action", "actor_id"
        )
    }
    assert {
        ("record.create", "metrologist"),
        ("record.submit", "metrologist"),
        ("record.check", "checker"),
        ("record.approve", "approver"),
        ("record.return", "checker"),
        ("record.cancel", "metrologist"),
        ("record.amend", "metrologist"),
    } <= actions
    # The records demo's 24 + 3 (the approved test record), and the 2 × 3 of the certificates
    # demo's completed commission.
    assert RecordSignature.objects.count() == 24 + 3 + 6


def test_seeding_again_adds_nothing(demo_lab):
    before = Record.objects.count()
    assert demo_seed_records(actor=SYSTEM) is False
    assert Record.objects.count() == before


def test_a_room_without_recent_readings_reports_before_readings_are_written(demo_lab):
    """The demo seeded long after its rooms' history (or with the simulator stopped): the rooms
    used report their recent minutes through the ingester, so measurement is not blocked."""
    from metrolab.environment.models import Reading, Room
    from metrolab.records.demo import rooms_reporting
    from metrolab.records.services.records import measurement_blocked

    room = Room.objects.get(code="PL-1")
    draft = Record.objects.filter(room=room, status="draft", complete=False).first()
    recent = timezone.now() - dt.timedelta(minutes=15)
    Reading.objects.filter(sensor__room=room, time__gte=recent).delete()
    assert measurement_blocked(draft)  # no reading in the last minutes
    assert rooms_reporting([room]) >= 3 * 9  # temperature, humidity, air pressure
    assert measurement_blocked(draft) == []
    assert rooms_reporting([room]) == 0  # reporting already


def test_the_audit_page_shows_the_records_codes_as_code(demo_lab, client):
    """A recorded value that is an identifier (an equipment role, how a signer was
    authenticated) is data, shown as code, not as a word of the (Chinese) interface."""
    from metrolab.core.models import User

    client.force_login(
        User.objects.get(username="admin"), backend="metrolab.core.auth.ThrottledModelBackend"
    )
    roles = client.get("/audit/", {"object_type": "records.recordequipment"}).content.decode()
    assert "<code>calibrator</code>" in roles and "<code>standard</code>" in roles
    signed = client.get("/audit/", {"object_type": "records.recordsignature"}).content.decode()
    assert "<code>password</code>" in signed
