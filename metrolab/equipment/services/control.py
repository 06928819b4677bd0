"""The out-of-control state (失控) of equipment: the one rule, applied only here.

An intermediate check breaking a control-chart test puts the equipment out of control; usable
equipment becomes restricted (限用), which forbids its use (bookings, assignment, starting a
task: `Equipment.USABLE`). A later in-control check (when no other active plan's latest check
is out of control) or a confirmed recalibration done after the failing check brings it back to
the status it had. Each status change is audited with its reason; every page and the API read
`Equipment.status` and `Equipment.out_of_control_check`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from metrolab.core.permissions import require_roles
from metrolab.core.service import service
from metrolab.core.text import SHORT_TEXT, excerpt
from metrolab.equipment import charts
from metrolab.equipment.models import Equipment, EquipmentCalibration, IntermediateCheckResult
from metrolab.equipment.roles import EQUIPMENT_EDITORS
from metrolab.equipment.services._common import S, locked, status_change


def _failing_values(result: IntermediateCheckResult) -> dict:
    return {
        "quantity": result.plan.quantity,
        "date": result.date.isoformat(),
        "rules": charts.rules_text(result.rules_broken) or result.rules_broken,
    }


def out_of_control_reason(result: IntermediateCheckResult) -> str:
    """Why equipment is out of control, in the reader's language: which check broke which
    tests, and what brings it back."""
    return _(
        "Intermediate check of %(quantity)s on %(date)s out of control (%(rules)s): not to "
        "be used until an intermediate check is back in control or it is recalibrated."
    ) % _failing_values(result)


def _failing_results(equipment: Equipment) -> list[IntermediateCheckResult]:
    """The latest result of each active plan of the equipment, where it is out of control."""
    failing = []
    for plan in equipment.check_plans.filter(active=True).order_by("pk"):
        last = plan.results.select_related("plan").order_by("-date", "-pk").first()
        if last is not None and not last.passed:
            failing.append(last)
    return failing


def _put_out_of_control(
    equipment: Equipment, result: IntermediateCheckResult, *, actor: Any
) -> None:
    """A check broke a control-chart test: usable equipment becomes restricted (限用), with
    the reason; equipment already unusable keeps its status but stays out of control."""
    if equipment.status in Equipment.USABLE:
        with translation.override(settings.LANGUAGE_CODE):
            reason = _(
                "Intermediate check of %(quantity)s on %(date)s out of control (%(rules)s): "
                "restricted until it is back in control or recalibrated."
            ) % _failing_values(result)
        status_change(
            equipment,
            S.RESTRICTED,
            reason=excerpt(reason, SHORT_TEXT),
            actor=actor,
            fields={
                "out_of_control_check": result,
                "status_before_restriction": equipment.status,
            },
        )
        return
    equipment.out_of_control_check = result
    equipment.save(update_fields=["out_of_control_check", "updated_at"])


def _back_in_control(equipment: Equipment, *, reason: str, actor: Any) -> None:
    """Leave the out-of-control state: restricted equipment gets back the status it had
    (合格 or 准用), with the reason; other statuses (停用, 维修) stay as they are."""
    if equipment.out_of_control_check_id is None:
        return
    cleared = {"out_of_control_check": None, "status_before_restriction": ""}
    if equipment.status == S.RESTRICTED:
        before = equipment.status_before_restriction
        restored = before if before in Equipment.USABLE else S.IN_SERVICE
        status_change(
            equipment,
            restored,
            reason=excerpt(reason, SHORT_TEXT),
            actor=actor,
            fields=cleared,
        )
        return
    for name, value in cleared.items():
        setattr(equipment, name, value)
    equipment.save(update_fields=[*cleared, "updated_at"])


def check_result_judged(
    equipment: Equipment, result: IntermediateCheckResult, *, actor: Any
) -> None:
    """Apply the rule after a check result (called by `equipment_check_result_add`, and by the
    demo for the results it seeds): out of control, still out of control through another
    plan, or back in control."""
    if not result.passed:
        _put_out_of_control(equipment, result, actor=actor)
        return
    if equipment.out_of_control_check_id is None:
        return
    failing = _failing_results(equipment)
    if failing:
        equipment.out_of_control_check = failing[-1]
        equipment.save(update_fields=["out_of_control_check", "updated_at"])
        return
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Intermediate check of %(quantity)s on %(date)s back in control.") % {
            "quantity": result.plan.quantity,
            "date": result.date.isoformat(),
        }
    _back_in_control(equipment, reason=reason, actor=actor)


def recalibrated(equipment: Equipment, calibration: EquipmentCalibration, *, actor: Any) -> None:
    """A confirmed calibration done on or after the failing check brings the equipment back
    into control."""
    failing = equipment.out_of_control_check
    if failing is None or calibration.date < failing.date:
        return
    with translation.override(settings.LANGUAGE_CODE):
        reason = _(
            "Recalibrated: calibration %(no)s of %(date)s confirmed after the intermediate "
            "check of %(quantity)s on %(check_date)s was out of control."
        ) % {
            "no": calibration.certificate_no,
            "date": calibration.date.isoformat(),
            "quantity": failing.plan.quantity,
            "check_date": failing.date.isoformat(),
        }
    _back_in_control(equipment, reason=reason, actor=actor)


@service("equipment.control_reconcile", record_calls=False)
def equipment_control_reconcile(*, actor: Any, reason: str = "") -> list[Equipment]:
    """Apply the out-of-control rule to checks recorded before it existed (after an upgrade):
    equipment whose active plan's latest check is out of control, with no confirmed
    calibration done on or after that check, is put out of control — restricted if it was
    usable — audited with the reason. Equipment already in that state is left alone. Returns
    the equipment it changed (`metrolab equipment_control`, as the system)."""
    require_roles(actor, EQUIPMENT_EDITORS)
    changed = []
    candidates = Equipment.objects.exclude(status=S.SCRAPPED).filter(
        out_of_control_check__isnull=True
    )
    for equipment in candidates.order_by("pk"):
        failing = _failing_results(equipment)
        if not failing:
            continue
        latest = max(failing, key=lambda r: (r.date, r.pk))
        if equipment.calibrations.confirmed().filter(date__gte=latest.date).exists():
            continue
        equipment = locked(equipment)
        _put_out_of_control(equipment, latest, actor=actor)
        changed.append(equipment)
    return changed


def out_of_control_problem(equipment: Equipment) -> str | None:
    """Why out-of-control equipment may not be returned to use by a status change."""
    if equipment.out_of_control_check_id is None:
        return None
    return _(
        "%(equipment)s is out of statistical control: %(reason)s Record an intermediate check "
        "in control or confirm a new calibration."
    ) % {"equipment": equipment, "reason": out_of_control_reason(equipment.out_of_control_check)}
