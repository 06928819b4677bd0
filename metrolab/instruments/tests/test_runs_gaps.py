"""Two edges of a procedure run, with the REAL simulated SCPI bench (issue 16; R8b, R6.2a,
R6.8c): a run aborted while no worker runs it (queued, paused) puts its calibrator to standby,
best effort, the commands logged with the run and an unreachable instrument logged as a
fault; and a record that refuses a point's readings (the room's conditions stopped holding)
pauses the run with the reason, holding no half-written point, and resume finishes it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from metrolab.environment.ingest import ingest_readings
from metrolab.environment.models import Reading, Requirement, Room, Sensor
from metrolab.instruments import services
from metrolab.instruments.models import Run, RunEvent
from metrolab.instruments.tests.runs_fixtures import *  # noqa: F403
from metrolab.instruments.tests.runs_fixtures import TIMEOUT_MS
from metrolab.items.tests.fixtures import customers, make_commission, receive  # noqa: F401
from metrolab.records.models import RecordChange
from metrolab.records.services.records import CONDITIONS_WINDOW
from metrolab.records.tests.fixtures import *  # noqa: F403
from metrolab.tasks.tests.fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def _start(cast, record, calibrator, bench):
    return services.run_start(
        record=record,
        procedure="dmm-dc-voltage",
        equipment_roles={"source": calibrator},
        connections={"uut": bench.dmm.connection("dmm34401", TIMEOUT_MS)},
        actor=cast["metrologist"],
    )


def _paused_after_the_first_point(cast, record, calibrator, bench, execute, monkeypatch):
    """A run paused by its operator while the worker measured the first point (1 V): the
    worker puts the calibrator to standby; then someone switches its output on again at the
    front panel (1 V on the terminals), which an abort must switch off."""
    run = execute(_start(cast, record, calibrator, bench))
    assert run.status == Run.Status.WAITING_PROMPT
    services.run_confirm_prompt(run=run, actor=cast["metrologist"])
    original = services._progress
    asked = []

    def progress(run_, executor, recorder, kind, data):
        if kind == "result" and not asked:
            asked.append(services.run_pause(run=run, actor=cast["metrologist"], reason="call"))
        original(run_, executor, recorder, kind, data)

    monkeypatch.setattr(services, "_progress", progress)
    run = execute(run)
    monkeypatch.setattr(services, "_progress", original)
    assert run.status == Run.Status.PAUSED and run.state["step"] == 4
    assert bench.calibrator_model.operating is False  # the pause left no output on
    bench.calibrator_model.operate(True)
    return run


def _texts(run, kind, role="source"):
    return list(
        RunEvent.objects.filter(run=run, kind=kind, role=role)
        .order_by("pk")
        .values_list("text", flat=True)
    )


def test_an_abort_while_paused_puts_the_calibrator_to_standby_and_logs_it(
    cast, client, dmm_record, lab_calibrator, dmm_bench, execute, no_sleep, monkeypatch
):
    run = _paused_after_the_first_point(
        cast, dmm_record, lab_calibrator, dmm_bench, execute, monkeypatch
    )
    assert dmm_bench.calibrator_model.operating is True  # 1 V still on the terminals
    assert dmm_bench.calibrator_model.output() == pytest.approx(1.0)
    last = RunEvent.objects.filter(run=run).order_by("-pk").values_list("pk", flat=True)[0]

    client.force_login(cast["metrologist"], backend="metrolab.core.auth.ThrottledModelBackend")
    answer = client.post(
        f"/api/v1/instruments/runs/{run.pk}/abort",
        {"reason": "wrong leads"},
        content_type="application/json",
    )

    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "aborted"
    run.refresh_from_db()
    assert run.status == Run.Status.ABORTED and run.reason == "wrong leads"
    assert dmm_bench.calibrator_model.operating is False
    assert dmm_bench.calibrator_model.output() == 0.0
    new = RunEvent.objects.filter(run=run, pk__gt=last)
    kinds = list(new.order_by("pk").values_list("kind", "role", "text"))
    assert kinds[0] == ("abort", "", "wrong leads")
    commands = [text for kind, role, text in kinds if kind == "command" and role == "source"]
    assert commands[0] == "*IDN?" and "STBY" in commands
    assert not new.filter(kind="fault").exists()
    # the worker leaves an aborted run alone
    assert execute(run).status == Run.Status.ABORTED


def test_an_abort_while_queued_puts_a_source_left_operating_to_standby(
    cast, dmm_record, lab_calibrator, dmm_bench, execute, no_sleep, monkeypatch
):
    run = _paused_after_the_first_point(
        cast, dmm_record, lab_calibrator, dmm_bench, execute, monkeypatch
    )
    run = services.run_resume(run=run, actor=cast["metrologist"])
    assert run.status == Run.Status.QUEUED and dmm_bench.calibrator_model.operating is True

    run = services.run_abort(run=run, actor=cast["metrologist"], reason="end of the day")

    assert run.status == Run.Status.ABORTED
    assert dmm_bench.calibrator_model.operating is False
    assert "STBY" in _texts(run, "command")


def test_an_abort_with_the_calibrator_unreachable_is_still_recorded(
    english, cast, dmm_record, lab_calibrator, dmm_bench, execute, no_sleep, monkeypatch
):
    run = _paused_after_the_first_point(
        cast, dmm_record, lab_calibrator, dmm_bench, execute, monkeypatch
    )
    dmm_bench.calibrator.stop()  # the calibrator's port is gone

    run = services.run_abort(run=run, actor=cast["metrologist"], reason="power cut")

    run.refresh_from_db()
    assert run.status == Run.Status.ABORTED and run.reason == "power cut"
    assert run.state["abort_reason"] == "power cut" and run.ended_at is not None
    assert RunEvent.objects.filter(run=run, kind="abort", text="power cut").exists()
    (fault,) = _texts(run, "fault")
    assert fault.startswith("The instrument for source could not be put to standby: ")
    # only the pause's STBY, before the port went: the abort reached nothing
    assert _texts(run, "command").count("STBY") == 1


@pytest.fixture
def electrical_lab(dmm_record):
    """The record's room: 20 ± 2 ℃ required, a sensor reporting 20.3 ℃ five minutes ago."""
    room = Room.objects.create(code="EL-T", name="电学实验室")
    Requirement.objects.create(
        room=room, quantity="temperature", low=Decimal("18"), high=Decimal("22"), unit="℃"
    )
    sensor = Sensor.objects.create(
        code="ELT-T",
        name="温度",
        room=room,
        quantity="temperature",
        unit="℃",
        installed_at=timezone.now() - dt.timedelta(days=2),
    )
    dmm_record.room = room
    dmm_record.save(update_fields=["room"])
    _feed(sensor, 300, 20.3)
    return sensor


