"""Measurement standards (计量标准装置, R6.8a): their certificate (计量标准考核证书), measurands,
ranges and uncertainty, the equipment composing them and the methods they serve. The
standard's field rules live on the model (`MeasurementStandard`: fields and clean())."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from metrolab.core.documents import document_store
from metrolab.core.permissions import require_roles
from metrolab.core.service import ServiceError, service
from metrolab.core.validation import validated
from metrolab.equipment.models import Equipment, MeasurementStandard
from metrolab.equipment.roles import EQUIPMENT_EDITORS
from metrolab.equipment.services._common import S, stripped

STANDARD_TEXT_FIELDS = (
    "name",
    "certificate_no",
    "certificate_issuer",
    "measurands",
    "range_text",
    "uncertainty_text",
)
STANDARD_FIELDS = frozenset(
    {
        *STANDARD_TEXT_FIELDS,
        "certificate_issued",
        "certificate_expiry",
        "discipline",
        "custodian",
        "active",
    }
)


def _standard_set(standard: MeasurementStandard, values: dict) -> MeasurementStandard:
    unknown = set(values) - STANDARD_FIELDS
    if unknown:
        raise TypeError(f"unknown standard fields: {sorted(unknown)}")
    for name, value in values.items():
        if name in STANDARD_TEXT_FIELDS:
            value = stripped(value)
        elif name == "active":
            value = True if value is None else bool(value)
        setattr(standard, name, value)
    return standard


def _standard_equipment_checked(equipment: Iterable[Equipment]) -> list[Equipment]:
    chosen = list(Equipment.objects.filter(pk__in={e.pk for e in equipment}).order_by("pk"))
    scrapped = [e for e in chosen if e.status == S.SCRAPPED]
    if scrapped:
        raise ServiceError(
            _("Scrapped equipment cannot compose a standard: %(list)s.")
            % {"list": ", ".join(str(e) for e in scrapped)},
            field="equipment",
        )
    return chosen


@service("measurement_standard.create")
def measurement_standard_create(
    *,
    actor: Any,
    equipment: Iterable[Equipment] = (),
    methods: Iterable[Any] = (),
    upload: Any = None,
    reason: str = "",
    **values: Any,
) -> MeasurementStandard:
    """Register a measurement standard (计量标准装置, R6.8a): its certificate (计量标准考核
    证书) no., issuer, dates and the certificate file, its measurands, ranges and uncertainty,
    the equipment composing it and the methods it serves."""
    require_roles(actor, EQUIPMENT_EDITORS)
    standard = validated(_standard_set(MeasurementStandard(), values))
    chosen = _standard_equipment_checked(equipment)
    methods = list(methods)
    document = document_store(upload, field="file") if upload is not None else None
    if document is not None:
        standard.attach(document)
    standard.save()
    standard.equipment.set(chosen)
    standard.methods.set(methods)
    return standard


@service("measurement_standard.update")
def measurement_standard_update(
    *,
    standard: MeasurementStandard,
    actor: Any,
    equipment: Iterable[Equipment] | None = None,
    methods: Iterable[Any] | None = None,
    upload: Any = None,
    reason: str = "",
    **values: Any,
) -> MeasurementStandard:
    """Change a measurement standard: its fields, composing equipment, methods (None: kept)
    and a new certificate file (e.g. after its re-examination)."""
    require_roles(actor, EQUIPMENT_EDITORS)
    standard = MeasurementStandard.objects.select_for_update().get(pk=standard.pk)
    validated(_standard_set(standard, values))
    chosen = _standard_equipment_checked(equipment) if equipment is not None else None
    methods = list(methods) if methods is not None else None
    document = document_store(upload, field="file") if upload is not None else None
    if document is not None:
        standard.attach(document)
    standard.save()
    if chosen is not None:
        standard.equipment.set(chosen)
    if methods is not None:
        standard.methods.set(methods)
    return standard
