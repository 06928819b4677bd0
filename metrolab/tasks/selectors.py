"""Reads of tasks: my tasks, tasks waiting for assignment, each person's workload, and what
the assignment page offers (authorised items, methods, standards, equipment) with each
person's eligibility verdict."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from metrolab.commissions.choices import CommissionStatus
from metrolab.core.models import User
from metrolab.core.roles import METROLOGIST
from metrolab.equipment.models import Equipment, MeasurementStandard
from metrolab.items.models import Item
from metrolab.methods.coverage import (
    Gap,
    coverage_gaps,
    fit,
    instrument_of_item,
    methods_ranked,
)
from metrolab.methods.models import Method
from metrolab.qualifications.eligibility import PERFORM, Problem, people_eligibility
from metrolab.qualifications.models import AuthorisedItem
from metrolab.tasks.filters import TaskFilter
from metrolab.tasks.models import Task
from metrolab.tasks.services import OPEN_STATUSES, assignee_role_problems


def _with_item(tasks: QuerySet[Task]) -> QuerySet[Task]:
    return tasks.select_related(
        "item__commission__customer", "item__location", "assignee", "scope", "method", "standard"
    )


def task_list_mine(*, user, status: str = "") -> QuerySet[Task]:
    """The tasks assigned to `user`: open ones first, soonest due first."""
    tasks = Task.objects.filter(assignee_id=user.pk)
    tasks = tasks.filter(status=status) if status else tasks.filter(status__in=OPEN_STATUSES)
    return _with_item(tasks).order_by("due_date", "pk")


def task_list_to_assign(filters: TaskFilter | None = None) -> QuerySet[Task]:
    """Tasks a lab manager may (re)assign, item still in the lab, filtered as the assignment
    page and API filter (`tasks.filters.TaskFilter`: by default those without a person)."""
    tasks = Task.objects.exclude(item__state__in=(Item.State.RETURNED, Item.State.DISPOSED))
    tasks = (filters or TaskFilter()).filter(tasks)
    return _with_item(tasks).order_by("due_date", "pk")


def task_list_by_ids(pks) -> QuerySet[Task]:
    """The tasks with these ids (any status: the assignment service says what may change)."""
    return _with_item(Task.objects.filter(pk__in=list(pks))).order_by("pk")


def task_get(pk: int) -> Task | None:
    return _with_item(Task.objects.filter(pk=pk).select_related("item__line")).first()


def workload() -> QuerySet[User]:
    """Each active metrologist with their open task count (assigned, in progress, in data
    check) and how many of those are in progress, lightest load first."""
    return (
        User.objects.filter(is_active=True, groups__name=METROLOGIST)
        .annotate(
            open_tasks=Count("tasks", filter=Q(tasks__status__in=OPEN_STATUSES), distinct=True),
            in_progress=Count(
                "tasks", filter=Q(tasks__status=Task.Status.IN_PROGRESS), distinct=True
            ),
        )
        .order_by("open_tasks", "username")
    )


def assignable_people() -> QuerySet[User]:
    """People offered in the assignment form (eligibility is re-checked by the service)."""
    return User.objects.filter(is_active=True, groups__name=METROLOGIST).order_by(
        "display_name", "username"
    )


# --- what the assignment of one task offers ------------------------------------------------


def scopes_for(task: Task) -> QuerySet[AuthorisedItem]:
    """The authorised items of the task's service (valid or not: the verdict says)."""
    return (
        AuthorisedItem.objects.filter(service=task.service)
        .select_related("category")
        .order_by("code")
    )


def methods_for(task: Task) -> QuerySet[Method]:
    """Methods for the task's service: those of its authorised items, those naming the
    service, and the one the task has now."""
    return (
        Method.objects.filter(
            Q(authorised_items__service=task.service)
            | Q(services__icontains=task.service)
            | Q(pk=task.method_id or 0)
        )
        .select_related("superseded_by")
        .distinct()
        .order_by("kind", "code", "-year")
    )


def standards_for(task: Task) -> QuerySet[MeasurementStandard]:
    """Measurement standards in use, and the one the task has now."""
    return MeasurementStandard.objects.filter(Q(active=True) | Q(pk=task.standard_id or 0))


def equipment_for(task: Task) -> QuerySet[Equipment]:
    """Equipment not scrapped, and whatever the task has now."""
    return (
        Equipment.objects.filter(~Q(status=Equipment.Status.SCRAPPED) | Q(tasks=task))
        .distinct()
        .order_by("asset_no")
    )


