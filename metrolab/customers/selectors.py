"""Reads of customers that depend on who asks (R4.3): lab staff see every customer, a customer's
portal user sees only their own organisation, and anyone else sees nothing.

`restrict(queryset, user, customer_field)` is that one rule for every list a portal user can
see (customers, instruments, commissions, items): each app's selectors call it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from metrolab.core.roles import CUSTOMER, LAB_STAFF
from metrolab.customers.filters import DUE_WITHIN_DAYS, CustomerFilter, InstrumentFilter
from metrolab.customers.models import Contact, Customer, Instrument, PortalAccount


def is_lab_staff(user: Any) -> bool:
    """Whether the user is one of the lab's own people (not a customer, regulator, device)."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and (user.is_superuser or user.has_role(*LAB_STAFF))
    )


def portal_customer(user: Any) -> Customer | None:
    """The organisation a customer user acts for (through their portal account), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if not user.has_role(CUSTOMER):
        return None
    account = PortalAccount.objects.select_related("customer").filter(user_id=user.pk).first()
    return account.customer if account is not None else None


def portal_account_get(user: Any) -> PortalAccount | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return PortalAccount.objects.select_related("customer", "contact").filter(user=user).first()


def restrict(
    queryset: QuerySet, user: Any, customer_field: str, *, also: tuple[str, ...] = ()
) -> QuerySet:
    """The rows of `queryset` that `user` may see (R4.3): every row for the lab's own people
    (and for the holders of the roles `also`, such as reader devices), the rows of their own
    organisation for a customer's portal user (`customer_field`: the path from a row to its
    customer, "pk" for customers themselves), none for anyone else."""
    if is_lab_staff(user) or (also and _active(user) and user.has_role(*also)):
        return queryset
    own = portal_customer(user)
    if own is None:
        return queryset.none()
    return queryset.filter(**{customer_field: own.pk})


def _active(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def customer_scope(user: Any) -> QuerySet[Customer]:
    """The customers `user` may read: all for lab staff, their own for a portal user."""
    return restrict(Customer.objects.all(), user, "pk")


def customer_list(
    *,
    user: Any,
    filters: CustomerFilter | None = None,
    search: str = "",
    active: bool | None = None,
) -> QuerySet:
    """Customers by code, filtered as the list's page and API filter
    (`customers.filters.CustomerFilter`; `search` is its `q`)."""
    customers = customer_scope(user)
    if filters is None and search:
        filters = CustomerFilter(q=search)
    if filters is not None:
        customers = filters.filter(customers)
    if active is not None:
        customers = customers.filter(active=active)
    return customers.order_by("code")


def customer_get(*, user: Any, pk: int) -> Customer | None:
    """One customer, or None when it does not exist or `user` may not see it (so that callers
    answer 404 either way and reveal nothing)."""
    return customer_scope(user).filter(pk=pk).first()


def contact_list(customer: Customer) -> QuerySet[Contact]:
    return customer.contacts.order_by("-is_primary", "name")


def contact_primary(customer: Customer) -> Contact | None:
    """The contact told of progress when a commission names none."""
    return contact_list(customer).first()


def portal_accounts(customer: Customer) -> QuerySet[PortalAccount]:
    return customer.portal_accounts.select_related("user", "contact").order_by("user__username")


def portal_users(customer: Customer) -> list:
    """Active users who see this customer's data in the portal (their inbox is notified)."""
    return [
        account.user
        for account in portal_accounts(customer)
        if account.user.is_active and account.user.has_role(CUSTOMER)
    ]


def instrument_list(
    *, user: Any, filters: InstrumentFilter | None = None, customer: Customer | None = None
) -> QuerySet[Instrument]:
    """The instrument register as `user` may see it, filtered as the register's page and API
    filter (`customers.filters.InstrumentFilter`: `due`, R9.1: what is due for
    recalibration) and by `customer`."""
    instruments = restrict(Instrument.objects.all(), user, "customer").select_related("customer")
    if filters is not None:
        instruments = filters.filter(instruments)
    if customer is not None:
        instruments = instruments.filter(customer=customer)
    return instruments.order_by("next_due_date", "customer__code", "name", "pk")


def instrument_get(*, user: Any, pk: int) -> Instrument | None:
    return instrument_list(user=user).filter(pk=pk).first()


def instruments_due_for_reminder(today: dt.date | None = None) -> QuerySet[Instrument]:
    """Instruments of active customers due within 30 days (or overdue) whose reminder has not
    been sent for their current due date."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=DUE_WITHIN_DAYS)
    return (
        Instrument.objects.filter(
            customer__active=True, next_due_date__isnull=False, next_due_date__lte=horizon
        )
        .filter(Q(reminder_sent_for__isnull=True) | ~Q(reminder_sent_for=F("next_due_date")))
        .select_related("customer")
        .order_by("customer__code", "next_due_date", "pk")
    )
