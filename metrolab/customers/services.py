"""Writes of customers, contacts, portal accounts and the instrument register (R6.1a, R9.1).

Every write is a service (metrolab.core.service): one transaction, audited with the actor.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import SYSTEM
from metrolab.core.roles import CUSTOMER, LAB_STAFF
from metrolab.core.service import ServiceError, service
from metrolab.core.services import user_create
from metrolab.core.validation import validated
from metrolab.customers import selectors
from metrolab.customers.models import Contact, Customer, Instrument, PortalAccount

logger = logging.getLogger(__name__)

CUSTOMER_FIELDS = (
    "code",
    "name",
    "credit_code",
    "address",
    "settlement",
    "credit_limit",
    "notes",
    "active",
)
CONTACT_FIELDS = (
    "name",
    "phone",
    "email",
    "wechat_id",
    "is_primary",
    "notify_sms",
    "notify_email",
    "notify_wechat",
)
INSTRUMENT_FIELDS = (
    "name",
    "model_range",
    "accuracy_class",
    "serial_no",
    "manufacturer",
    "last_service_date",
    "next_due_date",
)


def _assign(instance: Model, data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """Copy `data` onto the instance; unknown fields are refused, the model's own validation
    (lengths, choices, formats) runs before anything is written."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ServiceError(_("Unknown field: %s") % ", ".join(sorted(unknown)))
    for name, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(instance, name, value)
    validated(instance, exclude=["customer"] if hasattr(instance, "customer_id") else None)


# --- customers ------------------------------------------------------------------------------


@service("customer.create")
def customer_create(*, data: dict[str, Any], actor: Any, reason: str = "") -> Customer:
    """Register a customer organisation (委托单位) with its settlement terms (R6.1a)."""
    customer = Customer()
    _assign(customer, data, CUSTOMER_FIELDS)
    customer.save()
    return customer


@service("customer.update")
def customer_update(
    *, customer: Customer, data: dict[str, Any], actor: Any, reason: str = ""
) -> Customer:
    """Edit a customer's details or settlement terms (R6.1a); fields not named keep their value."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    _assign(customer, data, CUSTOMER_FIELDS)
    customer.save()
    return customer


@service("customer.delete")
def customer_delete(*, customer: Customer, actor: Any, reason: str = "") -> None:
    """Remove a customer entered by mistake (R6.1a). A customer with commissions is kept for
    the records: deactivate it instead."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.commissions.exists():
        raise ServiceError(
            _("This customer has commissions and is kept for the records; deactivate it."),
            code=CoreRefusal.CONFLICT,
        )
    customer.delete()


def _only_one_primary(contact: Contact) -> None:
    if not contact.is_primary:
        return
    for other in contact.customer.contacts.filter(is_primary=True).exclude(pk=contact.pk):
        other.is_primary = False
        other.save(update_fields=["is_primary"])


@service("contact.create")
def contact_create(
    *, customer: Customer, data: dict[str, Any], actor: Any, reason: str = ""
) -> Contact:
    """Add a person at the customer and how they want to be told of progress (R6.1c). The first
    contact of a customer becomes its primary contact."""
    contact = Contact(customer=customer)
    _assign(contact, data, CONTACT_FIELDS)
    if not customer.contacts.exists():
        contact.is_primary = True
    contact.save()
    _only_one_primary(contact)
    return contact


@service("contact.update")
def contact_update(
    *, contact: Contact, data: dict[str, Any], actor: Any, reason: str = ""
) -> Contact:
    """Edit a contact (R6.1a); making them primary makes the previous primary an ordinary one."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    _assign(contact, data, CONTACT_FIELDS)
    contact.save()
    _only_one_primary(contact)
    return contact


@service("contact.delete")
def contact_delete(*, contact: Contact, actor: Any, reason: str = "") -> None:
    """Remove a contact (R6.1a); commissions and portal accounts naming them keep working
    without a contact. If they were the primary contact, the next one becomes primary."""
    customer = contact.customer
    was_primary = contact.is_primary
    Contact.objects.select_for_update().get(pk=contact.pk).delete()
    successor = customer.contacts.order_by("name", "pk").first() if was_primary else None
    if successor is not None:
        successor.is_primary = True
        successor.save(update_fields=["is_primary"])


# --- portal accounts ------------------------------------------------------------------------


@service("portal_account.create")
def portal_account_create(
    *,
    contact: Contact,
    username: str,
    password: str,
    actor: Any,
    reason: str = "",
) -> PortalAccount:
    """Open a portal account for a contact (R9.1): a user holding only the customer role, who
    sees only this customer's commissions, items and certificates (R4.3)."""
    username = (username or "").strip()
    if not username:
        raise ServiceError(_("Give the account a user name."), field="username")
    try:
        validate_password(password)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), field="password") from None
    user = user_create(
        username=username,
        password=password,
        roles=[CUSTOMER],
        display_name=contact.name,
        email=contact.email,
        actor=actor,
        reason=reason or "portal account",
    )
    return PortalAccount.objects.create(user=user, customer=contact.customer, contact=contact)


