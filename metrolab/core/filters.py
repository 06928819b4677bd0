"""One filter per list, for its API operation and its page (R7.2d): a ninja `FilterSchema`.

The API operation takes it as its query (`filters: Query[XFilter]`: a value that is not valid
answers 422); the list page builds the same class from its query string
(`XFilter.from_query(request.GET)`) and applies the same `.filter(queryset)`, so the page and
the API cannot disagree on what a filter means. The page keeps its Django form for showing
the fields (same names, translated labels) and their errors; the form's field names are the
filter's (core/tests/test_list_filters.py checks it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone
from ninja import FilterSchema
from pydantic import ValidationError

from metrolab.core.text import Code, Name


class ListFilter(FilterSchema):
    """Base of the list filters: empty query values are no filter."""

    @classmethod
    def query_names(cls) -> set[str]:
        return {field.alias or name for name, field in cls.model_fields.items()}

    @classmethod
    def from_query(cls, query: Any) -> ListFilter:
        """The filter of a list page from its query string (a QueryDict): values that are
        not valid are left out (the page's form shows why), the rest still filter."""
        data = {name: query.get(name) for name in cls.query_names()}
        data = {name: value for name, value in data.items() if value not in (None, "")}
        while True:
            try:
                return cls.model_validate(data)
            except ValidationError as exc:
                bad = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
                if any(not error["loc"] for error in exc.errors()):
                    bad |= cls.whole_object_fields()
                if not bad & data.keys():
                    return cls()
                data = {name: value for name, value in data.items() if name not in bad}

    @classmethod
    def whole_object_fields(cls) -> set[str]:
        """The fields a check of the whole filter (a period's order) is about."""
        return set()


def day_start(day: dt.date) -> dt.datetime:
    """Midnight starting `day` in the lab's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def period_q(field: str, since: dt.date | None, until: dt.date | None) -> Q:
    """`field` within the days [since, until], both included (lab's time zone)."""
    q = Q()
    if since is not None:
        q &= Q(**{f"{field}__gte": day_start(since)})
    if until is not None:
        q &= Q(**{f"{field}__lt": day_start(until + dt.timedelta(days=1))})
    return q


def _aware(moment: dt.datetime) -> dt.datetime:
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class AuditEventFilter(ListFilter):
    """The audit log's filter (R7.2): `actor` (as recorded), `action` (a code or its start,
    "commission." for every commission action), `object_type`, `object_id`, and the moments
    `since` and `until`, both included (without a UTC offset: the lab's time zone)."""

    actor: Name = ""
    action: Name = ""
    object_type: Name = ""
    object_id: Code = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def filter_actor(self, value: str) -> Q:
        return Q(actor_label=value) if value else Q()

    def filter_action(self, value: str) -> Q:
        return Q(action__startswith=value) if value else Q()

    def filter_object_type(self, value: str) -> Q:
        return Q(object_type=value) if value else Q()

    def filter_object_id(self, value: str) -> Q:
        return Q(object_id=value) if value else Q()

    def filter_since(self, value: dt.datetime | None) -> Q:
        return Q(created_at__gte=_aware(value)) if value else Q()

    def filter_until(self, value: dt.datetime | None) -> Q:
        return Q(created_at__lte=_aware(value)) if value else Q()
