"""The filter of the tasks waiting for a person, for the assignment page and its API
operation (metrolab/core/filters.py)."""

from __future__ import annotations

from typing import Literal

from django.db.models import Q

from metrolab.core.filters import ListFilter
from metrolab.core.text import Name
from metrolab.tasks.models import Task


class TaskFilter(ListFilter):
    """`q` (in the item's number and name and the commission no.); `show=all` also lists the
    tasks assigned but not started (else only those without a person)."""

    q: Name = ""
    show: Literal["", "all"] = ""

    def filter_q(self, value: str) -> Q:
        value = (value or "").strip()
        if not value:
            return Q()
        return (
            Q(item__number__icontains=value)
            | Q(item__name__icontains=value)
            | Q(item__commission__number__icontains=value)
        )

    def filter_show(self, value: str) -> Q:
        statuses = [Task.Status.UNASSIGNED]
        if value == "all":
            statuses.append(Task.Status.ASSIGNED)
        return Q(status__in=statuses)
