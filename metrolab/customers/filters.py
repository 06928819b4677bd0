"""The filters of the customer list and of the instrument register, for their pages and
their API operations (metrolab/core/filters.py)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from metrolab.core.filters import ListFilter
from metrolab.core.text import Name
from metrolab.customers.models import Contact

# Instruments "due": due for recalibration within this many days, or overdue (R9.1).
DUE_WITHIN_DAYS = 30


class CustomerFilter(ListFilter):
    """`q`: in the code, the name, the credit code and the contacts' names and phones."""

    q: Name = ""

    def filter_q(self, value: str) -> Q:
        value = (value or "").strip()
        if not value:
            return Q()
        contacts = Contact.objects.filter(Q(name__icontains=value) | Q(phone__icontains=value))
        return (
            Q(code__icontains=value)
            | Q(name__icontains=value)
            | Q(credit_code__icontains=value)
            | Q(pk__in=contacts.values("customer_id"))
        )


class InstrumentFilter(ListFilter):
    """`q` (in the name, serial no., model / range and the customer's name), the customer
    (`customer_id`; the page names it `customer`), and `due` (due within 30 days or
    overdue; the register's "due" page sets it)."""

    q: Name = ""
    customer_id: int | None = None
    customer: int | None = None
    due: bool = False

    def filter_q(self, value: str) -> Q:
        value = (value or "").strip()
        if not value:
            return Q()
        return (
            Q(name__icontains=value)
            | Q(serial_no__icontains=value)
            | Q(model_range__icontains=value)
            | Q(customer__name__icontains=value)
        )

    def filter_customer_id(self, value: int | None) -> Q:
        return Q(customer_id=value) if value is not None else Q()

    def filter_customer(self, value: int | None) -> Q:
        return self.filter_customer_id(value)

    def filter_due(self, value: bool) -> Q:
        if not value:
            return Q()
        horizon = timezone.localdate() + dt.timedelta(days=DUE_WITHIN_DAYS)
        return Q(next_due_date__isnull=False, next_due_date__lte=horizon)
