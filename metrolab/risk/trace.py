"""Reverse traceability (R4.5): for an item of equipment and a period (e.g. since its last good
calibration, after it was found out of tolerance), every piece of work that used it.

Both ends of the period are inclusive. Listed are:

- tasks whose equipment includes it and that were worked in the period: assigned no later
  than its end, and still open, or finished (done / cancelled) no earlier than its start. A
  task keeps no finishing time of its own, so its last change stands for it: this can only
  widen the net, which is the safe side for an impact review. Tasks never assigned are not
  listed (nobody worked them);
- every usage record of the equipment overlapping the period (a record without an end is
  taken as still running), with its task if it has one;
- the rows of every callable in `trace_extenders`.

Extending it (the records and certificates issues): append a callable
``extender(equipment, start, end) -> Iterable[TraceRow]`` to `trace_extenders`, e.g. in the
app's ``AppConfig.ready()``::

    from metrolab.risk.trace import TraceRow, trace_extenders

    def records_using(equipment, start, end):
        for record in Record.objects.filter(equipment=equipment, at__range=(start, end)):
            yield TraceRow(source="record", source_label=_("Original record"),
                           task=record.task, reference=record.number,
                           url=reverse("records:detail", args=[record.pk]),
                           started=record.started_at, ended=record.ended_at,
                           user=str(record.by))

    trace_extenders.append(records_using)

A row with a task brings that task (and its customer) into an impact review opened on the
trace; every row is kept in the review's snapshot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.equipment.models import Equipment, UsageRecord
from metrolab.tasks.models import Task

FINISHED = (Task.Status.DONE, Task.Status.CANCELLED)


@dataclass
class TraceRow:
    """One piece of work that used the equipment."""

    source: str  # "task", "usage", or an extender's own code ("record", "certificate", ...)
    source_label: str
    task: Task | None = None
    reference: str = ""  # the record / certificate number, the usage note
    url: str = ""  # the row's own page (a record, a certificate), if any
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    user: str = ""  # who used the equipment / did the work

    @property
    def customer(self):
        return self.task.item.commission.customer if self.task else None

    def as_json(self) -> dict:
        """The row as kept in an impact review's snapshot (plain JSON, frozen at opening)."""
        task = self.task
        item = task.item if task else None
        commission = item.commission if item else None
        customer = commission.customer if commission else None
        return {
            "source": self.source,
            "source_label": str(self.source_label),
            "task_id": task.pk if task else None,
            "item": item.number if item else "",
            "item_name": item.name if item else "",
            "commission_id": commission.pk if commission else None,
            "commission": commission.number if commission else "",
            "customer_id": customer.pk if customer else None,
            "customer": customer.name if customer else "",
            "service": str(task.get_service_display()) if task else "",
            "status": str(task.get_status_display()) if task else "",
            "assignee": str(task.assignee) if task and task.assignee else "",
            "reference": self.reference,
            "url": self.url,
            "started": self.started.isoformat() if self.started else None,
            "ended": self.ended.isoformat() if self.ended else None,
            "user": self.user,
        }


Extender = Callable[[Equipment, dt.datetime, dt.datetime], Iterable[TraceRow]]
# Later issues add their records and certificates here (see the module docstring).
trace_extenders: list[Extender] = []


def _tasks_with_item(tasks):
    return tasks.select_related("item__commission__customer", "assignee")


def _task_rows(equipment: Equipment, start: dt.datetime, end: dt.datetime) -> list[TraceRow]:
    tasks = _tasks_with_item(
        Task.objects.filter(equipment=equipment, assigned_at__isnull=False, assigned_at__lte=end)
        .filter(~Q(status__in=FINISHED) | Q(updated_at__gte=start))
        .order_by("assigned_at", "pk")
    )
    return [
        TraceRow(
            source="task",
            source_label=_("Task"),
            task=task,
            started=task.assigned_at,
            ended=task.updated_at if task.status in FINISHED else None,
            user=str(task.assignee or ""),
        )
        for task in tasks
    ]


def _usage_rows(equipment: Equipment, start: dt.datetime, end: dt.datetime) -> list[TraceRow]:
    usage = (
        UsageRecord.objects.filter(equipment=equipment, started_at__lte=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=start))
        .select_related("user", "task__item__commission__customer", "task__assignee")
        .order_by("started_at", "pk")
    )
    return [
        TraceRow(
            source="usage",
            source_label=_("Usage (%(source)s)") % {"source": record.get_source_display()},
            task=record.task,
            reference=record.note,
            started=record.started_at,
            ended=record.ended_at,
            user=str(record.user),
        )
        for record in usage
    ]


def trace(equipment: Equipment, start: dt.datetime, end: dt.datetime) -> list[TraceRow]:
    """Every piece of work that used `equipment` between `start` and `end` (inclusive), in the
    order it began."""
    rows = _task_rows(equipment, start, end) + _usage_rows(equipment, start, end)
    for extend in trace_extenders:
        rows.extend(extend(equipment, start, end))
    return sorted(rows, key=lambda r: (r.started is None, r.started or start, r.source))


def trace_tasks(rows: Iterable[TraceRow]) -> list[Task]:
    """The distinct tasks of the rows, in order."""
    return list({row.task.pk: row.task for row in rows if row.task is not None}.values())


def trace_customers(rows: Iterable[TraceRow]) -> list:
    """The distinct customers whose work is among the rows, by name."""
    customers = {row.customer.pk: row.customer for row in rows if row.customer is not None}
    return sorted(customers.values(), key=lambda c: c.name)


def item_url(row: TraceRow) -> str:
    return reverse("items:card", args=[row.task.item.number]) if row.task else ""


def day_period(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The period from the start of day `first` to the end of day `last` (local time)."""
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(last, dt.time.max))
    return start, end
