"""Writes of tasks (R6.1b, R6.4e): created at receipt, assigned by a lab manager to an
eligible person with the authorised item, method, measurement standard and equipment the work
is done under, started by that person. Every function is a service (audited, one
transaction); refusals raise ServiceError and leave nothing written.

The eligibility of an assignee is decided in one place, `task_assignment_problems`: an active
account with the metrologist role, then every check registered in `assignment_checks` — the
qualifications app registers the one eligibility service there
(`metrolab.qualifications.eligibility`, R6.7d). The same checks run again when the task
starts, since conditions may have changed since it was assigned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.commissions.services import commission_refresh_status
from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import person, require_person
from metrolab.core.roles import ADMIN, DIRECTOR, METROLOGIST
from metrolab.core.service import ServiceError, service
from metrolab.equipment.models import Equipment, UsageRecord
from metrolab.equipment.services import equipment_usage_close_for_task, equipment_usage_record
from metrolab.items.custody import FINAL
from metrolab.items.models import Item
from metrolab.items.services import item_mark_in_testing
from metrolab.methods.coverage import instrument_of_item, method_preferred
from metrolab.methods.ranges import stated_range
from metrolab.tasks.errors import TaskRefusal
from metrolab.tasks.models import Task

# Roles that assign tasks (lab managers).
TASK_MANAGERS = (ADMIN, DIRECTOR)
# Tasks that count towards a person's workload.
OPEN_STATUSES = (Task.Status.ASSIGNED, Task.Status.IN_PROGRESS, Task.Status.CHECKING)

# Further eligibility checks: each takes (task, assignee) and returns the problems it finds,
# in the user's words (empty: no objection). Later issues append theirs (R6.4e).
AssignmentCheck = Callable[[Task, Any], list[str]]
assignment_checks: list[AssignmentCheck] = []


def assignee_role_problems(person: Any) -> list[tuple[str, str]]:
    """(code, message) for an account that may not take tasks at all: inactive, or without
    the metrologist role."""
    if person is None:
        return [("no_person", _("Choose a person."))]
    name = str(person)
    if not person.is_active:
        return [("account_inactive", _("%(name)s's account is not active.") % {"name": name})]
    if not person.has_role(METROLOGIST):
        return [
            (
                "role_missing",
                _("%(name)s does not hold the metrologist role.") % {"name": name},
            )
        ]
    return []


def task_assignment_problems(task: Task, assignee: Any) -> list[str]:
    """Why `assignee` may not take `task` as it is set up (empty list: they may): an active
    account holding the metrologist role; then every check registered in
    `assignment_checks`."""
    problems = [message for _code, message in assignee_role_problems(assignee)]
    if assignee is None:
        return problems
    for check in assignment_checks:
        problems.extend(check(task, assignee))
    return problems


def setup_defaults(scope: Any, *, on: dt.date | None = None, task: Any = None) -> dict[str, Any]:
    """What a task done under authorised item `scope` uses unless told otherwise: the scope's
    current method fitting the task's item best (`metrolab.methods.coverage`; else its first
    current method), the scope's measurement standard, that standard's
    usable equipment (in service / limited use) and, given the task, the instrument range read
    from its item's model / range in the scope's unit (None when it cannot be read)."""
    day = on or timezone.localdate()
    current = [m for m in scope.methods.all() if m.is_current_on(day)]
    # The method fitting the item best (category, accuracy class, range), else the first.
    method = (
        method_preferred(current, instrument_of_item(task.item))
        if task is not None
        else next(iter(current), None)
    )
    standard = scope.standard
    equipment = (
        list(standard.equipment.filter(status__in=Equipment.USABLE).order_by("asset_no"))
        if standard is not None
        else []
    )
    defaults = {"method": method, "standard": standard, "equipment": equipment}
    if task is not None:
        low, high = stated_range(task.item.model_range, scope.unit)
        defaults.update(range_low=low, range_high=high)
    return defaults


def _refusal(message: str, problems: list[str], *, code: str, field: str | None) -> ServiceError:
    error = ServiceError(message, code=code, field=field)
    error.problems = problems  # each reason, for pages that list them
    return error


def _require_manager(actor: Any):
    """The lab manager assigning (named on the task)."""
    return require_person(
        actor,
        TASK_MANAGERS,
        message=_("Only a technical manager or an administrator assigns tasks."),
    )


@service("task.create_for_item")
def tasks_create_for_item(*, item: Item, actor: Any) -> list[Task]:
    """The tasks of a newly received item: one per item × service (R6.1), due when the item
    is promised. Called by the receipt; calling it again creates nothing new."""
    task, _created = Task.objects.get_or_create(
        item=item, service=item.service, defaults={"due_date": item.promised_date}
    )
    return [task]


def _store_setup(task: Task, *, scope, method, standard, equipment, range_low, range_high):
    """Put the given set-up on the task (inside the assignment's transaction: a refusal that
    follows rolls it back)."""
    changed = []
    for name, value in (("scope", scope), ("method", method), ("standard", standard)):
        if value is not None and getattr(task, f"{name}_id") != value.pk:
            setattr(task, name, value)
            changed.append(name)
    for name, value in (("range_low", range_low), ("range_high", range_high)):
        if value is not None and getattr(task, name) != value:
            setattr(task, name, value)
            changed.append(name)
    if changed:
        task.save(update_fields=changed)
    if equipment is not None:
        wanted = {e.pk for e in equipment}
        if wanted != set(task.equipment.values_list("pk", flat=True)):
            task.equipment.set(list(equipment))


@service("task.assign")
def task_assign(
    *,
    task: Task,
    assignee: Any,
    actor: Any,
    reason: str = "",
    scope: Any = None,
    method: Any = None,
    standard: Any = None,
    equipment: Iterable[Any] | None = None,
    range_low: Decimal | None = None,
    range_high: Decimal | None = None,
) -> Task:
    """Assign a task to a person (R6.4e), or hand it to someone else before it starts, with
    what the work is done under: authorised item (`scope`), method, measurement standard,
    equipment and the instrument's range (in the scope's unit). Arguments given are stored on
    the task; given a scope, the method, standard and equipment not given default to
    `setup_defaults(scope)`. Only a lab manager assigns; the assignee must pass
    `task_assignment_problems` (every reason is given; nothing is written on refusal). The
    commission advances to "tasks assigned" once all its tasks are (R6.1b)."""
    manager = _require_manager(actor)
    task = (
        Task.objects.select_for_update(of=("self",))
        .select_related("item__commission", "item__line", "scope", "method", "standard")
        .get(pk=task.pk)
    )
    if task.status not in (Task.Status.UNASSIGNED, Task.Status.ASSIGNED):
        raise ServiceError(
            _("This task is %(status)s; it can no longer be assigned.")
            % {"status": task.get_status_display()},
            code=CoreRefusal.INVALID_TRANSITION,
        )
    if task.item.state in FINAL:
        raise ServiceError(
            _("Item %(number)s has left the lab; its task cannot be assigned.")
            % {"number": task.item.number},
            code=CoreRefusal.INVALID_TRANSITION,
        )
    equipment = list(equipment) if equipment is not None else None
    if scope is not None:
        defaults = setup_defaults(scope, task=task)
        method = method if method is not None else defaults["method"]
        standard = standard if standard is not None else defaults["standard"]
        equipment = equipment if equipment is not None else defaults["equipment"]
        unstated = range_low is None and range_high is None
        if unstated and task.range_low is None and task.range_high is None:
            range_low, range_high = defaults["range_low"], defaults["range_high"]
    low = range_low if range_low is not None else task.range_low
    high = range_high if range_high is not None else task.range_high
    if low is not None and high is not None and low > high:
        raise ServiceError(
            _("The lower end of the instrument range is above its upper end."),
            code=CoreRefusal.INVALID,
            field="range_low",
        )
    _store_setup(
        task,
        scope=scope,
        method=method,
        standard=standard,
        equipment=equipment,
        range_low=range_low,
        range_high=range_high,
    )
    problems = task_assignment_problems(task, assignee)
    if problems:
        # Raising rolls back the set-up stored above: a refusal writes nothing.
        raise _refusal(
            " ".join(problems), problems, code=TaskRefusal.NOT_ELIGIBLE, field="assignee"
        )
    if task.assignee_id == assignee.pk and task.status == Task.Status.ASSIGNED:
        return task
    task.assignee = assignee
    task.assigned_by = manager
    task.assigned_at = timezone.now()
    task.status = Task.Status.ASSIGNED
    task.save(update_fields=["assignee", "assigned_by", "assigned_at", "status"])
    commission_refresh_status(task.item.commission, actor=actor)
    return task


# Tasks assigned in one step: a day's delivery, small enough for one transaction.
MAX_ASSIGN_MANY = 200


@dataclass
class ManyAssigned:
    """What `tasks_assign_many` did: the tasks assigned, and each task refused with every
    reason (left as it was)."""

    assigned: list[Task] = field(default_factory=list)
    refused: list[tuple[Task, list[str]]] = field(default_factory=list)


@service("task.assign_many")
def tasks_assign_many(
    *,
    tasks: Iterable[Task],
    assignee: Any,
    actor: Any,
    reason: str = "",
    scope: Any = None,
    method: Any = None,
    standard: Any = None,
    equipment: Iterable[Any] | None = None,
) -> ManyAssigned:
    """Assign several tasks to one person with the same set-up (authorised item, method,
    standard, equipment) in one step (R6.4e). Each task goes through `task_assign` on its
    own, with every eligibility check; the tasks that pass are assigned and those that fail
    are reported with every reason and left exactly as they were (each assignment is its own
    savepoint). Partial on purpose: one item with an unreadable range must not hold back a
    whole delivery, and the refused tasks are listed for the manager to set up one by one.
    The instrument range is each task's own (read from its item), never shared."""
    _require_manager(actor)
    tasks = list({task.pk: task for task in tasks}.values())
    if not tasks:
        raise ServiceError(_("Choose at least one task."), field="tasks")
    if len(tasks) > MAX_ASSIGN_MANY:
        raise ServiceError(
            _("Assign at most %(max)d tasks in one step.") % {"max": MAX_ASSIGN_MANY},
            field="tasks",
        )
    if assignee is None:
        raise ServiceError(_("Choose a person."), field="assignee")
    equipment = list(equipment) if equipment is not None else None
    result = ManyAssigned()
    for task in sorted(tasks, key=lambda t: t.pk):
        try:
            done = task_assign(
                task=task,
                assignee=assignee,
                actor=actor,
                reason=reason,
                scope=scope,
                method=method,
                standard=standard,
                equipment=equipment,
            )
        except ServiceError as exc:
            result.refused.append((task, list(getattr(exc, "problems", None) or [exc.message])))
        else:
            result.assigned.append(done)
    return result


