"""`/api/v1/tasks/...`: my tasks, assignment (lab managers) with workload and eligibility
(R6.4e, R6.7d), start."""

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from metrolab.core.access import api_access
from metrolab.core.api_contract import Mapped
from metrolab.core.models import User
from metrolab.core.roles import LAB_STAFF
from metrolab.core.service import ServiceError
from metrolab.core.text import Name
from metrolab.equipment.models import Equipment, MeasurementStandard
from metrolab.methods.models import Method
from metrolab.qualifications.eligibility import CAPACITIES, PERFORM, task_eligibility_problems
from metrolab.qualifications.models import AuthorisedItem
from metrolab.tasks import selectors, services
from metrolab.tasks.filters import TaskFilter
from metrolab.tasks.models import Task
from metrolab.tasks.services import TASK_MANAGERS

router = Router(tags=["tasks"])


class WarningOut(Schema):
    code: str
    message: str


class MethodProposalOut(Schema):
    """A current method for the task, best fitting the item first: whether it covers the item
    (its categories, accuracy classes and range) and why not."""

    id: int
    method: str  # e.g. "JJG 49-2013"
    designation: str
    covers: bool
    warnings: list[WarningOut]


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
    scope: str | None  # authorised item code
    method: str | None  # e.g. "JJG 52-2013"
    standard: str | None
    equipment: list[str]  # asset numbers
    range_low: Decimal | None
    range_high: Decimal | None
    warnings: list[WarningOut]  # why the method does not cover the item (not a refusal)


class AssignIn(Schema):
    """Who takes the task and, optionally, what it is done under (ids). Given an authorised
    item, the method, standard and equipment not given default to its current method, its
    standard and that standard's usable equipment."""

    assignee: Name  # user name
    scope: int | None = None  # authorised item id
    method: int | None = None
    standard: int | None = None
    equipment: list[int] | None = None
    range_low: Decimal | None = None
    range_high: Decimal | None = None


class AssignManyIn(Schema):
    """Several tasks (ids) for one person with one set-up; each task's eligibility is
    checked on its own and each task keeps its own instrument range."""

    tasks: list[int]
    assignee: Name  # user name
    scope: int | None = None
    method: int | None = None
    standard: int | None = None
    equipment: list[int] | None = None


class RefusedTaskOut(Schema):
    id: int
    item: str
    problems: list[str]


class AssignManyOut(Schema):
    assigned: list[TaskOut]
    refused: list[RefusedTaskOut]


class ProblemOut(Schema):
    code: str
    message: str
    deviable: bool


class EligibilityOut(Schema):
    eligible: bool
    problems: list[ProblemOut]
    warnings: list[WarningOut]  # the method does not cover the item (not a refusal)


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
        "scope": task.scope.code if task.scope else None,
        "method": str(task.method) if task.method else None,
        "standard": task.standard.name if task.standard else None,
        "equipment": sorted(e.asset_no for e in task.equipment.all()),
        "range_low": task.range_low,
        "range_high": task.range_high,
        "warnings": _warnings(task, task.method),
    }


def _warnings(task: Task, method) -> list[dict]:
    return [{"code": g.code, "message": g.message} for g in selectors.method_warnings(task, method)]


def _task(pk: int) -> Task:
    task = selectors.task_get(pk)
    if task is None:
        raise HttpError(404, _("No such task."))
    return task


@router.get(
    "/mine", response=list[TaskOut], auth=api_access(roles=LAB_STAFF), summary="My open tasks"
)
@paginate
def my_tasks(request, status: str = ""):
    tasks = selectors.task_list_mine(user=request.auth, status=status).prefetch_related("equipment")
    return Mapped(tasks, _task_out)


@router.get(
    "/workload",
    response=list[WorkloadOut],
    auth=api_access(roles=TASK_MANAGERS),
    summary="Open tasks per person",
)
@paginate
def workload(request):
    return Mapped(selectors.workload(), _workload_out)


def _workload_out(person) -> dict:
    return {
        "username": person.username,
        "name": str(person),
        "open_tasks": person.open_tasks,
        "in_progress": person.in_progress,
    }


@router.get(
    "/to-assign",
    response=list[TaskOut],
    auth=api_access(roles=TASK_MANAGERS),
    summary="Tasks waiting for a person",
)
@paginate
def to_assign(request, filters: Query[TaskFilter]):
    """The filters of the assignment page (`TaskFilter`)."""
    tasks = selectors.task_list_to_assign(filters).prefetch_related("equipment")
    return Mapped(tasks, _task_out)


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
    task = services.task_assign(
        task=task,
        assignee=assignee,
        actor=request.auth,
        scope=_get(AuthorisedItem, data.scope, "scope", _("No such authorised item.")),
        method=_get(Method, data.method, "method", _("No such method.")),
        standard=_get(
            MeasurementStandard, data.standard, "standard", _("No such measurement standard.")
        ),
        equipment=_equipment(data.equipment),
        range_low=data.range_low,
        range_high=data.range_high,
    )
    return _task_out(selectors.task_get(task.pk))


