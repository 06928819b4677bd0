"""The filter of the commission list, for its page and its API operation
(metrolab/core/filters.py)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from metrolab.commissions.models import CommissionLine
from metrolab.core.filters import ListFilter, period_q
from metrolab.core.text import Name


class CommissionFilter(ListFilter):
    """`q` (in the number, the customer's name, the lines' instruments and serial nos),
    `status`, `review`, the customer (`customer_id`; the page names it `customer`), and the
    creation days `date_from` and `date_to`, both included (the lab's time zone)."""

    q: Name = ""
    status: str = ""
    review: str = ""
    customer_id: int | None = None
    customer: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def filter_q(self, value: str) -> Q:
        value = (value or "").strip()
        if not value:
            return Q()
        lines = CommissionLine.objects.filter(
            Q(instrument_name__icontains=value) | Q(serial_no__icontains=value)
        )
        return (
            Q(number__icontains=value)
            | Q(customer__name__icontains=value)
            | Q(pk__in=lines.values("commission_id"))
        )

    def filter_status(self, value: str) -> Q:
        return Q(status=value) if value else Q()

    def filter_review(self, value: str) -> Q:
        return Q(review=value) if value else Q()

    def filter_customer_id(self, value: int | None) -> Q:
        return Q(customer_id=value) if value is not None else Q()

    def filter_customer(self, value: int | None) -> Q:
        return self.filter_customer_id(value)

    def filter_date_from(self, value: dt.date | None) -> Q:
        return period_q("created_at", value, None)

    def filter_date_to(self, value: dt.date | None) -> Q:
        return period_q("created_at", None, value)