@service("task.start")
def task_start(*, task: Task, actor: Any, reason: str = "") -> Task:
    """The assignee starts work on a task (R6.1b "testing & data check"). Eligibility is
    checked again (R6.7d: a calibration may have fallen due, an authorisation expired since
    the assignment), then the item goes into testing in their hands (a custody event), each
    equipment of the task gets an automatic usage record (R6.5), and the commission advances
    once all its tasks have started."""
    task = (
        Task.objects.select_for_update(of=("self",))
        .select_related("item__commission", "item__line", "scope", "method", "standard")
        .get(pk=task.pk)
    )
    user = person(actor)
    if user is None or task.assignee_id != user.pk:
        raise ServiceError(
            _("Only the person the task is assigned to starts it."), code=CoreRefusal.FORBIDDEN
        )
    if task.status != Task.Status.ASSIGNED:
        raise ServiceError(
            _("This task is %(status)s; only an assigned task can be started.")
            % {"status": task.get_status_display()},
            code=CoreRefusal.INVALID_TRANSITION,
        )
    problems = task_assignment_problems(task, task.assignee)
    if problems:
        raise _refusal(
            " ".join([_("This task cannot be started now:"), *problems]),
            problems,
            code=TaskRefusal.NOT_ELIGIBLE,
            field=None,
        )
    item = task.item
    if item.state != Item.State.IN_TESTING:
        item_mark_in_testing(item=item, actor=actor, note=str(task.get_service_display()))
    task.status = Task.Status.IN_PROGRESS
    task.save(update_fields=["status"])
    now = timezone.now()
    for equipment in task.equipment.order_by("asset_no"):
        equipment_usage_record(
            equipment=equipment,
            user=user,
            task=task,
            started_at=now,
            source=UsageRecord.Source.AUTOMATIC,
            note=str(task),
            actor=actor,
        )
    commission_refresh_status(item.commission, actor=actor)
    return task


