"""Writes of commissions (R6.1a-b, R6.12b, R9.1). Every function is a service (audited).

- `commission_create`: online (portal, with an appointment), at the desk, or on site;
- `commission_review`: contract review (合同评审), accept with conditions or reject with reason;
- `commission_cancel`: before any item is received, with a reason;
- `commission_refresh_status`: the status nodes, derived from items and tasks;
- `commission_assert_can_receive`: the items app asks before receiving an item.
Each status node reached is recorded as a StatusEvent (time, by whom) and passed to the
`status_listeners` (the applicant's notification plugs in there, see `listeners.py`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.commissions import quote as quoting
from metrolab.commissions import selectors
from metrolab.commissions.choices import CommissionStatus
from metrolab.commissions.errors import CommissionRefusal
from metrolab.commissions.models import (
    AppointmentSlot,
    Commission,
    CommissionCounter,
    CommissionLine,
    StatusEvent,
)
from metrolab.commissions.roles import COMMISSION_DESK, COMMISSION_ONSITE
from metrolab.commissions.status import derived_status, nodes_between
from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import is_system, person, require_roles
from metrolab.core.service import ServiceError, service
from metrolab.core.text import SHORT_TEXT, text_checked, too_long_message
from metrolab.customers.models import Contact, Customer
from metrolab.customers.selectors import (
    contact_primary,
    is_lab_staff,
    portal_account_get,
    portal_customer,
)
from metrolab.customers.services import instrument_register

# Called with (commission, new_status) after each node is reached: the notification of the
# applicant (R6.1b-c) plugs in here.
status_listeners: list = []
# Called with (commission) after its contract review (the applicant is told, listeners.py).
review_listeners: list = []

NUMBER_PREFIX = "WT"
# No 0/O, 1/I/L: a code read from paper or over the phone is typed right the first time.
QUERY_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
QUERY_CODE_LENGTH = 8
# Unit prices fit CommissionLine.unit_price (10 digits, 2 of them decimals).
MAX_UNIT_PRICE = Decimal("100000000")


def query_code_new() -> str:
    """A fresh query code for the commission receipt (R6.1b self-service query)."""
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


def _number_next(today: dt.date) -> str:
    """The next commission number of the year, e.g. WT2026-000042. The year's counter row is
    locked until the transaction ends, so concurrent requests queue for it (PostgreSQL row
    lock; SQLite's IMMEDIATE transaction holds the database's write lock), and the number's
    unique constraint backs this up."""
    counter = CommissionCounter.objects.select_for_update().filter(year=today.year).first()
    if counter is None:
        counter = CommissionCounter.objects.create(year=today.year, last=0)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{NUMBER_PREFIX}{today.year}-{counter.last:06d}"


def _check_creator(actor: Any, channel: str, customer: Customer) -> None:
    """Customers apply online for their own organisation only; the desk and the on-site
    channel are the lab's. The system (the demo, the lab's own processes) is trusted; an
    anonymous visitor is not."""
    if is_system(actor):
        return
    if channel == Commission.Channel.PORTAL:
        own = portal_customer(person(actor))
        if own is None or own.pk != customer.pk:
            raise ServiceError(
                _("You can apply only for your own organisation."), code=CoreRefusal.FORBIDDEN
            )
        return
    allowed = COMMISSION_DESK if channel == Commission.Channel.DESK else COMMISSION_ONSITE
    require_roles(
        actor,
        allowed,
        message=_("You are not allowed to create commissions through this channel."),
    )


def _default_contact(actor: Any, customer: Customer) -> Contact | None:
    """The applicant when none is named: the portal user's own contact, else the primary."""
    account = portal_account_get(person(actor))
    if account is not None and account.customer_id == customer.pk and account.contact:
        return account.contact
    return contact_primary(customer)


def _slot_booked(slot: AppointmentSlot, now: dt.datetime) -> AppointmentSlot:
    """Lock the slot and check that it is ahead and has room: the count and the new booking
    happen under the slot's row lock, so two customers cannot both take its last place.
    A slot whose half-day has ended in the lab's time zone is past (R9.1)."""
    slot = AppointmentSlot.objects.select_for_update().select_related("discipline").get(pk=slot.pk)
    if slot.has_passed(now):
        raise ServiceError(
            _("The appointment slot of %(date)s %(period)s is over; choose a later one.")
            % {"date": slot.date.isoformat(), "period": slot.get_period_display()},
            code=CommissionRefusal.SLOT_PAST,
            field="slot",
        )
    if selectors.slot_booked(slot) >= slot.capacity:
        raise ServiceError(
            _("This appointment slot is full; choose another one."),
            code=CommissionRefusal.SLOT_FULL,
            field="slot",
        )
    return slot


