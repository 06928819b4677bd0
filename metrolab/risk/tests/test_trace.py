"""Reverse traceability (R4.5): for an item of equipment and a period, exactly the tasks that
used it and were worked in the period, and the usage records overlapping it — both ends
included — plus the rows of registered extenders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from metrolab.equipment.models import UsageRecord
from metrolab.risk import trace as tracing
from metrolab.risk.trace import TraceRow, day_period, trace, trace_customers, trace_tasks
from metrolab.tasks.models import Task

pytestmark = pytest.mark.django_db

START, END = day_period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
TICK = dt.timedelta(microseconds=1)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def work(lib, cast, make_commission, receive, monkeypatch):
    """Tasks and usage records of equipment `eq` placed around the period."""
    eq = lib.equipment(dt.date(2027, 1, 1), asset_no="YQ-001")
    other = lib.equipment(dt.date(2027, 1, 1), asset_no="YQ-002")
    commission_a = make_commission("a", lines=[("压力表", 8, "calibration")])
    commission_b = make_commission("b", lines=[("温度计", 1, "calibration")])
    items = [receive(commission_a) for _ in range(8)] + [receive(commission_b)]
    tasks = [item.tasks.get() for item in items]

    def worked(task, *, assigned, status=Task.Status.IN_PROGRESS, finished=None, equipment=eq):
        task.equipment.set([equipment])
        task.assignee = cast["metrologist"]
        task.assigned_at = assigned
        task.status = status
        if finished is not None:
            monkeypatch.setattr(timezone, "now", lambda: finished)
        task.save()
        monkeypatch.undo()
        return task

    t = {
        "open_before": worked(tasks[0], assigned=START - 10 * HOUR),
        "assigned_at_end": worked(tasks[1], assigned=END),
        "assigned_after": worked(tasks[2], assigned=END + TICK),
        "done_at_start": worked(
            tasks[3], assigned=START - 48 * HOUR, status=Task.Status.DONE, finished=START
        ),
        "done_before": worked(
            tasks[4], assigned=START - 48 * HOUR, status=Task.Status.DONE, finished=START - TICK
        ),
        "other_equipment": worked(tasks[5], assigned=START + HOUR, equipment=other),
        "customer_b": worked(tasks[8], assigned=START + HOUR),
    }
    unassigned = tasks[6]
    unassigned.equipment.set([eq])
    t["unassigned"] = unassigned
    t["usage_only"] = tasks[7]

    def used(started, ended, task=None, equipment=eq, note=""):
        return UsageRecord.objects.create(
            equipment=equipment,
            task=task,
            user=cast["metrologist"],
            started_at=started,
            ended_at=ended,
            note=note,
        )

    u = {
        "ends_at_start": used(START - HOUR, START, task=t["usage_only"]),
        "ends_before": used(START - HOUR, START - TICK, note="before"),
        "starts_at_end": used(END, END + HOUR, note="at end"),
        "starts_after": used(END + TICK, END + HOUR, note="after"),
        "still_running": used(START - 100 * HOUR, None, note="running"),
        "other_equipment": used(START + HOUR, START + 2 * HOUR, equipment=other),
    }
    return eq, t, u


def test_trace_lists_exactly_the_work_in_the_period(work):
    eq, t, _u = work
    rows = trace(eq, START, END)
    task_rows = {r.task.pk for r in rows if r.source == "task"}
    assert task_rows == {
        t[name].pk for name in ("open_before", "assigned_at_end", "done_at_start", "customer_b")
    }
    usage_rows = {(r.reference, r.task.pk if r.task else None) for r in rows if r.source == "usage"}
    assert usage_rows == {("", t["usage_only"].pk), ("at end", None), ("running", None)}
    # The tasks of an impact review: those of the task rows and of the usage rows.
    assert {task.pk for task in trace_tasks(rows)} == task_rows | {t["usage_only"].pk}
    assert sorted(c.code for c in trace_customers(rows)) == ["CA", "CB"]
    # In the order the work began.
    starts = [r.started for r in rows]
    assert starts == sorted(starts)


def test_the_period_boundaries_move_the_work_in_and_out(work):
    eq, t, _u = work
    # Shifted one tick later: the task assigned and the usage started just after the end come
    # in; the task finished and the usage ended exactly at the start fall out.
    rows = trace(eq, START + TICK, END + TICK)
    names = {r.task.pk for r in rows if r.source == "task"}
    assert t["assigned_after"].pk in names and t["done_at_start"].pk not in names
    assert "after" in {r.reference for r in rows}
    assert t["usage_only"].pk not in {r.task.pk for r in rows if r.task and r.source == "usage"}


def test_extenders_add_their_rows(work, monkeypatch):
    eq, t, _u = work
    seen = []

    def certificates(equipment, start, end):
        seen.append((equipment, start, end))
        return [
            TraceRow(
                source="certificate",
                source_label="Certificate",
                task=t["done_before"],
                reference="JZ2026-0001",
                started=START + HOUR,
            )
        ]

    monkeypatch.setattr(tracing, "trace_extenders", [certificates])
    rows = tracing.trace(eq, START, END)
    assert seen == [(eq, START, END)]
    extra = [r for r in rows if r.source == "certificate"]
    assert len(extra) == 1 and extra[0].as_json()["reference"] == "JZ2026-0001"
    assert t["done_before"].pk in {task.pk for task in trace_tasks(rows)}


def test_rows_as_json(work):
    eq, t, _u = work
    row = next(r for r in trace(eq, START, END) if r.task and r.task.pk == t["customer_b"].pk)
    data = row.as_json()
    assert data["task_id"] == t["customer_b"].pk
    assert data["customer"] == "乙方化工 Customer B"
    assert data["item"] == t["customer_b"].item.number
    assert data["assignee"] == "Metrologist"
    assert dt.datetime.fromisoformat(data["started"]) == START + HOUR