# --- the work's progress after the start (the records app drives these) ------------------


def _locked_task(task: Task) -> Task:
    return (
        Task.objects.select_for_update(of=("self",))
        .select_related("item__commission")
        .get(pk=task.pk)
    )


def _require_status(task: Task, *allowed: str) -> None:
    if task.status not in allowed:
        raise ServiceError(
            _("This task is %(status)s; this step is not possible now.")
            % {"status": task.get_status_display()},
            code=CoreRefusal.INVALID_TRANSITION,
        )


@service("task.submit")
def task_submit_for_check(
    *, task: Task, actor: Any, ended_at: dt.datetime | None = None, reason: str = ""
) -> Task:
    """The measurement is over and its record goes to the checker (R6.1b "data check"): the
    task moves from in progress to checking and its equipment's automatic usage entries are
    closed (R6.5)."""
    task = _locked_task(task)
    _require_status(task, Task.Status.IN_PROGRESS)
    task.status = Task.Status.CHECKING
    task.save(update_fields=["status"])
    equipment_usage_close_for_task(task=task, actor=actor, ended_at=ended_at)
    commission_refresh_status(task.item.commission, actor=actor)
    return task


@service("task.return_to_work")
def task_return_to_work(*, task: Task, actor: Any, reason: str) -> Task:
    """The checker or approver returns the record (with a reason): the task is in progress
    again, in the same hands."""
    if not (reason or "").strip():
        raise ServiceError(_("Say why the work is returned."), field="reason")
    task = _locked_task(task)
    _require_status(task, Task.Status.CHECKING)
    task.status = Task.Status.IN_PROGRESS
    task.save(update_fields=["status"])
    return task


@service("task.finish")
def task_finish(*, task: Task, actor: Any, reason: str = "") -> Task:
    """The task's record is approved: the task is done, and the commission moves on as far
    as its other items and tasks allow (R6.1b)."""
    task = _locked_task(task)
    _require_status(task, Task.Status.CHECKING)
    task.status = Task.Status.DONE
    task.save(update_fields=["status"])
    commission_refresh_status(task.item.commission, actor=actor)
    return task


@service("task.stop")
def task_stop(*, task: Task, actor: Any, reason: str) -> Task:
    """Work stops before its record is submitted (the record is cancelled, e.g. to hand the
    task to someone else): with a reason, the task is assigned again (not started), its
    equipment's usage entries are closed, and a lab manager may reassign it."""
    if not (reason or "").strip():
        raise ServiceError(_("Say why the work stops."), field="reason")
    task = _locked_task(task)
    _require_status(task, Task.Status.IN_PROGRESS)
    task.status = Task.Status.ASSIGNED
    task.save(update_fields=["status"])
    equipment_usage_close_for_task(task=task, actor=actor)
    return task