def _notify(commission: Commission, status: str) -> None:
    for listener in status_listeners:
        listener(commission, status)


def _status_event(commission: Commission, status: str, actor: Any, note: str = "") -> None:
    StatusEvent.objects.create(
        commission=commission,
        status=status,
        at=timezone.now(),
        by=person(actor),
        note=note,
    )


@service("commission.create")
def commission_create(
    *,
    customer: Customer,
    lines: list[dict],
    channel: str,
    contact: Contact | None = None,
    slot: AppointmentSlot | None = None,
    promised_date: dt.date | None = None,
    requirements: str = "",
    actor: Any,
    reason: str = "",
) -> Commission:
    """Create a commission (委托单, R6.1a) with its lines, priced from the price list (the quote),
    numbered WT<year>-<sequence> and given a query code. Online (R9.1) a customer applies for
    their own organisation and books an appointment slot with room left; at the desk or on
    site (R6.12b) the lab enters it and the slot is optional. Instruments named with a serial
    no. join the customer's instrument register. The commission starts at the "applied" node,
    awaiting contract review. Bad input is refused with a clear message and nothing is written."""
    if channel not in Commission.Channel.values:
        raise ServiceError(_("Unknown channel: %s") % channel, field="channel")
    _check_creator(actor, channel, customer)
    if not customer.active:
        raise ServiceError(_("This customer is inactive."), field="customer")
    if contact is not None and contact.customer_id != customer.pk:
        raise ServiceError(_("The contact belongs to another customer."), field="contact")
    contact = contact or _default_contact(actor, customer)
    now = timezone.now()
    today = timezone.localdate(now)
    if promised_date is not None and promised_date < today:
        raise ServiceError(_("The promised date is in the past."), field="promised_date")
    checked = quoting.lines_checked(lines)
    if channel == Commission.Channel.PORTAL and slot is None:
        raise ServiceError(_("Choose an appointment slot."), field="slot")
    if slot is not None:
        slot = _slot_booked(slot, now)
    priced = quoting.quote(checked, slot.discipline if slot is not None else None)

    commission = Commission.objects.create(
        number=_number_next(today),
        customer=customer,
        contact=contact,
        channel=channel,
        slot=slot,
        query_code=query_code_new(),
        created_by=person(actor),
        promised_date=promised_date,
        requirements=(requirements or "").strip(),
        quote_total=priced.total,
    )
    for line in priced.lines:
        values = line.values
        instrument = instrument_register(
            customer=customer,
            name=values["instrument_name"],
            serial_no=values["serial_no"],
            model_range=values["model_range"],
            accuracy_class=values["accuracy_class"],
            manufacturer=values["manufacturer"],
            actor=actor,
        )
        CommissionLine.objects.create(
            commission=commission,
            **{k: v for k, v in values.items() if k not in {"price_entry", "promised_date"}},
            promised_date=values["promised_date"] or promised_date,
            price_entry=line.price_entry,
            unit_price=line.unit_price,
            instrument=instrument,
        )
    _status_event(commission, CommissionStatus.APPLIED, actor)
    _notify(commission, CommissionStatus.APPLIED)
    return commission


def _price_error(n: int, message: str, field_name: str) -> ServiceError:
    return ServiceError(
        _("Line %(n)s: %(message)s") % {"n": n, "message": message},
        field=f"prices.{n - 1}.{field_name}",
    )


