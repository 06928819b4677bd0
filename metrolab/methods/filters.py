"""The filter of the method library, for its page and its API operation
(metrolab/core/filters.py)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat, Replace
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import field_validator

from metrolab.core.filters import ListFilter
from metrolab.core.text import Code, Name
from metrolab.methods.models import Method


def status_q(status: str, day: dt.date) -> Q:
    """The database filter equivalent of `Method.status_on(day) == status`."""
    Status = Method.Status
    effective = Q(effective_date__lte=day)
    abolished = Q(abolished_date__isnull=False, abolished_date__lte=day)
    replaced = Q(superseded_by__isnull=False, superseded_by__effective_date__lte=day)
    if status == Status.NOT_YET_EFFECTIVE:
        return Q(effective_date__gt=day)
    if status == Status.ABOLISHED:
        return effective & abolished
    if status == Status.SUPERSEDED:
        return effective & ~abolished & replaced
    if status == Status.CURRENT:
        return effective & ~abolished & ~replaced
    raise ValueError(f"unknown method status {status!r}")


def _code_or_pk(field: str, value: str) -> Q:
    """A discipline or category named by its code (the API) or its id (the page's choice)."""
    q = Q(**{f"{field}__code": value})
    if value.isdigit():
        q |= Q(**{f"{field}__pk": int(value)})
    return q


class MethodFilter(ListFilter):
    """`q` (in the code as cited, "JJG 52-2013", "JJG52", and the titles), `kind`, `status`
    today, `discipline` and `category` (each by its code, or its id as the page sends)."""

    q: Name = ""
    kind: Code = ""
    status: Code = ""
    discipline: Code = ""
    category: Code = ""

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str) -> str:
        if value and value not in Method.Status.values:
            raise ValueError(_("Unknown status (use %s).") % ", ".join(Method.Status.values))
        return value

    def filter(self, queryset: QuerySet, day: dt.date | None = None) -> QuerySet:
        """The methods matching, their status taken on `day` (today by default)."""
        day = day or timezone.localdate()
        if self.kind:
            queryset = queryset.filter(kind=self.kind)
        if self.status:
            queryset = queryset.filter(status_q(self.status, day))
        joined = False
        if self.discipline:
            queryset = queryset.filter(_code_or_pk("disciplines", self.discipline))
            joined = True
        if self.category:
            queryset = queryset.filter(_code_or_pk("categories", self.category))
            joined = True
        search = (self.q or "").strip()
        if search:
            # "JJG52", "JJG 52-2013" and "jjg 52" all find JJG 52-2013.
            compact = search.replace(" ", "")
            queryset = queryset.annotate(
                cited=Replace(Concat("code", Value("-"), "year"), Value(" "), Value(""))
            ).filter(
                Q(code__icontains=search)
                | Q(cited__icontains=compact)
                | Q(title__icontains=search)
                | Q(title_en__icontains=search)
                | Q(year__icontains=search)
            )
        return queryset.distinct() if joined else queryset
