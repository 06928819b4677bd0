"""The equipment's own calibrations (溯源, R6.5c): entering a calibration with its results as
data (points: nominal value, unit, correction, U, k) and its certificate, and the metrological
confirmation (计量确认) without which it does not count (JJF 1069-2012 §5.3, GB/T 27025-2019
§6.4.4). Which calibration counts on a day is `EquipmentCalibration.objects.counting(day)` /
`.in_force(day)`; the field rules of a calibration and of its points live on the models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from metrolab.core.documents import document_store
from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import person, require_roles
from metrolab.core.service import ServiceError, service
from metrolab.core.text import SHORT_TEXT, excerpt
from metrolab.core.validation import refusal, validated
from metrolab.equipment.errors import EquipmentRefusal
from metrolab.equipment.models import MAX_POINTS, CalibrationPoint, Equipment, EquipmentCalibration
from metrolab.equipment.roles import EQUIPMENT_EDITORS
from metrolab.equipment.services._common import (
    S,
    locked,
    not_scrapped,
    number_input,
    status_change,
    stripped,
    today,
)
from metrolab.equipment.services.control import recalibrated

POINT_FIELDS = ("nominal", "unit", "correction", "expanded_uncertainty", "coverage_factor")


def _point(raw: dict) -> CalibrationPoint:
    u = raw.get("expanded_uncertainty", raw.get("U"))
    k = raw.get("coverage_factor", raw.get("k"))
    return CalibrationPoint(
        nominal=number_input(raw.get("nominal")),
        unit=stripped(str(raw.get("unit") or "")),
        correction=number_input(raw.get("correction")),
        expanded_uncertainty=number_input(u),
        coverage_factor=number_input(2 if k in (None, "") else k),
    )


def points_problems(points: Iterable[dict]) -> tuple[list[CalibrationPoint], list[str]]:
    """The points, checked by the model's rules (CalibrationPoint), at most MAX_POINTS and
    each (nominal, unit) once: (points, problems), each problem naming its point and field."""
    checked: list[CalibrationPoint] = []
    problems: list[str] = []
    seen: set = set()
    for n, raw in enumerate(points, start=1):
        if n > MAX_POINTS:
            problems.append(_("At most %(n)d points per calibration.") % {"n": MAX_POINTS})
            break
        where = _("Point %(n)d") % {"n": n}
        point = _point(raw)
        try:
            validated(point, exclude=["calibration"])
        except ServiceError as exc:
            for name, messages in exc.errors.items():
                label = CalibrationPoint._meta.get_field(name).verbose_name if name else ""
                for message in messages:
                    problems.append(
                        f"{where}: {label}: {message}" if label else f"{where}: {message}"
                    )
            continue
        key = (point.nominal, point.unit)
        if key in seen:
            problems.append(
                _("%(point)s: %(nominal)s %(unit)s is given twice.")
                % {"point": where, "nominal": point.nominal, "unit": point.unit}
            )
        seen.add(key)
        checked.append(point)
    return checked, problems


@service("equipment.calibration_add")
def equipment_calibration_add(
    *,
    equipment: Equipment,
    certificate_no: str,
    body: str,
    date: dt.date,
    due_date: dt.date,
    actor: Any,
    points: Iterable[dict] = (),
    result_summary: str = "",
    upload: Any = None,
    reason: str = "",
) -> EquipmentCalibration:
    """Enter an external calibration / verification of the lab's equipment (R6.5c): the
    certificate no. and calibrating body, the dates, the results as data — at each point the
    nominal value, unit, correction, expanded uncertainty U and coverage factor k — and the
    certificate itself (PDF or image). It counts only once confirmed
    (`equipment_calibration_confirm`). Every field at fault is reported at once (the points'
    under "points")."""
    require_roles(actor, EQUIPMENT_EDITORS)
    equipment = locked(equipment)
    not_scrapped(equipment)
    calibration = EquipmentCalibration(
        equipment=equipment,
        certificate_no=stripped(certificate_no),
        body=stripped(body),
        date=date,
        due_date=due_date,
        result_summary=stripped(result_summary),
        entered_by=person(actor),
    )
    errors: dict[str, list[str]] = {}
    try:
        validated(calibration, constraints=False)
    except ServiceError as exc:
        errors.update(exc.errors)
        code = exc.code
    else:
        code = "invalid"
    checked, problems = points_problems(points)
    if problems:
        errors["points"] = problems
        code = "invalid"
    if errors:
        raise refusal(errors, code=code)
    document = document_store(upload, field="file") if upload is not None else None
    if document is not None:
        calibration.attach(document)
    calibration.save()
    for point in checked:
        point.calibration = calibration
        point.save()
    return calibration


@service("equipment.calibration_confirm")
def equipment_calibration_confirm(
    *,
    calibration: EquipmentCalibration,
    actor: Any,
    note: str,
    return_to_service: bool = False,
    reason: str = "",
) -> EquipmentCalibration:
    """Metrological confirmation (计量确认, JJF 1069-2012, GB/T 27025-2019 §6.4.4 and 6.4.7):
    the equipment manager states that the calibration results meet the need. Only confirmed
    calibrations count for use. When asked, equipment that was out of service or under repair
    returns to service with it."""
    require_roles(actor, EQUIPMENT_EDITORS)
    calibration = (
        EquipmentCalibration.objects.select_for_update()
        .select_related("equipment")
        .get(pk=calibration.pk)
    )
    equipment = locked(calibration.equipment)
    not_scrapped(equipment)
    if calibration.confirmed:
        raise ServiceError(
            _("This calibration has been confirmed already."), code=CoreRefusal.CONFLICT
        )
    if calibration.due_date < today():
        raise ServiceError(
            _("This calibration expired on %(due)s: it cannot be confirmed any more.")
            % {"due": calibration.due_date.isoformat()},
            code=EquipmentRefusal.EXPIRED,
        )
    note = stripped(note)
    if not note:
        raise ServiceError(
            _("State how the results meet the need (e.g. corrections within the limits)."),
            field="note",
        )
    calibration.confirmed_by = person(actor)
    calibration.confirmed_at = timezone.now()
    calibration.confirmation_note = note
    validated(calibration, constraints=False)
    calibration.save()
    recalibrated(equipment, calibration, actor=actor)
    if (
        return_to_service
        and equipment.status in (S.OUT_OF_SERVICE, S.UNDER_REPAIR)
        and not equipment.out_of_control
    ):
        with translation.override(settings.LANGUAGE_CODE):
            why = _("Calibration %(no)s confirmed: %(note)s") % {
                "no": calibration.certificate_no,
                "note": note,
            }
        status_change(equipment, S.IN_SERVICE, reason=excerpt(why, SHORT_TEXT), actor=actor)
    return calibration
