"""Reads of tasks: my tasks, tasks waiting for assignment, and each person's workload."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from metrolab.core.models import User
from metrolab.core.roles import METROLOGIST
from metrolab.tasks.models import Task
from metrolab.tasks.services import OPEN_STATUSES


def _with_item(tasks: QuerySet[Task]) -> QuerySet[Task]:
    return tasks.select_related("item__commission__customer", "item__location", "assignee")


def task_list_mine(*, user, status: str = "") -> QuerySet[Task]:
    """The tasks assigned to `user`: open ones first, soonest due first."""
    tasks = Task.objects.filter(assignee_id=user.pk)
    tasks = tasks.filter(status=status) if status else tasks.filter(status__in=OPEN_STATUSES)
    return _with_item(tasks).order_by("due_date", "pk")


def task_list_to_assign(*, q: str = "", only_unassigned: bool = True) -> QuerySet[Task]:
    """Tasks a lab manager may (re)assign: not started, item still in the lab."""
    statuses = (
        [Task.Status.UNASSIGNED]
        if only_unassigned
        else [
            Task.Status.UNASSIGNED,
            Task.Status.ASSIGNED,
        ]
    )
    tasks = Task.objects.filter(status__in=statuses).exclude(
        item__state__in=("returned", "disposed")
    )
    if q:
        tasks = tasks.filter(
            Q(item__number__icontains=q)
            | Q(item__name__icontains=q)
            | Q(item__commission__number__icontains=q)
        )
    return _with_item(tasks).order_by("due_date", "pk")


def task_get(pk: int) -> Task | None:
    return _with_item(Task.objects.filter(pk=pk)).first()


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
