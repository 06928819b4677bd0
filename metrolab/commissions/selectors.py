"""Reads of commissions that depend on who asks (R4.3): lab staff see every commission, a
customer's portal user only their own organisation's, anyone else nothing. Also the
appointment slots with their remaining capacity, the day's arrivals and the public status
query (R6.1b, R9.1)."""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from metrolab.commissions.choices import STATUS_ORDER, CommissionStatus
from metrolab.commissions.filters import CommissionFilter
from metrolab.commissions.models import AppointmentSlot, Commission, Discipline, StatusEvent
from metrolab.customers.selectors import restrict

SLOT_DAYS_AHEAD = 60


def commission_scope(user: Any) -> QuerySet[Commission]:
    """The commissions `user` may read (customers.selectors.restrict)."""
    return restrict(Commission.objects.all(), user, "customer")


def commission_list(
    *, user: Any, filters: CommissionFilter | None = None, customer: Any = None
) -> QuerySet[Commission]:
    """The commissions `user` may read, newest first, filtered as the list's page and API
    filter (`commissions.filters.CommissionFilter`) and by `customer`."""
    commissions = commission_scope(user).select_related(
        "customer", "contact", "slot", "slot__discipline"
    )
    if filters is not None:
        commissions = filters.filter(commissions)
    if customer is not None:
        commissions = commissions.filter(customer=customer)
    return commissions.order_by("-created_at", "-pk")


def commission_get(*, user: Any, pk: int) -> Commission | None:
    """One commission, or None when it does not exist or `user` may not see it (callers answer
    404 either way, revealing nothing)."""
    return (
        commission_scope(user)
        .select_related("customer", "contact", "slot", "slot__discipline", "reviewed_by")
        .filter(pk=pk)
        .first()
    )


@dataclass(frozen=True)
class Node:
    status: str
    label: str
    at: dt.datetime | None

    @property
    def reached(self) -> bool:
        return self.at is not None


def commission_timeline(commission: Commission) -> list[Node]:
    """The status nodes of R6.1b in order, each with the time it was reached (None: not yet);
    a cancelled commission ends with the cancellation instead of the nodes it never reached."""
    times: dict[str, dt.datetime] = {}
    for event in StatusEvent.objects.filter(commission=commission).order_by("at", "pk"):
        times.setdefault(event.status, event.at)
    nodes = [Node(s.value, str(s.label), times.get(s.value)) for s in STATUS_ORDER]
    if commission.status == CommissionStatus.CANCELLED:
        nodes = [n for n in nodes if n.reached]
        cancelled = CommissionStatus.CANCELLED
        nodes.append(Node(cancelled.value, str(cancelled.label), times.get(cancelled.value)))
    return nodes


def commission_public_status(number: str, code: str) -> tuple[Commission, list[Node]] | None:
    """The self-service query (R6.1b, R9.1): the nodes reached, for the commission whose number
    and query code both match; None otherwise (the caller answers the same either way)."""
    number = (number or "").strip().upper()
    code = (code or "").strip().upper()
    commission = Commission.objects.filter(number=number).first() if number else None
    expected = commission.query_code if commission is not None else "-" * 8
    if not hmac.compare_digest(expected.encode(), code.encode()) or commission is None:
        return None
    return commission, [n for n in commission_timeline(commission) if n.reached]


def customer_card_commissions(user: Any, customer: Any) -> dict[str, Any]:
    """The commissions panel of a customer's card (metrolab.customers.panels): the latest 20
    the user may see, and how many there are."""
    commissions = commission_list(user=user, customer=customer)
    return {"commissions": commissions[:20], "commission_count": commissions.count()}


@dataclass(frozen=True)
class PublicItem:
    """What the public status query tells of one item: its number, name and state."""

    number: str
    name: str
    state: str
    state_label: str


def commission_expected_date(commission: Commission) -> dt.date | None:
    """When the commission is expected to be completed: its promised delivery date, else the
    latest promised date of its items or lines (None: not set yet)."""
    if commission.promised_date is not None:
        return commission.promised_date
    dates = [
        *commission.items.values_list("promised_date", flat=True),
        *commission.lines.values_list("promised_date", flat=True),
    ]
    return max((d for d in dates if d is not None), default=None)


def commission_public_items(commission: Commission) -> list[PublicItem]:
    """The commission's received items with their state, in number order (R6.1b)."""
    return [
        PublicItem(item.number, item.name, item.state, str(item.get_state_display()))
        for item in commission.items.order_by("number")
    ]


def slot_booking_counts() -> Count:
    """Bookings of a slot: its commissions, neither cancelled nor rejected at review."""
    return Count(
        "commissions",
        filter=~Q(commissions__status=CommissionStatus.CANCELLED)
        & ~Q(commissions__review=Commission.Review.REJECTED),
    )


def slot_booked(slot: AppointmentSlot) -> int:
    return (
        slot.commissions.exclude(status=CommissionStatus.CANCELLED)
        .exclude(review=Commission.Review.REJECTED)
        .count()
    )


def slot_list_available(
    *,
    discipline: Discipline | None = None,
    now: dt.datetime | None = None,
    days: int = SLOT_DAYS_AHEAD,
) -> list[AppointmentSlot]:
    """Slots not yet past, up to `days` ahead, with capacity left, each with `booked` and
    `remaining` set. A slot is past once its half-day has ended in the lab's time zone
    (`AppointmentSlot.PERIOD_ENDS`): this morning's slots are gone at noon (R9.1)."""
    local = timezone.localtime(now or timezone.now(), timezone.get_default_timezone())
    today = local.date()
    ended = [p for p, end in AppointmentSlot.PERIOD_ENDS.items() if local.time() >= end]
    slots = (
        AppointmentSlot.objects.filter(date__gte=today, date__lte=today + dt.timedelta(days=days))
        .exclude(date=today, period__in=ended)
        .select_related("discipline")
        .annotate(booked=slot_booking_counts())
        .order_by("date", "period", "discipline__code")
    )
    if discipline is not None:
        slots = slots.filter(discipline=discipline)
    available = []
    for slot in slots:
        slot.remaining = max(0, slot.capacity - slot.booked)
        if slot.remaining > 0:
            available.append(slot)
    return available


def arrivals(*, day: dt.date | None = None) -> QuerySet[Commission]:
    """The commissions booked for a day (the desk's arrivals list), by half-day and customer."""
    day = day or timezone.localdate()
    return (
        Commission.objects.filter(slot__date=day)
        .exclude(status=CommissionStatus.CANCELLED)
        .select_related("customer", "contact", "slot", "slot__discipline")
        .order_by("slot__period", "slot__discipline__code", "customer__code", "pk")
    )


def discipline_list_bookable(now: dt.datetime | None = None) -> list[Discipline]:
    """Disciplines that have appointment slots ahead with places left."""
    ids = {slot.discipline_id for slot in slot_list_available(now=now)}
    return list(Discipline.objects.filter(pk__in=ids).order_by("code"))