def _feed(sensor, seconds_ago: float, value: float) -> None:
    at = timezone.now() - dt.timedelta(seconds=seconds_ago)
    result = ingest_readings(
        [{"sensor": sensor.code, "time": at.isoformat(), "value": value}], channel="simulated"
    )
    assert not result.rejected, result.rejected


def test_a_point_the_record_refuses_pauses_the_run_with_no_half_written_point(
    english,
    cast,
    dmm_record,
    electrical_lab,
    lab_calibrator,
    dmm_bench,
    execute,
    no_sleep,
    monkeypatch,
):
    import metrolab.records.services as record_services

    original = record_services.record_write
    writes = []

    def record_write(**kwargs):
        # The room warms up while the worker writes the first point: the next reading the
        # record is given is refused.
        result = original(**kwargs)
        writes.append(sorted(kwargs["values"]))
        if len(writes) == 1:
            _feed(electrical_lab, 1, 23.1)
        return result

    monkeypatch.setattr(record_services, "record_write", record_write)
    run = execute(_start(cast, dmm_record, lab_calibrator, dmm_bench))
    services.run_confirm_prompt(run=run, actor=cast["metrologist"])

    run = execute(run)

    assert run.status == Run.Status.PAUSED
    assert run.reason.startswith("Readings cannot be written while the conditions do not hold")
    assert "23.1 ℃" in run.reason
    assert run.state["fault"]["kind"] == "record" and run.state["step"] == 4  # the 5 V point
    assert "4" not in run.state["results"] and "3" in run.state["results"]
    assert RunEvent.objects.filter(run=run, kind="fault", text__contains="23.1 ℃").exists()
    # the first point whole, nothing of the second
    dmm_record.refresh_from_db()
    assert sorted(k for k in dmm_record.cells if k.startswith("reading.")) == [
        f"reading.1.{n}" for n in range(1, 6)
    ]
    assert RecordChange.objects.filter(record=dmm_record, cell__startswith="reading.").count() == 5
    assert writes == [[f"reading.1.{n}" for n in range(1, 6)]]
    assert dmm_bench.calibrator_model.operating is False  # the source went to standby

    # ten minutes on, the room has held its limits again: resume re-takes the refused point
    # (the readings so far move back by the window the conditions are checked over)
    Reading.objects.filter(sensor=electrical_lab).update(time=F("time") - CONDITIONS_WINDOW)
    _feed(electrical_lab, 0, 20.4)
    services.run_resume(run=run, actor=cast["metrologist"])
    run = execute(run)
    assert run.status == Run.Status.DONE, run.reason
    dmm_record.refresh_from_db()
    assert len([k for k in dmm_record.cells if k.startswith("reading.")]) == 20
    assert RecordChange.objects.filter(record=dmm_record, cell__startswith="reading.").count() == 20