@service("portal_account.link")
def portal_account_link(
    *,
    user: Any,
    customer: Customer,
    contact: Contact | None = None,
    actor: Any,
    reason: str = "",
) -> PortalAccount:
    """Link an existing customer-role user to the organisation whose data they may see (R4.3).
    Lab staff cannot be portal users, and a user acts for one organisation only."""
    if not user.has_role(CUSTOMER):
        raise ServiceError(_("Only users holding the customer role can have a portal account."))
    if user.is_superuser or user.has_role(*LAB_STAFF):
        raise ServiceError(_("Lab staff cannot have a portal account."))
    if PortalAccount.objects.filter(user=user).exists():
        raise ServiceError(_("This user has a portal account already."))
    if contact is not None and contact.customer_id != customer.pk:
        raise ServiceError(_("The contact belongs to another customer."), field="contact")
    return PortalAccount.objects.create(user=user, customer=customer, contact=contact)


# --- instrument register --------------------------------------------------------------------


@service("instrument.register", record_calls=False)
def instrument_register(
    *,
    customer: Customer,
    name: str,
    serial_no: str,
    model_range: str = "",
    accuracy_class: str = "",
    manufacturer: str = "",
    actor: Any,
    reason: str = "",
) -> Instrument | None:
    """The customer's instrument named on a commission line (R9.1 register): the one with the
    same serial no. and name (case-insensitive), created when the lab has not seen it before.
    Blank details of a known instrument are filled in. Without a serial no. there is nothing to
    recognise it by next time, so nothing is registered (None)."""
    serial_no, name = (serial_no or "").strip(), (name or "").strip()
    if not serial_no or not name:
        return None
    details = {
        "model_range": (model_range or "").strip(),
        "accuracy_class": (accuracy_class or "").strip(),
        "manufacturer": (manufacturer or "").strip(),
    }
    instrument = (
        Instrument.objects.select_for_update()
        .filter(customer=customer, serial_no__iexact=serial_no, name__iexact=name)
        .order_by("pk")
        .first()
    )
    if instrument is None:
        return Instrument.objects.create(
            customer=customer, name=name, serial_no=serial_no, **details
        )
    missing = [f for f, value in details.items() if value and not getattr(instrument, f)]
    for field in missing:
        setattr(instrument, field, details[field])
    if missing:
        instrument.save(update_fields=missing)
    return instrument


@service("instrument.update")
def instrument_update(
    *, instrument: Instrument, data: dict[str, Any], actor: Any, reason: str = ""
) -> Instrument:
    """Correct an entry of the instrument register or set its next due date (R9.1)."""
    instrument = Instrument.objects.select_for_update().get(pk=instrument.pk)
    _assign(instrument, data, INSTRUMENT_FIELDS)
    instrument.save()
    return instrument


@service("instrument.served")
def instrument_served(
    *,
    instrument: Instrument,
    served_on: dt.date,
    next_due_date: dt.date | None,
    actor: Any,
    reason: str = "",
) -> Instrument:
    """Record that the lab served the instrument (e.g. its certificate was issued) and when it
    falls due next (R9.1). A new due date gets its own reminder."""
    if next_due_date is not None and next_due_date <= served_on:
        raise ServiceError(_("The next due date must be after the service date."))
    instrument = Instrument.objects.select_for_update().get(pk=instrument.pk)
    instrument.last_service_date = served_on
    instrument.next_due_date = next_due_date
    instrument.save(update_fields=["last_service_date", "next_due_date"])
    return instrument


# --- notifying a customer -------------------------------------------------------------------


def contact_channels(contact: Contact | None) -> dict[str, str]:
    """The addresses a contact asked to be told on (R6.1c): SMS to the phone, e-mail, WeChat."""
    if contact is None:
        return {}
    wanted = {
        "sms": contact.phone if contact.notify_sms else "",
        "email": contact.email if contact.notify_email else "",
        "wechat": contact.wechat_id if contact.notify_wechat else "",
    }
    return {channel: address for channel, address in wanted.items() if address}


def _has_webhooks(customer: Customer) -> bool:
    endpoints = getattr(customer, "webhook_endpoints", None)  # the notifications app's
    return endpoints is not None and endpoints.filter(active=True).exists()


