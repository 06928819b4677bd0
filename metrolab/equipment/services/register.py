"""The equipment register (R6.5a-c): registering an item of equipment, changing its entry, and
its status (合格 / 准用 / 限用 / 停用 / 维修 / 报废, with a reason; scrapped is final).

The entry's field rules live on the model (`Equipment`: fields, validators, clean()); the
services validate through them (`_common.validated`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from metrolab.core.permissions import person, require_roles
from metrolab.core.service import ServiceError, service
from metrolab.core.text import SHORT_TEXT, text_checked
from metrolab.core.validation import validated
from metrolab.equipment.errors import EquipmentRefusal
from metrolab.equipment.models import Equipment, LocationEvent, normalise_tag_uid
from metrolab.equipment.roles import EQUIPMENT_EDITORS
from metrolab.equipment.services._common import (
    S,
    locked,
    status_change,
    stripped,
)
from metrolab.equipment.services.control import out_of_control_problem
from metrolab.equipment.services.location import move

EQUIPMENT_TEXT_FIELDS = (
    "asset_no",
    "name",
    "model",
    "serial_no",
    "manufacturer",
    "range_text",
    "accuracy_text",
    "notes",
)
EQUIPMENT_FIELDS = frozenset(
    {
        *EQUIPMENT_TEXT_FIELDS,
        "kind",
        "discipline",
        "rfid_uid",
        "custodian",
        "purchase_date",
        "commissioning_date",
        "calibration_interval_months",
    }
)


def _entry_set(equipment: Equipment, values: dict) -> Equipment:
    """Put the given register values on `equipment` as the model keeps them (text without
    surrounding blanks, the tag UID normalised, defaults for what is left blank)."""
    unknown = set(values) - EQUIPMENT_FIELDS
    if unknown:
        raise TypeError(f"unknown equipment fields: {sorted(unknown)}")
    for name, value in values.items():
        if name in EQUIPMENT_TEXT_FIELDS:
            value = stripped(value)
        elif name == "kind":
            value = value or Equipment.Kind.STANDARD
        elif name == "rfid_uid":
            value = normalise_tag_uid(value or "") or None
        elif name == "calibration_interval_months" and value in (None, ""):
            value = 12
        setattr(equipment, name, value)
    return equipment


@service("equipment.create")
def equipment_create(
    *,
    actor: Any,
    status: str = S.IN_SERVICE,
    location: str = "",
    reason: str = "",
    **values: Any,
) -> Equipment:
    """Register an item of equipment (R6.5a-b): a reference standard or auxiliary equipment
    with its asset no. (unique), identification, range and accuracy, custodian, dates and
    calibration interval; optionally where it is (a first location event)."""
    require_roles(actor, EQUIPMENT_EDITORS)
    if status not in S.values or status == S.SCRAPPED:
        raise ServiceError(_("Choose the status it starts in."), field="status")
    location = stripped(location)
    equipment = _entry_set(Equipment(status=status, location=location), values)
    validated(equipment)
    equipment.location = ""
    equipment.save()
    if location:
        move(equipment, location, source=LocationEvent.Source.STAFF, by=person(actor))
    return equipment


@service("equipment.update")
def equipment_update(
    *, equipment: Equipment, actor: Any, reason: str = "", **values: Any
) -> Equipment:
    """Change the register entry of an item of equipment (not its status or location, which
    have their own services)."""
    require_roles(actor, EQUIPMENT_EDITORS)
    equipment = _entry_set(locked(equipment), values)
    validated(equipment)
    equipment.save()
    return equipment


def _return_to_service_problem(equipment: Equipment) -> str | None:
    """Equipment is returned to use only with a confirmed calibration in force (GB/T
    27025-2019 §6.4.4, JJF 1069-2012; `CalibrationQuerySet.in_force`): software and other
    equipment that is not calibrated excepted."""
    if equipment.kind == Equipment.Kind.SOFTWARE:
        return None
    if equipment.calibration_in_force() is None:
        return _(
            "%(equipment)s has no confirmed calibration in date: enter and confirm its "
            "calibration before returning it to use."
        ) % {"equipment": equipment}
    return None


@service("equipment.set_status")
def equipment_set_status(
    *, equipment: Equipment, status: str, reason: str, actor: Any
) -> Equipment:
    """Change the status of an item of equipment (合格 / 准用 / 停用 / 维修 / 报废, R6.5c),
    with the reason (kept in the audit log and shown in its status history). Scrapping is
    final; returning to use needs a confirmed calibration in force."""
    require_roles(actor, EQUIPMENT_EDITORS)
    equipment = locked(equipment)
    if status not in S.values:
        raise ServiceError(_("Choose a status."), field="status")
    if not (reason or "").strip():
        raise ServiceError(_("Give the reason for the change of status."), field="reason")
    text_checked(reason.strip(), limit=SHORT_TEXT, field="reason", label=_("Reason"))
    if equipment.status == S.SCRAPPED:
        raise ServiceError(
            _("%(equipment)s is scrapped; its status cannot change any more.")
            % {"equipment": equipment},
            code=EquipmentRefusal.SCRAPPED,
            field="status",
        )
    if status == equipment.status:
        raise ServiceError(
            _("%(equipment)s is %(status)s already.")
            % {"equipment": equipment, "status": equipment.get_status_display()},
            field="status",
        )
    if status in Equipment.USABLE:
        problem = out_of_control_problem(equipment)
        if problem:
            raise ServiceError(problem, code=EquipmentRefusal.OUT_OF_CONTROL, field="status")
    if status in Equipment.USABLE and equipment.status not in Equipment.USABLE:
        problem = _return_to_service_problem(equipment)
        if problem:
            raise ServiceError(problem, code=EquipmentRefusal.CALIBRATION_REQUIRED, field="status")
    status_change(equipment, status, reason=reason.strip(), actor=actor)
    return equipment
