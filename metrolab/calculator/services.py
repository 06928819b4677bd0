"""Writes of the calculator: saving an uncertainty evaluation (R6.2a). Audited."""

from __future__ import annotations

import secrets
from typing import Any

from django.utils.translation import gettext as _

from metrolab.calculator.models import Evaluation
from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import holds, person
from metrolab.core.roles import LAB_STAFF
from metrolab.core.service import ServiceError, service
from metrolab.core.text import NAME, UNIT, text_checked
from metrolab.metrology import calculator


def _units(spec: dict) -> dict[str, str]:
    units = spec.get("units") or {}
    if not isinstance(units, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in units.items()
    ):
        raise ServiceError(_("Units must be given as name: unit."), field="units")
    for name, unit in units.items():
        text_checked(unit, limit=UNIT, field="units", label=name)
    return units


@service("calculator.evaluation_save")
def evaluation_save(
    *, name: str, spec: dict, measurement_standard=None, actor: Any, reason: str = ""
) -> Evaluation:
    """Calculate `spec` and keep it with its result under `name`, by `actor` (a member of the
    lab staff), optionally for a measurement standard. A Monte Carlo run without a seed gets
    one, so that the saved result can be reproduced from the saved input."""
    if not holds(actor, LAB_STAFF):
        raise ServiceError(_("You are not allowed to do this."), code=CoreRefusal.FORBIDDEN)
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("Give the evaluation a name to save it."), field="save_name")
    text_checked(name, limit=NAME, field="save_name", label=_("Name of the evaluation"))
    spec = dict(spec)
    _units(spec)
    if spec.get("method") == "mc" and spec.get("seed") is None:
        spec["seed"] = secrets.randbelow(2**63)
    try:
        result = calculator.calc_uncertainty(spec)
    except calculator.CalculationError as exc:
        raise ServiceError(
            f"{exc.field}: {exc.message}" if exc.field else exc.message, field="json"
        ) from None
    return Evaluation.objects.create(
        name=name,
        spec=spec,
        result=result,
        order=Evaluation.key_order(spec, result),
        author=person(actor),
        measurement_standard=measurement_standard,
    )