@router.post(
    "/assign-many",
    response=AssignManyOut,
    auth=api_access(roles=TASK_MANAGERS),
    summary="Assign several tasks to one person with one set-up (eligibility per task)",
)
def assign_many(request, data: AssignManyIn):
    """The tasks that pass every check are assigned; the others are listed in `refused` with
    every reason and left as they were (partial, not all-or-nothing)."""
    ids = list(dict.fromkeys(data.tasks))
    found = {t.pk: t for t in selectors.task_list_by_ids(ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ServiceError(
            _("No such task: %(ids)s.") % {"ids": ", ".join(map(str, missing))}, field="tasks"
        )
    assignee = User.objects.filter(username=data.assignee).first()
    if assignee is None:
        raise ServiceError(_("No such user."), field="assignee")
    result = services.tasks_assign_many(
        tasks=[found[pk] for pk in ids],
        assignee=assignee,
        actor=request.auth,
        scope=_get(AuthorisedItem, data.scope, "scope", _("No such authorised item.")),
        method=_get(Method, data.method, "method", _("No such method.")),
        standard=_get(
            MeasurementStandard, data.standard, "standard", _("No such measurement standard.")
        ),
        equipment=_equipment(data.equipment),
    )
    return {
        "assigned": [_task_out(selectors.task_get(t.pk)) for t in result.assigned],
        "refused": [
            {"id": t.pk, "item": t.item.number, "problems": problems}
            for t, problems in result.refused
        ],
    }


def _get(model, pk: int | None, field: str, missing: str):
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ServiceError(missing, field=field)
    return found


def _equipment(pks: list[int] | None) -> list[Equipment] | None:
    if pks is None:
        return None
    found = {e.pk: e for e in Equipment.objects.filter(pk__in=pks)}
    missing = [pk for pk in pks if pk not in found]
    if missing:
        raise ServiceError(
            _("No such equipment: %(ids)s.") % {"ids": ", ".join(map(str, missing))},
            field="equipment",
        )
    return [found[pk] for pk in dict.fromkeys(pks)]


@router.get(
    "/{task_id}/eligibility",
    response=EligibilityOut,
    auth=api_access(roles=TASK_MANAGERS),
    summary="May this person perform / check / approve the task as it is set up?",
)
def eligibility(
    request, task_id: int, person: int, capacity: str = PERFORM, on: dt.date | None = None
):
    """Every reason the person may not work on the task in that capacity (on the day `on`,
    default today), from the one eligibility service (R6.7d); for `perform`, also the
    assignment's own rules (an active account with the metrologist role)."""
    task = _task(task_id)
    if capacity not in CAPACITIES:
        raise ServiceError(_("The capacity is one of: perform, check, approve."), field="capacity")
    user = User.objects.filter(pk=person).first()
    if user is None:
        raise ServiceError(_("No such user."), field="person")
    problems = []
    if capacity == PERFORM:
        problems = [
            {"code": code, "message": message, "deviable": False}
            for code, message in services.assignee_role_problems(user)
        ]
    problems += [
        {"code": p.code, "message": p.message, "deviable": p.deviable}
        for p in task_eligibility_problems(task, user, capacity=capacity, on=on)
    ]
    return {
        "eligible": not problems,
        "problems": problems,
        "warnings": _warnings(task, task.method),
    }


@router.get(
    "/{task_id}/methods",
    response=list[MethodProposalOut],
    auth=api_access(roles=TASK_MANAGERS),
    summary="The current methods for the task, the one fitting the item best first",
)
@paginate
def methods_proposed(request, task_id: int, scope: int | None = None):
    """The methods assignment would choose from (those of authorised item `scope` when given,
    else every current method for the task's service), best fitting the item (its instrument
    category, accuracy class, range) first; for each, whether it covers the item and why not.
    The first is what assignment proposes."""
    task = _task(task_id)
    authorised = _get(AuthorisedItem, scope, "scope", _("No such authorised item."))
    proposals = []
    for method in selectors.methods_proposed(task, authorised):
        warnings = _warnings(task, method)
        covers = not any(w["code"] != "method_fitting" for w in warnings)
        proposals.append(
            {
                "id": method.pk,
                "method": str(method),
                "designation": method.designation,
                "covers": covers,
                "warnings": [w for w in warnings if w["code"] != "method_fitting"],
            }
        )
    return proposals


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
