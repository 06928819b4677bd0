"""Writes of tasks (R6.1b, R6.4e): created at receipt, assigned by a lab manager to an
eligible person, started by that person. Every function is a service (audited, one
transaction); refusals raise ServiceError and leave nothing written.

The eligibility of an assignee is decided in one place, `task_assignment_problems`; the
methods / equipment / quality issue adds its checks (authorisation for the method, training,
equipment status) by appending to `assignment_checks`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.commissions.services import commission_refresh_status
from metrolab.core.roles import ADMIN, DIRECTOR, METROLOGIST
from metrolab.core.service import ServiceError, service
from metrolab.items.custody import FINAL
from metrolab.items.models import Item
from metrolab.items.services import item_mark_in_testing
from metrolab.tasks.models import Task

# Roles that assign tasks (lab managers).
TASK_MANAGERS = (ADMIN, DIRECTOR)
# Tasks that count towards a person's workload.
OPEN_STATUSES = (Task.Status.ASSIGNED, Task.Status.IN_PROGRESS, Task.Status.CHECKING)

# Further eligibility checks: each takes (task, assignee) and returns the problems it finds,
# in the user's words (empty: no objection). Later issues append theirs (R6.4e).
AssignmentCheck = Callable[[Task, Any], list[str]]
assignment_checks: list[AssignmentCheck] = []


def task_assignment_problems(task: Task, assignee: Any) -> list[str]:
    """Why `assignee` may not take `task` (empty list: they may). For now: an active account
    holding the metrologist role; then every check registered in `assignment_checks`."""
    if assignee is None:
        return [_("Choose a person.")]
    name = str(assignee)
    problems = []
    if not assignee.is_active:
        problems.append(_("%(name)s's account is not active.") % {"name": name})
    elif not assignee.has_role(METROLOGIST):
        problems.append(_("%(name)s does not hold the metrologist role.") % {"name": name})
    for check in assignment_checks:
        problems.extend(check(task, assignee))
    return problems


def is_task_manager(user: Any) -> bool:
    return bool(user) and (user.is_superuser or user.has_role(*TASK_MANAGERS))


@service("task.create_for_item")
def tasks_create_for_item(*, item: Item, actor: Any = None) -> list[Task]:
    """The tasks of a newly received item: one per item × service (R6.1), due when the item
    is promised. Called by the receipt; calling it again creates nothing new."""
    task, _created = Task.objects.get_or_create(
        item=item, service=item.service, defaults={"due_date": item.promised_date}
    )
    return [task]


@service("task.assign")
def task_assign(*, task: Task, assignee: Any, actor: Any, reason: str = "") -> Task:
    """Assign a task to a person (R6.4e), or hand it to someone else before it starts. Only a
    lab manager assigns; the assignee must pass `task_assignment_problems`. The commission
    advances to "tasks assigned" once all its tasks are (R6.1b)."""
    if not is_task_manager(actor):
        raise ServiceError(
            _("Only a technical manager or an administrator assigns tasks."), code="forbidden"
        )
    task = Task.objects.select_for_update().select_related("item__commission").get(pk=task.pk)
    if task.status not in (Task.Status.UNASSIGNED, Task.Status.ASSIGNED):
        raise ServiceError(
            _("This task is %(status)s; it can no longer be assigned.")
            % {"status": task.get_status_display()},
            code="invalid_transition",
        )
    if task.item.state in FINAL:
        raise ServiceError(
            _("Item %(number)s has left the lab; its task cannot be assigned.")
            % {"number": task.item.number},
            code="invalid_transition",
        )
    problems = task_assignment_problems(task, assignee)
    if problems:
        raise ServiceError(" ".join(problems), code="not_eligible", field="assignee")
    if task.assignee_id == assignee.pk and task.status == Task.Status.ASSIGNED:
        return task
    task.assignee = assignee
    task.assigned_by = actor
    task.assigned_at = timezone.now()
    task.status = Task.Status.ASSIGNED
    task.save(update_fields=["assignee", "assigned_by", "assigned_at", "status"])
    commission_refresh_status(task.item.commission, actor=actor)
    return task


@service("task.start")
def task_start(*, task: Task, actor: Any, reason: str = "") -> Task:
    """The assignee starts work on a task (R6.1b "testing & data check"): the item goes into
    testing in their hands (a custody event) and the commission advances once all its tasks
    have started."""
    task = Task.objects.select_for_update().select_related("item__commission").get(pk=task.pk)
    if getattr(actor, "pk", None) is None or task.assignee_id != actor.pk:
        raise ServiceError(
            _("Only the person the task is assigned to starts it."), code="forbidden"
        )
    if task.status != Task.Status.ASSIGNED:
        raise ServiceError(
            _("This task is %(status)s; only an assigned task can be started.")
            % {"status": task.get_status_display()},
            code="invalid_transition",
        )
    item = task.item
    if item.state != Item.State.IN_TESTING:
        item_mark_in_testing(item=item, actor=actor, note=str(task.get_service_display()))
    task.status = Task.Status.IN_PROGRESS
    task.save(update_fields=["status"])
    commission_refresh_status(item.commission, actor=actor)
    return task
