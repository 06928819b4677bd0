"""`/api/v1/tasks/...`: my tasks, assignment (lab managers) with workload, start."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError

from metrolab.core.access import api_access
from metrolab.core.models import User
from metrolab.core.roles import LAB_STAFF
from metrolab.core.service import ServiceError
from metrolab.tasks import selectors, services
from metrolab.tasks.models import Task
from metrolab.tasks.services import TASK_MANAGERS

router = Router(tags=["tasks"])


class TaskOut(Schema):
    id: int
    item: str
    item_name: str
    commission: str
    service: str
    status: str
    assignee: str | None
    assigned_at: dt.datetime | None
    due_date: dt.date | None


class AssignIn(Schema):
    assignee: str  # user name


class WorkloadOut(Schema):
    username: str
    name: str
    open_tasks: int
    in_progress: int


def _task_out(task: Task) -> dict:
    return {
        "id": task.pk,
        "item": task.item.number,
        "item_name": task.item.name,
        "commission": task.item.commission.number,
        "service": task.service,
        "status": task.status,
        "assignee": task.assignee.username if task.assignee else None,
        "assigned_at": task.assigned_at,
        "due_date": task.due_date,
    }


def _task(pk: int) -> Task:
    task = selectors.task_get(pk)
    if task is None:
        raise HttpError(404, _("No such task."))
    return task


@router.get(
    "/mine", response=list[TaskOut], auth=api_access(roles=LAB_STAFF), summary="My open tasks"
)
def my_tasks(request, status: str = ""):
    return [_task_out(t) for t in selectors.task_list_mine(user=request.auth, status=status)]


@router.get(
    "/workload",
    response=list[WorkloadOut],
    auth=api_access(roles=TASK_MANAGERS),
    summary="Open tasks per person",
)
def workload(request):
    return [
        {
            "username": p.username,
            "name": str(p),
            "open_tasks": p.open_tasks,
            "in_progress": p.in_progress,
        }
        for p in selectors.workload()
    ]


@router.get(
    "/to-assign",
    response=list[TaskOut],
    auth=api_access(roles=TASK_MANAGERS),
    summary="Tasks waiting for a person",
)
def to_assign(request, q: str = "", limit: int = 100, offset: int = 0):
    limit = max(1, min(limit, 500))
    tasks = selectors.task_list_to_assign(q=q)[max(offset, 0) : max(offset, 0) + limit]
    return [_task_out(t) for t in tasks]


@router.post(
    "/{task_id}/assign",
    response=TaskOut,
    auth=api_access(roles=TASK_MANAGERS),
    summary="Assign a task to a person (eligibility checked)",
)
def assign(request, task_id: int, data: AssignIn):
    task = _task(task_id)
    assignee = User.objects.filter(username=data.assignee).first()
    if assignee is None:
        raise ServiceError(_("No such user."), field="assignee")
    task = services.task_assign(task=task, assignee=assignee, actor=request.auth)
    return _task_out(selectors.task_get(task.pk))


@router.post(
    "/{task_id}/start",
    response=TaskOut,
    auth=api_access(roles=LAB_STAFF),
    summary="Start my task (the item goes into testing)",
)
def start(request, task_id: int):
    task = _task(task_id)
    if task.assignee_id != request.auth.pk:
        raise HttpError(404, _("No such task of yours."))
    services.task_start(task=task, actor=request.auth)
    return _task_out(selectors.task_get(task.pk))