@dataclass
class Verdict:
    """Whether one person may take a task as proposed, and every reason not."""

    person: Any
    problems: list[Problem] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.problems


def task_setup(task: Task) -> dict[str, Any]:
    """The set-up stored on a task, as the assignment service takes it."""
    return {
        "scope": task.scope,
        "method": task.method,
        "standard": task.standard,
        "equipment": list(task.equipment.all()),
        "range_low": task.range_low,
        "range_high": task.range_high,
    }


def assignment_verdicts(task: Task, setup: dict[str, Any], people=None) -> list[Verdict]:
    """For each assignable person (lightest workload first), whether they may take `task`
    with `setup` (scope, method, standard, equipment, range) and every reason not: the role
    problems of the assignment service, then the eligibility service's (R6.7d)."""
    # The workload lists active metrologists only: their roles need no second look.
    check_roles = people is not None
    people = list(workload() if people is None else people)
    found = people_eligibility(
        people,
        capacity=PERFORM,
        service=task.service,
        line=task.item.line,
        **setup,
    )
    verdicts = []
    for person in people:
        problems = [
            Problem(code=code, message=message, deviable=False)
            for code, message in (assignee_role_problems(person) if check_roles else [])
        ]
        verdicts.append(Verdict(person=person, problems=problems + found[person.pk]))
    return verdicts


# --- whether the method covers the item (a warning, not a refusal) ---------------------------


def methods_proposed(task: Task, scope: AuthorisedItem | None = None) -> list[Method]:
    """The current methods for the task (those of `scope` when given, else `methods_for`),
    the best fitting the task's item first (`metrolab.methods.coverage`)."""
    candidates = scope.methods.all() if scope is not None else methods_for(task)
    current = [m for m in candidates if m.is_current_on()]
    return methods_ranked(current, instrument_of_item(task.item))


def method_warnings(task: Task, method: Method | None) -> list[Gap]:
    """Why `method` does not cover the task's item (its category, accuracy class or range),
    and which current method of the task's service does, with its authorised items; empty
    when it covers it as far as both say."""
    if method is None:
        return []
    instrument = instrument_of_item(task.item)
    gaps = coverage_gaps(method, instrument)
    if not gaps:
        return gaps
    better = next(
        (m for m in methods_proposed(task) if m.pk != method.pk and fit(m, instrument) is not None),
        None,
    )
    if better is not None:
        items = AuthorisedItem.objects.filter(methods=better, service=task.service).order_by("code")
        named = "、".join(f"{i.code} {i.name}" for i in items)
        gaps.append(
            Gap(
                "method_fitting",
                (
                    _("%(method)s covers it (authorised item %(items)s).")
                    if named
                    else _("%(method)s covers it.")
                )
                % {"method": better, "items": named},
            )
        )
    return gaps


def commission_status_limit(commission) -> str:
    """How far a commission can be along as its tasks tell (R6.1b; registered in
    metrolab.commissions.status.status_limits): items received while a task is unassigned
    (or there is none), tasks assigned while one is not started, else no limit."""
    statuses = list(
        Task.objects.filter(item__commission=commission)
        .exclude(status=Task.Status.CANCELLED)
        .values_list("status", flat=True)
    )
    if not statuses or any(s == Task.Status.UNASSIGNED for s in statuses):
        return CommissionStatus.ITEMS_RECEIVED
    if any(s == Task.Status.ASSIGNED for s in statuses):
        return CommissionStatus.TASKS_ASSIGNED
    return CommissionStatus.COMPLETED


def open_task_methods(user: Any, day: dt.date) -> Q:
    """The methods of `user`'s open tasks: "my methods" (R6.7b; registered in
    metrolab.methods.selectors.method_sources)."""
    task_methods = Task.objects.filter(
        assignee_id=user.pk, status__in=OPEN_STATUSES, method__isnull=False
    ).values("method_id")
    return Q(pk__in=task_methods)


def item_open_tasks(item) -> list[str]:
    """The item's tasks not yet done or cancelled, in the user's words (registered in
    metrolab.items.services.open_work_checks: custody follows the work)."""
    tasks = Task.objects.filter(item=item).exclude(
        status__in=(Task.Status.DONE, Task.Status.CANCELLED)
    )
    return [
        _("%(service)s is %(status)s.")
        % {"service": task.get_service_display(), "status": task.get_status_display()}
        for task in tasks.order_by("pk")
    ]
