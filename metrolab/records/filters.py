"""The filter of the records list, for its API operation and (later) its page
(metrolab/core/filters.py)."""

from __future__ import annotations

from typing import Literal

from django.db.models import Q

from metrolab.core.filters import ListFilter
from metrolab.core.text import Code, Name
from metrolab.records.models import Record

StatusValue = Literal["", *Record.Status.values]  # type: ignore[valid-type]


class RecordFilter(ListFilter):
    """`status`, `task` (id), `template` (code), `measured_by` (user name), `q` (in the
    record no., the item's number and name, the commission no. and the customer)."""

    status: StatusValue = ""
    task: int | None = None
    template: Code = ""
    measured_by: Name = ""
    q: Name = ""

    def filter_status(self, value: str) -> Q:
        return Q(status=value) if value else Q()

    def filter_task(self, value: int | None) -> Q:
        return Q(task_id=value) if value is not None else Q()

    def filter_template(self, value: str) -> Q:
        return Q(template_version__template__code=value) if value else Q()

    def filter_measured_by(self, value: str) -> Q:
        return Q(measured_by__username=value) if value else Q()

    def filter_q(self, value: str) -> Q:
        value = (value or "").strip()
        if not value:
            return Q()
        return (
            Q(number__icontains=value)
            | Q(task__item__number__icontains=value)
            | Q(task__item__name__icontains=value)
            | Q(task__item__commission__number__icontains=value)
            | Q(task__item__commission__customer__name__icontains=value)
        )
