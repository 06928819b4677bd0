"""What the equipment services share: reading the input, validating a row through its model's
rules, the equipment's row lock, the status write every sub-domain makes, and the alerts to the
equipment managers and the custodian."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.core.roles import EQUIPMENT_MANAGER
from metrolab.core.service import ServiceError, service
from metrolab.equipment.errors import EquipmentRefusal
from metrolab.equipment.models import Equipment

S = Equipment.Status


def today() -> dt.date:
    return timezone.localdate()


def stripped(value: Any) -> Any:
    """Text as the services keep it: without surrounding blanks (None: "")."""
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value


def number_input(value: Any) -> Any:
    """A number as typed: blanks and thousands separators dropped ("" → None), trailing zeros
    past the 9th decimal dropped; the model's field converts and checks it."""
    if isinstance(value, str):
        value = value.strip().replace(",", "") or None
    if isinstance(value, str | Decimal):
        try:
            number = Decimal(value)
        except (InvalidOperation, ValueError):
            return value  # the model's field refuses it
        exponent = number.as_tuple().exponent
        if number.is_finite() and isinstance(exponent, int) and exponent < -9:
            return number.normalize()
    return value


def decimal_value(value: Any, field: str, label: str) -> Decimal:
    """A decimal read from a query (the value a correction is asked for) as the models keep
    them (at most 9 decimals, 11 integer digits)."""
    if isinstance(value, Decimal):
        number = value
    else:
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except (InvalidOperation, ValueError):
            number = None
    if number is None or not number.is_finite():
        raise ServiceError(_("%(field)s must be a number.") % {"field": label}, field=field)
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -9:
        raise ServiceError(
            _("%(field)s has more than 9 decimal places.") % {"field": label}, field=field
        )
    if abs(number) >= Decimal(10) ** 11:
        raise ServiceError(_("%(field)s is too large.") % {"field": label}, field=field)
    return number


def not_scrapped(equipment: Equipment) -> None:
    if equipment.status == S.SCRAPPED:
        raise ServiceError(
            _("%(equipment)s is scrapped: nothing more can be recorded on it.")
            % {"equipment": equipment},
            code=EquipmentRefusal.SCRAPPED,
        )


def locked(equipment: Equipment) -> Equipment:
    """The equipment's row, locked until the transaction ends (PostgreSQL row lock; SQLite's
    IMMEDIATE transaction already holds the single write lock)."""
    return Equipment.objects.select_for_update().get(pk=equipment.pk)


def equipment_managers() -> list:
    """The active people holding the equipment manager role (alert recipients)."""
    User = get_user_model()
    return list(
        User.objects.filter(groups__name=EQUIPMENT_MANAGER, is_active=True)
        .distinct()
        .order_by("pk")
    )


def alert(
    equipment: Equipment, *, event: str, subject: str, body: str, related, actor: Any
) -> None:
    """Tell the equipment managers and the equipment's custodian (inbox and e-mail); `actor`
    is the one whose service call raised the alert."""
    from metrolab.notifications.services import notify

    recipients = {u.pk: u for u in equipment_managers()}
    if equipment.custodian_id and equipment.custodian.is_active:
        recipients.setdefault(equipment.custodian_id, equipment.custodian)
    url = reverse("equipment:detail", args=[equipment.pk])
    for user in recipients.values():
        notify(
            event=event,
            subject=subject,
            body=f"{body}\n{url}",
            recipient_user=user,
            channels={"email": user.email},
            payload={"equipment": equipment.asset_no, "url": url},
            related=related,
            actor=actor,
        )


@service("equipment.set_status")
def _status_write(
    *,
    equipment: Equipment,
    status: str,
    reason: str,
    actor: Any,
    fields: dict[str, Any] | None = None,
) -> None:
    """The status write itself, as its own audited step with its own reason (so that a status
    changed by a confirmation or a fault report shows why in the status history); `fields`
    written with it (the out-of-control state)."""
    equipment.status = status
    for name, value in (fields or {}).items():
        setattr(equipment, name, value)
    equipment.save(update_fields=["status", *(fields or {}), "updated_at"])


def status_change(
    equipment: Equipment,
    status: str,
    *,
    reason: str,
    actor: Any,
    fields: dict[str, Any] | None = None,
) -> None:
    _status_write(equipment=equipment, status=status, reason=reason, actor=actor, fields=fields)