def customer_notify(
    *,
    customer: Customer,
    event: str,
    subject: str,
    body: str,
    contact: Contact | None = None,
    payload: dict | None = None,
    related: Model | None = None,
    actor: Any,
) -> int:
    """Tell a customer something (R6.1c): the contact (or the primary contact) on the channels
    they chose, the inbox of every portal user of the customer, and the customer's webhooks.
    Call inside a service, with its actor. Returns how many notifications were recorded; 0
    (with a log line) while the notification service is not installed or when notifying
    failed."""
    try:
        from metrolab.notifications.services import notify
    except ImportError:
        logger.info("notifications are not available; %s for %s not sent", event, customer.code)
        return 0
    contact = contact or selectors.contact_primary(customer)
    channels = contact_channels(contact)
    users = selectors.portal_users(customer)
    if not users and not channels and not _has_webhooks(customer):
        logger.info("%s has nobody to tell of %s", customer.code, event)
        return 0
    common = {
        "event": event,
        "subject": subject,
        "body": body,
        "payload": payload or {},
        "related": related,
        "actor": actor,
    }
    # The contact's channels and the webhooks go once, with the first portal user's inbox.
    calls = [
        {
            "recipient_user": users[0] if users else None,
            "channels": channels,
            "webhooks_for": customer,
        }
    ]
    calls += [{"recipient_user": user} for user in users[1:]]
    sent = 0
    for call in calls:
        # A notification that fails must not undo the lab's work it reports (the receipt of
        # items, a review): notify runs in its own savepoint; its failure is logged.
        try:
            notify(**call, **common)
        except Exception:
            logger.exception("notifying %s of %s failed", customer.code, event)
        else:
            sent += 1
    return sent


# --- recalibration reminders ----------------------------------------------------------------


def _reminder_text(customer: Customer, instruments: list[Instrument]) -> tuple[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("%(count)s instrument(s) due for recalibration") % {"count": len(instruments)}
        lines = [
            _("%(name)s (serial no. %(serial)s): due %(due)s")
            % {"name": i.name, "serial": i.serial_no or "-", "due": i.next_due_date.isoformat()}
            for i in instruments
        ]
        intro = _("Dear %(customer)s, these instruments fall due for recalibration:") % {
            "customer": customer.name
        }
        return subject, "\n".join([intro, *lines])


@service("instrument.remind")
def instrument_remind_customer(
    *, customer: Customer, instrument_ids: list[int], today: dt.date | None = None, actor: Any
) -> int:
    """Remind one customer of their instruments falling due (R9.1: 30 days ahead) and note the
    due date each reminder was sent for, so that each due date is reminded once."""
    today = today or timezone.localdate()
    instruments = list(
        selectors.instruments_due_for_reminder(today)
        .select_for_update()
        .filter(customer=customer, pk__in=instrument_ids)
    )
    if not instruments:
        return 0
    subject, body = _reminder_text(customer, instruments)
    sent = customer_notify(
        customer=customer,
        event="instrument.due",
        subject=subject,
        body=body,
        payload={
            "customer": customer.code,
            "instruments": [
                {
                    "id": i.pk,
                    "name": i.name,
                    "serial_no": i.serial_no,
                    "next_due_date": i.next_due_date.isoformat(),
                }
                for i in instruments
            ],
        },
        related=customer,
        actor=actor,
    )
    if not sent:
        return 0
    for instrument in instruments:
        instrument.reminder_sent_for = instrument.next_due_date
        instrument.save(update_fields=["reminder_sent_for"])
    return len(instruments)


def instrument_send_due_reminders(today: dt.date | None = None) -> int:
    """Send the recalibration reminders due today (R9.1): every instrument due within 30 days
    (or overdue) whose reminder was not sent for its current due date, one notification per
    customer through the notification channels (R6.1c). Each customer is a service call of its
    own, so one failure does not hold back the others. Returns how many instruments were
    reminded. Run daily by `metrolab send_due_reminders` or the background task, as the
    system."""
    today = today or timezone.localdate()
    by_customer: dict[int, list[int]] = defaultdict(list)
    customers: dict[int, Customer] = {}
    for instrument in selectors.instruments_due_for_reminder(today):
        by_customer[instrument.customer_id].append(instrument.pk)
        customers[instrument.customer_id] = instrument.customer
    reminded = 0
    for customer_id, instrument_ids in by_customer.items():
        try:
            reminded += instrument_remind_customer(
                customer=customers[customer_id],
                instrument_ids=instrument_ids,
                today=today,
                actor=SYSTEM,
            )
        except ServiceError as exc:
            logger.warning("reminder for customer %s refused: %s", customer_id, exc.message)
    return reminded
