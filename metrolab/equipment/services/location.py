"""Where equipment is (R8c): said by a member of the lab, or seen by an RFID zone reader posting
the tag UID and its zone. The location's and the reader name's rules live on the models
(`Equipment.location`, `LocationEvent`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import person, require_person, require_roles
from metrolab.core.service import ServiceError, service
from metrolab.core.validation import validated
from metrolab.equipment.models import Equipment, LocationEvent, normalise_tag_uid
from metrolab.equipment.roles import LOCATION_POSTERS, LOCATORS
from metrolab.equipment.services._common import locked, stripped

# A reader reporting the same tag in the same zone again within this window writes nothing.
READER_REPEAT_WINDOW = dt.timedelta(minutes=10)


def _event(equipment: Equipment | None, location: str, *, source: str, by=None, reader=""):
    """A location event checked by its model's rules (without the equipment: before it is
    looked up)."""
    event = LocationEvent(
        equipment=equipment,
        location=stripped(location),
        at=timezone.now(),
        source=source,
        by=by,
        reader=stripped(reader),
    )
    return validated(event, exclude=["equipment"] if equipment is None else None)


def move(equipment: Equipment, location: str, *, source: str, by=None, reader: str = ""):
    """Record that `equipment` is at `location` now: a location event, and its location."""
    event = _event(equipment, location, source=source, by=by, reader=reader)
    event.save()
    equipment.location = event.location
    equipment.location_updated_at = event.at
    equipment.save(update_fields=["location", "location_updated_at", "updated_at"])
    return event


@service("equipment.locate")
def equipment_locate(
    *, equipment: Equipment, location: str, actor: Any, reason: str = ""
) -> LocationEvent:
    """Say where an item of equipment is now (R8c), as a member of the lab."""
    user = require_person(actor, LOCATORS)
    _event(None, location, source=LocationEvent.Source.STAFF, by=user)
    equipment = locked(equipment)
    return move(equipment, location, source=LocationEvent.Source.STAFF, by=user)


@service("equipment.locate_by_tag", record_calls=False)
def equipment_locate_by_tag(*, uid: str, location: str, reader: str, actor: Any) -> LocationEvent:
    """An RFID zone reader saw the tag `uid` in `location` (R8c): a location event from the
    reader, and the equipment's location. The same reader reporting the same tag in the same
    place again within a few minutes writes nothing (readers repeat themselves). An unknown
    UID is refused (code "not_found"). The reader's device token acts, or the system."""
    require_roles(actor, LOCATION_POSTERS)
    location, reader = stripped(location), stripped(reader)
    _event(None, location, source=LocationEvent.Source.READER, by=person(actor), reader=reader)
    key = normalise_tag_uid(uid)
    equipment = Equipment.objects.select_for_update().filter(rfid_uid=key).first() if key else None
    if equipment is None:
        raise ServiceError(
            _("No equipment carries the tag %(uid)s.") % {"uid": key or uid},
            code=CoreRefusal.NOT_FOUND,
            field="uid",
        )
    last = equipment.location_events.order_by("-at", "-pk").first()
    if (
        last is not None
        and equipment.location == location
        and last.location == location
        and last.source == LocationEvent.Source.READER
        and last.reader == reader
        and timezone.now() - last.at < READER_REPEAT_WINDOW
    ):
        return last
    return move(
        equipment,
        location,
        source=LocationEvent.Source.READER,
        by=person(actor),
        reader=reader,
    )
