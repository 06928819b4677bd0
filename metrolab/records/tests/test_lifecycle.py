"""Creating, cancelling, amending, keeping and deleting records (R6.2, R6.12a, R4.5): the
eligibility refusal, the CMC refusal, cancel → the task is reassignable, amendments with their
own check and approval, locked rows and append-only trail in the database (raw SQL, SQLite and
PostgreSQL), retention, record numbers under concurrency, reverse traceability."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from metrolab.core import testing
from metrolab.core.errors import CoreRefusal
from metrolab.core.testing import refused
from metrolab.records import services
from metrolab.records.errors import RecordRefusal
from metrolab.records.models import Record, RecordChange, RecordSignature
from metrolab.records.tests.fixtures import PASSWORD
from metrolab.risk.trace import trace
from metrolab.tasks.models import Task
from metrolab.tasks.services import task_assign

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

DMM_CELLS = {
    "param.range": "10",
    "param.points": "1, 10",
    "param.repeats": "5",
    "reading.1.1": "1.00002", "reading.1.2": "1.00003", "reading.1.3": "1.00002",
    "reading.1.4": "1.00001", "reading.1.5": "1.00002",
    "reading.2.1": "10.00040", "reading.2.2": "10.00042", "reading.2.3": "10.00041",
    "reading.2.4": "10.00040", "reading.2.5": "10.00042",
}  # fmt: skip


def test_only_an_eligible_assignee_of_a_started_task_makes_a_record(
    cast, gauge_task, qualified_setup
):
    refused(
        services.record_create,
        task=gauge_task,
        actor=cast["checker"],
        code=CoreRefusal.FORBIDDEN,
        unchanged=("records",),
    )
    yq2 = qualified_setup.equipment[1]
    calibration = yq2.current_calibration()
    calibration.due_date = timezone.localdate() - dt.timedelta(days=1)
    calibration.save()
    authorisation = qualified_setup.authorisations[("metrologist", "verification")]
    authorisation.revoked = True
    authorisation.save()
    error = refused(
        services.record_create,
        task=gauge_task,
        actor=cast["metrologist"],
        code=RecordRefusal.NOT_ELIGIBLE,
        unchanged=("records",),
    )
    assert "YQ-002" in error.message and "revoked" in error.message
    assert len(error.errors[""]) >= 2


def test_no_fitting_template_is_refused(cast, start_task):
    task = start_task()
    error = refused(
        services.record_create,
        task=task,
        actor=cast["metrologist"],
        code=RecordRefusal.NO_TEMPLATE,
        unchanged=("records",),
    )
    assert "No approved record template fits" in error.message


def test_one_open_record_per_task(cast, gauge_record):
    refused(
        services.record_create,
        task=gauge_record.task,
        actor=cast["metrologist"],
        code=RecordRefusal.OPEN_RECORD,
        unchanged=("records",),
    )


def test_an_uncertainty_below_the_cmc_is_refused_at_submission(
    cast, start_task, approved_version, qualified_setup
):
    scope = qualified_setup.scopes["calibration"]
    scope.cmc_value, scope.cmc_unit = Decimal("20"), "ppm"
    scope.save()
    version = approved_version("dmm-dc-voltage")
    task = start_task(service="calibration", name="数字多用表 DMM")
    record = services.record_create(
        task=task,
        actor=cast["metrologist"],
        template_version=version,
        roles={qualified_setup.equipment[0].pk: "calibrator"},
    )
    assert record.context["cmc"] == {"value": "20", "unit": "ppm", "relative": True}
    record = services.record_write(record=record, values=DMM_CELLS, actor=cast["metrologist"])
    assert record.results["points"][1]["values"]["U"]["text"] == "0.00016"
    error = refused(
        services.record_submit,
        record=record,
        actor=cast["metrologist"],
        password=PASSWORD,
        code=RecordRefusal.BELOW_CMC,
        unchanged=("records", "tasks"),
    )
    assert "point 2" in error.message


def test_cancel_lets_a_manager_reassign_the_task(cast, gauge_record, move, authorise):
    record = move(gauge_record, "submitted")
    refused(
        services.record_cancel,
        record=record,
        actor=cast["checker"],
        reason="x",
        code=CoreRefusal.FORBIDDEN,
        unchanged=("records",),
    )
    services.record_cancel(record=record, actor=cast["director"], reason="改派他人")
    record.refresh_from_db()
    task = Task.objects.get(pk=record.task_id)
    assert record.status == "cancelled" and task.status == Task.Status.ASSIGNED
    assert record.transitions.last().reason == "改派他人"
    # A lab manager hands the task to someone else.
    from metrolab.core.permissions import SYSTEM
    from metrolab.core.services import user_create

    other = user_create(username="metro2", password="pw-2", roles=["metrologist"], actor=SYSTEM)
    authorise(other, service="verification")
    task_assign(task=task, assignee=other, actor=cast["director"], scope=task.scope)
    task.refresh_from_db()
    assert task.assignee == other


def test_an_amendment_has_its_own_check_and_approval(cast, gauge_record, move):
    record = move(gauge_record, "approved")
    amendment = services.record_amend(
        record=record, actor=cast["metrologist"], reason="委托方名称更正"
    )
    assert (amendment.amends, amendment.revision, amendment.status) == (record, 2, "draft")
    assert amendment.number == f"{record.number}-R2" and amendment.cells == record.cells
    assert amendment.equipment_used.count() == 2
    refused(
        services.record_amend,
        record=record,
        actor=cast["metrologist"],
        reason="again",
        code=RecordRefusal.OPEN_RECORD,
        unchanged=("records",),
    )
    services.record_write(
        record=amendment,
        values={"header.appearance": "表盘轻微划痕"},
        actor=cast["metrologist"],
    )
    amendment = move(Record.objects.get(pk=amendment.pk), "approved")
    record.refresh_from_db()
    assert amendment.status == "approved" and record.status == "superseded"
    assert record.locked_at is not None
    assert Task.objects.get(pk=record.task_id).status == Task.Status.DONE


def _raw(sql, params):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_refuses_changes_of_a_locked_record_and_its_trail(cast, gauge_record, move):
    record = move(gauge_record, "approved")
    _raw("UPDATE records_record SET decision = %s WHERE id = %s", ["fail", record.pk])
    _raw("UPDATE records_record SET cells = %s WHERE id = %s", ["{}", record.pk])
    _raw("DELETE FROM records_record WHERE id = %s", [record.pk])
    change = RecordChange.objects.filter(record=record).first()
    _raw("UPDATE records_recordchange SET new = %s WHERE id = %s", ["9", change.pk])
    _raw("DELETE FROM records_recordchange WHERE id = %s", [change.pk])
    signature = RecordSignature.objects.filter(record=record).first()
    _raw(
        "UPDATE records_recordsignature SET content_digest = %s WHERE id = %s",
        ["0" * 64, signature.pk],
    )
    _raw("DELETE FROM records_recordtransition WHERE record_id = %s", [record.pk])
    _raw("UPDATE records_recordequipment SET role = %s WHERE record_id = %s", ["x", record.pk])
    _raw("DELETE FROM records_recordequipment WHERE record_id = %s", [record.pk])
    record.refresh_from_db()
    assert record.decision == "pass" and record.changes.count() > 0


def test_a_draft_is_not_locked_in_the_database(cast, gauge_record):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_record SET decision = %s WHERE id = %s", ["x", gauge_record.pk]
        )
    gauge_record.refresh_from_db()
    assert gauge_record.decision == "x"


def test_retention(cast, gauge_record):
    error = refused(
        services.record_delete,
        record=gauge_record,
        actor=cast["director"],
        reason="清理",
        code=RecordRefusal.RETAINED,
        unchanged=("records",),
    )
    assert gauge_record.retain_until.isoformat() in error.message
    _raw("DELETE FROM records_record WHERE id = %s", [gauge_record.pk])
    # Once its retention period has ended, a lab manager may delete it with its trail.
    services.record_write(
        record=gauge_record, values={"standard.1": "0"}, actor=cast["metrologist"]
    )
    with connection.cursor() as cursor:  # time passes: the period has ended
        cursor.execute(
            "UPDATE records_record SET retain_until = %s WHERE id = %s",
            [timezone.localdate() - dt.timedelta(days=2), gauge_record.pk],
        )
    gauge_record.refresh_from_db()
    services.record_delete(record=gauge_record, actor=cast["director"], reason="保存期满")
    assert not Record.objects.filter(pk=gauge_record.pk).exists()
    assert not RecordChange.objects.exists()


def test_reverse_traceability_finds_the_record(cast, gauge_record, qualified_setup):
    start = timezone.now() - dt.timedelta(days=1)
    rows = trace(qualified_setup.equipment[0], start, timezone.now() + dt.timedelta(hours=1))
    found = [r for r in rows if r.source == "record"]
    assert [(r.reference, r.task) for r in found] == [(gauge_record.number, gauge_record.task)]
    assert found[0].url == f"/records/{gauge_record.pk}/"


@pytest.mark.django_db(transaction=True)
def test_concurrent_records_get_distinct_numbers(cast, approved_version, start_task):
    approved_version()
    tasks = [start_task() for _ in range(4)]
    pending = list(tasks)

    def work():
        task = pending.pop()
        return services.record_create(task=task, actor=cast["metrologist"]).number

    results = testing.race(4, work)
    year = timezone.localdate().year
    assert sorted(results) == [f"JL{year}{n:06d}" for n in (1, 2, 3, 4)], results