def _unit_price(n: int, value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        raise _price_error(n, _("the unit price is not a number."), "unit_price") from None
    if not price.is_finite() or price < 0:
        raise _price_error(n, _("the unit price must be zero or more."), "unit_price")
    if price >= MAX_UNIT_PRICE or price != price.quantize(Decimal("0.01")):
        raise _price_error(
            n, _("the unit price has at most 8 digits and 2 decimals."), "unit_price"
        )
    return price.quantize(Decimal("0.01"))


def _prices_confirmed(commission: Commission, prices: list[dict] | None) -> list[CommissionLine]:
    """Each line with its confirmed price (R6.1a contract review), not yet saved. A line named
    in `prices` takes the price-list entry given (its price) or the unit price given; a price
    that is not the entry's is set by hand and needs its reason. A line not named keeps the
    price-list price it was quoted at; a line with neither is refused: its price must be set.
    Every problem names the line (1-based, in the commission's order)."""
    lines = list(commission.lines.select_for_update().order_by("pk"))
    by_pk = {line.pk: (n, line) for n, line in enumerate(lines, start=1)}
    given: dict[int, dict] = {}
    for i, raw in enumerate(prices or []):
        if not isinstance(raw, dict):
            raise ServiceError(_("Price %(n)s is not valid.") % {"n": i + 1}, field="prices")
        key = raw.get("line")
        key = getattr(key, "pk", key)
        if not str(key).isdigit() or int(key) not in by_pk:
            raise ServiceError(
                _("Price %(n)s names no line of this commission.") % {"n": i + 1},
                field=f"prices.{i}.line",
            )
        if int(key) in given:
            raise ServiceError(
                _("Price %(n)s names a line priced already.") % {"n": i + 1},
                field=f"prices.{i}.line",
            )
        given[int(key)] = raw
    for line in lines:
        n, _line = by_pk[line.pk]
        raw = given.get(line.pk)
        if raw is None:
            if line.price_entry_id is None:
                raise _price_error(
                    n,
                    _(
                        "“%(name)s” has no price yet: choose a price-list entry or set its "
                        "price by hand with the reason."
                    )
                    % {"name": line.instrument_name},
                    "unit_price",
                )
            line.price_confirmed = True
            continue
        entry_value = raw.get("price_entry")
        entry = None
        if entry_value not in (None, ""):
            try:
                entry = quoting.price_entry_checked(entry_value, line.service)
            except ServiceError as exc:
                raise _price_error(n, exc.message, "price_entry") from None
        unit_price = _unit_price(n, raw.get("unit_price"))
        note = (raw.get("reason") or "").strip()
        if len(note) > SHORT_TEXT:
            raise _price_error(n, too_long_message(_("Reason"), SHORT_TEXT, len(note)), "reason")
        if entry is None and unit_price is None:
            if line.price_entry_id is None:
                raise _price_error(
                    n, _("choose a price-list entry or set the price by hand."), "unit_price"
                )
            line.price_confirmed = True
            continue
        by_hand = unit_price is not None and (entry is None or unit_price != entry.unit_price)
        if by_hand and not note:
            raise _price_error(n, _("give the reason for a price set by hand."), "reason")
        line.price_entry = entry
        line.unit_price = unit_price if by_hand else entry.unit_price
        line.price_note = note if by_hand else ""
        line.price_confirmed = True
    return lines


@service("commission.review")
def commission_review(
    *,
    commission: Commission,
    decision: str,
    note: str = "",
    prices: list[dict] | None = None,
    actor: Any,
    reason: str = "",
) -> Commission:
    """Contract review (合同评审, R6.1a): accept the commission, with conditions if any, or reject
    it with the reason; only a commission awaiting review can be reviewed, once. The customer
    sees the decision in the portal and is told of it (R6.1c).

    Accepting confirms the quote: each line's price is confirmed or set (`prices`: a list of
    {"line": pk, "price_entry": pk, "unit_price": Decimal, "reason": text}; see
    `_prices_confirmed`), the quoted total is recomputed, and the confirmed quote is kept
    with the commission (audited) and shown to the customer and on the receipt. Prices given
    with a rejection are ignored."""
    commission = Commission.objects.select_for_update().get(pk=commission.pk)
    note = (note or "").strip()
    if decision not in (Commission.Review.ACCEPTED, Commission.Review.REJECTED):
        raise ServiceError(_("Decide to accept or to reject."), field="decision")
    if commission.status == CommissionStatus.CANCELLED:
        raise ServiceError(_("This commission is cancelled."), code=CoreRefusal.CONFLICT)
    if commission.review != Commission.Review.PENDING:
        raise ServiceError(
            _("This commission was reviewed already (%(decision)s).")
            % {"decision": commission.get_review_display()},
            code=CoreRefusal.CONFLICT,
        )
    if decision == Commission.Review.REJECTED and not note:
        raise ServiceError(_("Give the reason for the rejection."), field="note")
    fields = ["review", "review_note", "reviewed_by", "reviewed_at"]
    if decision == Commission.Review.ACCEPTED:
        lines = _prices_confirmed(commission, prices)
        for line in lines:
            line.save(update_fields=["price_entry", "unit_price", "price_note", "price_confirmed"])
        commission.quote_total = sum((line.amount for line in lines), Decimal("0.00"))
        fields.append("quote_total")
    commission.review = decision
    commission.review_note = note
    commission.reviewed_by = person(actor)
    commission.reviewed_at = timezone.now()
    commission.save(update_fields=fields)
    for listener in review_listeners:
        listener(commission)
    return commission


def _items_received(commission: Commission) -> bool:
    return commission.items.exists()


@service("commission.cancel")
def commission_cancel(*, commission: Commission, reason: str, actor: Any) -> Commission:
    """Cancel a commission before any of its items is received (R6.1b "cancelled"), with the
    reason; its appointment slot is freed. Customers may cancel their own; the lab's staff and
    the system any."""
    commission = Commission.objects.select_for_update().get(pk=commission.pk)
    reason = (reason or "").strip()
    user = person(actor)
    if not is_system(actor) and not is_lab_staff(user):
        own = portal_customer(user)
        if own is None or own.pk != commission.customer_id:
            raise ServiceError(
                _("You can cancel only your own commissions."), code=CoreRefusal.FORBIDDEN
            )
    if commission.status == CommissionStatus.CANCELLED:
        raise ServiceError(_("This commission is cancelled already."), code=CoreRefusal.CONFLICT)
    if commission.status != CommissionStatus.APPLIED or _items_received(commission):
        raise ServiceError(
            _("Items of this commission have been received; it can no longer be cancelled."),
            code=CoreRefusal.CONFLICT,
        )
    if not reason:
        raise ServiceError(_("Give the reason for the cancellation."), field="reason")
    text_checked(reason, limit=SHORT_TEXT, field="reason", label=_("Reason for the cancellation"))
    commission.status = CommissionStatus.CANCELLED
    commission.save(update_fields=["status"])
    _status_event(commission, CommissionStatus.CANCELLED, actor, note=reason)
    _notify(commission, CommissionStatus.CANCELLED)
    return commission


def commission_assert_can_receive(commission: Commission) -> None:
    """Refuse (ServiceError) receiving items for a commission that is cancelled, was rejected
    or is not yet accepted at contract review (ISO/IEC 17025 §7.1: the request is reviewed
    before the work), or is completed (R6.1b: illegal transitions are refused with a clear
    message). The items app calls this inside its receipt service, before writing anything."""
    commission = Commission.objects.get(pk=commission.pk)
    if commission.status == CommissionStatus.CANCELLED:
        raise ServiceError(
            _("Commission %(number)s is cancelled; its items cannot be received.")
            % {"number": commission.number},
            code=CoreRefusal.CONFLICT,
        )
    if commission.review == Commission.Review.REJECTED:
        raise ServiceError(
            _(
                "Commission %(number)s was rejected at contract review; its items cannot be "
                "received."
            )
            % {"number": commission.number},
            code=CoreRefusal.CONFLICT,
        )
    if commission.review != Commission.Review.ACCEPTED:
        raise ServiceError(
            _(
                "Commission %(number)s has not been accepted in contract review; its items "
                "cannot be received yet."
            )
            % {"number": commission.number},
            code=CoreRefusal.CONFLICT,
        )
    if commission.status == CommissionStatus.COMPLETED:
        raise ServiceError(
            _("Commission %(number)s is completed.") % {"number": commission.number},
            code=CoreRefusal.CONFLICT,
        )


@service("commission.status_refresh", record_calls=False)
def commission_refresh_status(commission: Commission, *, actor: Any) -> list[str]:
    """Advance a commission to the node its items and tasks have reached, recording each node
    passed with its time (R6.1b); returns the nodes reached now. Items, tasks, records and
    certificates call this after every change that may move the commission on."""
    commission = Commission.objects.select_for_update().get(pk=commission.pk)
    reached = nodes_between(commission.status, derived_status(commission))
    if not reached:
        return []
    now = timezone.now()
    for status in reached:
        StatusEvent.objects.create(
            commission=commission,
            status=status,
            at=now,
            by=person(actor),
        )
    commission.status = reached[-1]
    commission.save(update_fields=["status"])
    for status in reached:
        for listener in status_listeners:
            listener(commission, status)
    return reached
