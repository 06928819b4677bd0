"""Procedure runs through the services and the worker's job, with the REAL simulated SCPI
bench on loopback ports (issue 16; R8b, R8c, R6.2a, R6.4e): the built-in dmm-dc-voltage
procedure fills a draft DMM calibration record; a prompt stops the run until confirmed; an
injected instrument error pauses it with the reason and resume finishes it; abort; refusals.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from metrolab.core.service import ServiceError
from metrolab.instruments import services
from metrolab.instruments.models import Run, RunEvent
from metrolab.instruments.tests.runs_fixtures import *  # noqa: F403
from metrolab.instruments.tests.runs_fixtures import GAIN, OFFSET, TIMEOUT_MS
from metrolab.items.tests.fixtures import customers, make_commission, receive  # noqa: F401
from metrolab.records.models import RecordChange
from metrolab.records.tests.fixtures import *  # noqa: F403
from metrolab.tasks.tests.fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def _start(cast, record, calibrator, bench, **kw):
    return services.run_start(
        record=record,
        procedure="dmm-dc-voltage",
        equipment_roles={"source": calibrator},
        connections={"uut": bench.dmm.connection("dmm34401", TIMEOUT_MS)},
        actor=cast["metrologist"],
        **kw,
    )


def _to_prompt(cast, record, calibrator, bench, execute):
    run = _start(cast, record, calibrator, bench)
    assert run.status == Run.Status.QUEUED
    return execute(run)


def test_a_run_stops_at_the_prompt_and_fills_the_record_once_confirmed(
    english, cast, dmm_record, lab_calibrator, dmm_bench, execute, no_sleep
):
    run = _to_prompt(cast, dmm_record, lab_calibrator, dmm_bench, execute)
    # the prompt stops the run: the worker is left, nothing is read yet
    assert run.status == Run.Status.WAITING_PROMPT
    assert "low-thermal leads" in run.reason
    assert run.state["step"] == 2
    dmm_record.refresh_from_db()
    assert not any(k.startswith("reading.") for k in dmm_record.cells)
    assert RunEvent.objects.filter(run=run, kind="prompt").count() == 1
    # running the job again without a confirmation does nothing
    assert execute(run).status == Run.Status.WAITING_PROMPT

    run = services.run_confirm_prompt(run=run, actor=cast["metrologist"])
    assert run.status == Run.Status.QUEUED
    run = execute(run)
    assert run.status == Run.Status.DONE, run.reason
    assert run.ended_at is not None
    dmm_record.refresh_from_db()
    readings = {k: v for k, v in dmm_record.cells.items() if k.startswith("reading.")}
    assert len(readings) == 4 * 5  # points 1, 5, 10, −10 V, 5 readings each
    # the simulated DMM reads output × (1 + 12 ppm) + 3 µV with σ = 2 µV
    for point, nominal in ((1, "1"), (2, "5"), (3, "10"), (4, "-10")):
        expected = Decimal(nominal) * (1 + Decimal(str(GAIN))) + Decimal(str(OFFSET))
        for repeat in range(1, 6):
            value = Decimal(readings[f"reading.{point}.{repeat}"])
            assert abs(value - expected) < Decimal("0.00002"), (point, value)
    changes = RecordChange.objects.filter(record=dmm_record, cell__startswith="reading.")
    assert changes.count() == 20
    assert set(changes.values_list("source", flat=True)) == {"instrument"}
    assert set(changes.values_list("by__username", flat=True)) == {"metrologist"}
    # the state is saved with the step reports; the transcript is kept
    assert run.state["status"] == "done"
    assert run.state["results"]["3"]["nominal"] == "1"
    assert run.state["results"]["3"]["passed"] is True
    commands = RunEvent.objects.filter(run=run, kind="command")
    assert commands.filter(role="source", text__startswith="OUT").exists()
    assert commands.filter(role="uut", text="READ?").exists()
    assert RunEvent.objects.filter(run=run, kind="answer").exists()
    assert RunEvent.objects.filter(run=run, kind="done").count() == 1


def test_an_injected_instrument_error_pauses_the_run_and_resume_finishes_it(
    cast, dmm_record, lab_calibrator, dmm_bench, execute, no_sleep
):
    run = _to_prompt(cast, dmm_record, lab_calibrator, dmm_bench, execute)
    # the DMM reports an error in its queue: the first command of the first point faults
    dmm_bench.dmm.faults.push_error('-222,"Data out of range"')
    services.run_confirm_prompt(run=run, actor=cast["metrologist"])
    run = execute(run)
    assert run.status == Run.Status.PAUSED
    assert "Data out of range" in run.reason
    assert run.state["fault"]["kind"] == "instrument_error"
    assert run.state["fault"]["role"] == "uut"
    assert run.state["step"] == 3
    fault = RunEvent.objects.get(run=run, kind="fault")
    assert "Data out of range" in fault.text
    dmm_record.refresh_from_db()
    assert not any(k.startswith("reading.") for k in dmm_record.cells)
    # the run left the worker; resuming queues it and it goes on from the failed point
    run = services.run_resume(run=run, actor=cast["metrologist"])
    assert run.status == Run.Status.QUEUED
    run = execute(run)
    assert run.status == Run.Status.DONE, run.reason
    dmm_record.refresh_from_db()
    assert len([k for k in dmm_record.cells if k.startswith("reading.")]) == 20
    assert run.reason == ""


def test_abort_ends_the_run_with_its_reason(
    cast, dmm_record, lab_calibrator, dmm_bench, execute, no_sleep
):
    run = _to_prompt(cast, dmm_record, lab_calibrator, dmm_bench, execute)
    with pytest.raises(ServiceError) as refused:
        services.run_abort(run=run, actor=cast["metrologist"], reason="  ")
    assert refused.value.code == "reason_required"
    run = services.run_abort(run=run, actor=cast["metrologist"], reason="wrong leads")
    assert run.status == Run.Status.ABORTED
    assert run.reason == "wrong leads"
    assert run.state["abort_reason"] == "wrong leads"
    assert run.ended_at is not None
    # a final run cannot be resumed, confirmed, nor run by the worker
    with pytest.raises(ServiceError) as refused:
        services.run_resume(run=run, actor=cast["metrologist"])
    assert refused.value.code == "run_status"
    assert execute(run).status == Run.Status.ABORTED


def test_a_pause_while_queued_and_resume(
    cast, dmm_record, lab_calibrator, dmm_bench, execute, no_sleep
):
    run = _start(cast, dmm_record, lab_calibrator, dmm_bench)
    run = services.run_pause(run=run, actor=cast["metrologist"])
    assert run.status == Run.Status.PAUSED
    assert execute(run).status == Run.Status.PAUSED  # the worker leaves a paused run alone
    services.run_resume(run=run, actor=cast["metrologist"])
    assert execute(run).status == Run.Status.WAITING_PROMPT


def test_refused_for_equipment_whose_calibration_expired(
    english, cast, dmm_record, lab_calibrator, dmm_bench
):
    calibration = lab_calibrator.calibrations.get()
    calibration.due_date = timezone.localdate() - dt.timedelta(days=1)
    calibration.date = timezone.localdate() - dt.timedelta(days=366)
    calibration.save()
    with pytest.raises(ServiceError) as refused:
        _start(cast, dmm_record, lab_calibrator, dmm_bench)
    assert refused.value.code == "not_eligible"
    assert "YQ-201" in refused.value.message
    assert "due for calibration" in refused.value.message
    assert not Run.objects.exists()


def test_the_eligibility_is_asked_again_before_every_step(
    cast, dmm_record, lab_calibrator, dmm_bench, execute, no_sleep
):
    run = _to_prompt(cast, dmm_record, lab_calibrator, dmm_bench, execute)
    lab_calibrator.status = "restricted"
    lab_calibrator.save()
    services.run_confirm_prompt(run=run, actor=cast["metrologist"])
    run = execute(run)
    assert run.status == Run.Status.PAUSED
    assert run.state["fault"]["kind"] == "refused"
    assert "YQ-201" in run.reason


def test_refused_for_equipment_located_in_another_room(cast, dmm_record, lab_calibrator, dmm_bench):
    from metrolab.environment.models import Room

    lab = Room.objects.create(code="LAB-E1", name="电学实验室 1")
    Room.objects.create(code="LAB-P1", name="压力实验室 1")
    dmm_record.room = lab
    dmm_record.save()
    lab_calibrator.location = "LAB-P1"
    lab_calibrator.save()
    with pytest.raises(ServiceError) as refused:
        _start(cast, dmm_record, lab_calibrator, dmm_bench)
    assert refused.value.code == "equipment_elsewhere"
    assert "LAB-P1" in refused.value.message and "LAB-E1" in refused.value.message
    # in the record's room it starts
    lab_calibrator.location = "LAB-E1"
    lab_calibrator.save()
    assert _start(cast, dmm_record, lab_calibrator, dmm_bench).status == Run.Status.QUEUED


def test_refused_without_a_connection_and_for_someone_else(
    cast, dmm_record, lab_calibrator, dmm_bench
):
    with pytest.raises(ServiceError) as refused:
        services.run_start(
            record=dmm_record,
            procedure="dmm-dc-voltage",
            equipment_roles={"source": lab_calibrator},
            connections={"uut": dmm_bench.dmm.connection("dmm34401", TIMEOUT_MS)},
            actor=cast["checker"],
        )
    assert refused.value.code == "forbidden"
    lab_calibrator.instrument_connection.delete()
    lab_calibrator.refresh_from_db()
    with pytest.raises(ServiceError) as refused:
        _start(cast, dmm_record, lab_calibrator, dmm_bench)
    assert refused.value.code == "no_connection"


def test_the_run_is_queued_for_the_worker(
    cast, dmm_record, lab_calibrator, dmm_bench, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(services, "_enqueue", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        run = _start(cast, dmm_record, lab_calibrator, dmm_bench)
    assert queued == [run.pk]


def test_a_defect_in_the_worker_pauses_the_run_with_the_reason(
    cast, dmm_record, lab_calibrator, dmm_bench, execute, no_sleep, monkeypatch
):
    run = _start(cast, dmm_record, lab_calibrator, dmm_bench)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "_drive", broken)
    run = execute(run)
    assert run.status == Run.Status.PAUSED
    assert run.reason == "RuntimeError: boom"
    assert RunEvent.objects.filter(run=run, kind="fault", text="RuntimeError: boom").exists()


def _asking(monkeypatch, ask):
    """Calls `ask()` once, when the worker reports the first point's result (a person pressing
    pause or abort while the worker runs the run)."""
    original = services._progress
    asked = []

    def progress(run, executor, recorder, kind, data):
        if kind == "result" and not asked:
            asked.append(ask())
        original(run, executor, recorder, kind, data)

    monkeypatch.setattr(services, "_progress", progress)
    return asked


def test_a_pause_asked_while_the_worker_runs_stops_after_the_point_and_resumes(
    cast, dmm_record, lab_calibrator, dmm_bench, execute, no_sleep, monkeypatch
):
    run = _to_prompt(cast, dmm_record, lab_calibrator, dmm_bench, execute)
    services.run_confirm_prompt(run=run, actor=cast["metrologist"])
    asked = _asking(
        monkeypatch,
        lambda: services.run_pause(run=run, actor=cast["metrologist"], reason="phone call"),
    )
    run = execute(run)
    assert asked[0].requested == "pause"  # the worker was running it
    assert run.status == Run.Status.PAUSED
    assert run.reason == "phone call" and run.requested == ""
    assert run.state["fault"] is None and run.state["step"] == 4  # after the first point
    dmm_record.refresh_from_db()
    assert sorted(k for k in dmm_record.cells if k.startswith("reading.")) == [
        f"reading.1.{n}" for n in range(1, 6)
    ]
    services.run_resume(run=run, actor=cast["metrologist"])
    run = execute(run)
    assert run.status == Run.Status.DONE, run.reason
    dmm_record.refresh_from_db()
    assert len([k for k in dmm_record.cells if k.startswith("reading.")]) == 20


def test_an_abort_asked_while_the_worker_runs_ends_it(
    cast, dmm_record, lab_calibrator, dmm_bench, execute, no_sleep, monkeypatch
):
    run = _to_prompt(cast, dmm_record, lab_calibrator, dmm_bench, execute)
    services.run_confirm_prompt(run=run, actor=cast["metrologist"])
    _asking(
        monkeypatch,
        lambda: services.run_abort(run=run, actor=cast["metrologist"], reason="wrong range"),
    )
    run = execute(run)
    assert run.status == Run.Status.ABORTED
    assert run.reason == "wrong range" and run.state["abort_reason"] == "wrong range"
    assert run.ended_at is not None
    assert RunEvent.objects.filter(run=run, kind="abort", text="wrong range").exists()
    # the calibrator was put to standby
    assert dmm_bench.calibrator_model.operating is False
