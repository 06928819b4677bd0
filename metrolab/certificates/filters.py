"""The filter of the certificates list, for its page and its API operation
(metrolab/core/filters.py): one meaning of each filter, the period's end day included."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db.models import Q
from django.utils.translation import gettext as _
from pydantic import model_validator

from metrolab.certificates.models import Certificate
from metrolab.core.filters import ListFilter
from metrolab.core.text import Name

StatusValue = Literal["", *Certificate.Status.values]  # type: ignore[valid-type]
KindValue = Literal["", *Certificate.Kind.values]  # type: ignore[valid-type]


class CertificateFilter(ListFilter):
    """`status`, `kind`, the days of issue `since` and `until` (both included), `q` (in the
    certificate number, the electronic certificate identifier, the customer, the item's
    number and name, and the original record's number)."""

    status: StatusValue = ""
    kind: KindValue = ""
    since: dt.date | None = None
    until: dt.date | None = None
    q: Name = ""

    @model_validator(mode="after")
    def _period_in_order(self) -> CertificateFilter:
        if self.since and self.until and self.until < self.since:
            raise ValueError(_("The period ends before it starts."))
        return self

    @classmethod
    def whole_object_fields(cls) -> set[str]:
        return {"since", "until"}

    def filter_status(self, value: str) -> Q:
        return Q(status=value) if value else Q()

    def filter_kind(self, value: str) -> Q:
        return Q(kind=value) if value else Q()

    def filter_since(self, value: dt.date | None) -> Q:
        return Q(issued_on__gte=value) if value else Q()

    def filter_until(self, value: dt.date | None) -> Q:
        return Q(issued_on__lte=value) if value else Q()

    def filter_q(self, value: str) -> Q:
        value = (value or "").strip()
        if not value:
            return Q()
        return (
            Q(number__icontains=value)
            | Q(identifier__icontains=value)
            | Q(commission__customer__name__icontains=value)
            | Q(item__number__icontains=value)
            | Q(item__name__icontains=value)
            | Q(record__number__icontains=value)
        )
