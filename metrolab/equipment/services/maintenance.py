"""Maintenance, faults and repairs of equipment (维护 / 故障 / 维修, R6.5c). Anyone of the lab
may report a fault and take the equipment out of service with it (GB/T 27025-2019 §6.4.9); the
equipment managers and the custodian are told of every fault. The record's field rules live on
the model (`MaintenanceRecord`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from metrolab.core.permissions import require_person
from metrolab.core.service import ServiceError, service
from metrolab.core.text import SHORT_TEXT, excerpt
from metrolab.core.validation import validated
from metrolab.equipment.models import Equipment, MaintenanceRecord
from metrolab.equipment.roles import FAULT_REPORTERS, MAINTAINERS
from metrolab.equipment.services._common import (
    S,
    alert,
    locked,
    not_scrapped,
    status_change,
    stripped,
)

FAULT_EVENT = "equipment.fault_reported"


@service("equipment.maintenance_add")
def equipment_maintenance_add(
    *,
    equipment: Equipment,
    kind: str,
    date: dt.date,
    description: str,
    actor: Any,
    outcome: str = "",
    take_out_of_service: bool = False,
    reason: str = "",
) -> MaintenanceRecord:
    """Record maintenance, a fault or a repair (R6.5c). Anyone of the lab may report a fault
    and take the equipment out of service with it (GB/T 27025-2019 §6.4.9); the equipment
    managers and the custodian are told of every fault."""
    if kind not in MaintenanceRecord.Kind.values:
        raise ServiceError(_("Choose maintenance, fault or repair."), field="kind")
    fault = kind == MaintenanceRecord.Kind.FAULT
    user = require_person(actor, FAULT_REPORTERS if fault else MAINTAINERS)
    equipment = locked(equipment)
    not_scrapped(equipment)
    record = MaintenanceRecord(
        equipment=equipment,
        kind=kind,
        date=date,
        description=stripped(description),
        outcome=stripped(outcome),
        by=user,
    )
    validated(record)
    if take_out_of_service and not fault:
        raise ServiceError(
            _("Only a fault report takes equipment out of service here; use the status."),
            field="take_out_of_service",
        )
    record.save()
    description = record.description
    if take_out_of_service and equipment.status in (*Equipment.USABLE, S.RESTRICTED):
        with translation.override(settings.LANGUAGE_CODE):
            why = _("Fault reported: %(description)s") % {"description": description}
        status_change(equipment, S.OUT_OF_SERVICE, reason=excerpt(why, SHORT_TEXT), actor=user)
    if fault:
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Fault reported: %(equipment)s") % {"equipment": equipment}
            body = _("%(who)s on %(date)s: %(description)s. Status: %(status)s.") % {
                "who": user,
                "date": date.isoformat(),
                "description": description,
                "status": equipment.get_status_display(),
            }
        alert(equipment, event=FAULT_EVENT, subject=subject, body=body, related=record, actor=actor)
    return record