def test_a_record_back_from_its_check_is_measured_again_only_with_a_reason(
    cast, login, dmm_record, lab_calibrator, dmm_bench, execute, no_sleep
):
    """The checker returned the record (R6.2c: every change after the check needs a reason):
    a run without a reason is refused at its start (API 422, page: on the form), nothing
    written; with one, the run fills the record and the reason is on every reading's change."""
    from django.urls import reverse

    dmm_record.submitted_at = timezone.now() - dt.timedelta(hours=1)  # submitted, returned
    dmm_record.save(update_fields=["submitted_at"])
    client = login(cast["metrologist"])
    body = {
        "record": dmm_record.pk,
        "procedure": "dmm-dc-voltage",
        "equipment": {"source": lab_calibrator.pk},
        "connections": {"uut": dmm_bench.dmm.connection("dmm34401", TIMEOUT_MS)},
    }
    answer = client.post("/api/v1/instruments/runs/", body, content_type="application/json")
    assert answer.status_code == 422, answer.content
    assert answer.json()["error"]["code"] == "reason_required"
    start = f"{reverse('instruments:run_start')}?record={dmm_record.pk}"
    page = client.get(start, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="change-reason"' in page
    connection = dmm_bench.dmm.connection("dmm34401", TIMEOUT_MS)
    form = {
        "procedure": "dmm-dc-voltage",
        "role-source": lab_calibrator.pk,
        "conn-uut-kind": "visa",
        "conn-uut-driver": "dmm34401",
        "conn-uut-address": connection["resource"],
        "conn-uut-timeout_ms": TIMEOUT_MS,
    }
    refused = client.post(start, form, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 422
    assert "记录已从核验退回" in refused.content.decode()
    assert not Run.objects.exists()

    reason = "核验员要求重测 10 V 点"
    answer = client.post(
        "/api/v1/instruments/runs/", {**body, "reason": reason}, content_type="application/json"
    )
    assert answer.status_code == 201, answer.content
    run = execute(Run.objects.get())
    services.run_confirm_prompt(run=run, actor=cast["metrologist"])
    run = execute(run)
    assert run.status == Run.Status.DONE, run.reason
    changes = RecordChange.objects.filter(record=dmm_record, source="instrument")
    assert changes.count() == 20
    assert set(changes.values_list("reason", flat=True)) == {reason}
