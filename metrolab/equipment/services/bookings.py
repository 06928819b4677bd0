"""Bookings of equipment (预约): overlaps are refused under the equipment's row lock, so two
people cannot both take the same hour. The booking's field rules (it ends after it starts,
lasts at most `Booking.MAX_BOOKING`, its purpose) live on the model."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import holds, require_person
from metrolab.core.service import ServiceError, service
from metrolab.core.validation import validated
from metrolab.equipment.errors import EquipmentRefusal
from metrolab.equipment.models import Booking, Equipment
from metrolab.equipment.roles import BOOKERS, EQUIPMENT_EDITORS
from metrolab.equipment.services._common import locked, stripped

MAX_BOOKING = Booking.MAX_BOOKING


def booking_overlaps(equipment: Equipment, starts_at: dt.datetime, ends_at: dt.datetime):
    """Live bookings of the equipment that share some time with [starts_at, ends_at)."""
    return Booking.objects.filter(
        equipment=equipment, cancelled=False, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).select_related("user")


@service("equipment.booking_create")
def equipment_booking_create(
    *,
    equipment: Equipment,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    actor: Any,
    purpose: str = "",
    user: Any = None,
    reason: str = "",
) -> Booking:
    """Book equipment for a period (预约). Refused when it overlaps another live booking: the
    check and the new booking happen under the equipment's row lock, so two people cannot
    both take the same hour. Equipment that is not usable cannot be booked."""
    person = require_person(actor, BOOKERS)
    user = user or person
    if user.pk != person.pk and not holds(person, EQUIPMENT_EDITORS):
        raise ServiceError(
            _("You may book only for yourself."), code=CoreRefusal.FORBIDDEN, field="user"
        )
    equipment = locked(equipment)
    if equipment.status not in Equipment.USABLE:
        raise ServiceError(
            _("%(equipment)s is %(status)s: it cannot be booked.")
            % {"equipment": equipment, "status": equipment.get_status_display()},
            code=EquipmentRefusal.NOT_USABLE,
            field="equipment",
        )
    if starts_at is None or ends_at is None:
        raise ServiceError(_("Give the start and the end of the booking."), field="starts_at")
    booking = Booking(
        equipment=equipment,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        purpose=stripped(purpose),
    )
    validated(booking, constraints=False)
    if ends_at <= timezone.now():
        raise ServiceError(_("This period is over already."), field="starts_at")
    clash = booking_overlaps(equipment, starts_at, ends_at).order_by("starts_at").first()
    if clash is not None:
        start, end = timezone.localtime(clash.starts_at), timezone.localtime(clash.ends_at)
        raise ServiceError(
            _("%(equipment)s is booked by %(user)s from %(start)s to %(end)s.")
            % {
                "equipment": equipment,
                "user": clash.user,
                "start": start.strftime("%Y-%m-%d %H:%M"),
                "end": end.strftime("%Y-%m-%d %H:%M"),
            },
            code=CoreRefusal.CONFLICT,
            field="starts_at",
        )
    booking.save()
    return booking


@service("equipment.booking_cancel")
def equipment_booking_cancel(*, booking: Booking, actor: Any, reason: str = "") -> Booking:
    """Cancel a booking that has not ended: one's own, or any for the equipment manager."""
    person = require_person(actor, BOOKERS)
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.user_id != person.pk and not holds(person, EQUIPMENT_EDITORS):
        raise ServiceError(_("You may cancel only your own bookings."), code=CoreRefusal.FORBIDDEN)
    if booking.cancelled:
        raise ServiceError(_("This booking is cancelled already."), code=CoreRefusal.CONFLICT)
    if booking.ends_at <= timezone.now():
        raise ServiceError(
            _("This booking is over; it cannot be cancelled."), code=CoreRefusal.CONFLICT
        )
    booking.cancelled = True
    booking.save(update_fields=["cancelled", "updated_at"])
    return booking
