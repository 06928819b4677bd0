"""Intermediate checks (期间核查, GB/T 27025-2019 §6.4.10): the plans (what is checked, how
often, the chart's centre line and limits) and the results, judged by the control-chart tests
(`control_chart`); a broken test puts the equipment out of control (`control`) and alerts the
equipment managers and the custodian. The plan's and the result's field rules live on the
models (`IntermediateCheckPlan`: validators and clean(); `IntermediateCheckResult`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from metrolab.core.permissions import require_person, require_roles
from metrolab.core.service import ServiceError, service
from metrolab.core.validation import validated
from metrolab.equipment import charts, control_chart
from metrolab.equipment.errors import EquipmentRefusal
from metrolab.equipment.models import Equipment, IntermediateCheckPlan, IntermediateCheckResult
from metrolab.equipment.roles import CHECK_RECORDERS, EQUIPMENT_EDITORS
from metrolab.equipment.services._common import (
    alert,
    locked,
    not_scrapped,
    number_input,
    stripped,
    today,
)
from metrolab.equipment.services.control import check_result_judged

CHECK_FAILED_EVENT = "equipment.check_failed"

PLAN_TEXT_FIELDS = ("quantity", "method", "check_standard", "unit")
PLAN_NUMBER_FIELDS = (
    "reference_value",
    "lower_limit",
    "upper_limit",
    "lower_warning",
    "upper_warning",
)
PLAN_FIELDS = frozenset(
    {*PLAN_TEXT_FIELDS, *PLAN_NUMBER_FIELDS, "interval_days", "first_due", "active"}
)


def _plan_set(plan: IntermediateCheckPlan, values: dict) -> IntermediateCheckPlan:
    """Put the given plan values on `plan` as the model keeps them (defaults for what is left
    blank: every 90 days, first due today, active)."""
    unknown = set(values) - PLAN_FIELDS
    if unknown:
        raise TypeError(f"unknown plan fields: {sorted(unknown)}")
    for name, value in values.items():
        if name in PLAN_TEXT_FIELDS:
            value = stripped(value)
        elif name in PLAN_NUMBER_FIELDS:
            value = number_input(value)
        elif name == "interval_days" and value in (None, ""):
            value = 90
        elif name == "first_due":
            value = value or today()
        elif name == "active":
            value = True if value is None else bool(value)
        setattr(plan, name, value)
    return plan


@service("equipment.check_plan_create")
def equipment_check_plan_create(
    *, equipment: Equipment, actor: Any, reason: str = "", **values: Any
) -> IntermediateCheckPlan:
    """Plan the intermediate checks (期间核查) of an item of equipment: the quantity checked,
    how and with what check standard, how often, and the chart's centre line and limits."""
    require_roles(actor, EQUIPMENT_EDITORS)
    equipment = locked(equipment)
    not_scrapped(equipment)
    plan = _plan_set(IntermediateCheckPlan(equipment=equipment), values)
    validated(plan, constraints=False)
    plan.save()
    return plan


@service("equipment.check_plan_update")
def equipment_check_plan_update(
    *, plan: IntermediateCheckPlan, actor: Any, reason: str = "", **values: Any
) -> IntermediateCheckPlan:
    """Change a plan (e.g. new limits after a recalibration, or stop it with active=False).
    Results already recorded keep the judgement they were given."""
    require_roles(actor, EQUIPMENT_EDITORS)
    plan = _plan_set(IntermediateCheckPlan.objects.select_for_update().get(pk=plan.pk), values)
    validated(plan, constraints=False)
    plan.save()
    return plan


@service("equipment.check_result_add")
def equipment_check_result_add(
    *,
    plan: IntermediateCheckPlan,
    date: dt.date,
    value: Any,
    actor: Any,
    note: str = "",
    reason: str = "",
) -> IntermediateCheckResult:
    """Record an intermediate check and judge it on the control chart (ISO 7870-2 tests 1, 2,
    3 and 5, `control_chart`): the result keeps whether it is in control and the tests it
    broke. A broken test alerts the equipment managers and the equipment's custodian."""
    user = require_person(actor, CHECK_RECORDERS)
    plan = (
        IntermediateCheckPlan.objects.select_for_update()
        .select_related("equipment")
        .get(pk=plan.pk)
    )
    equipment = plan.equipment
    not_scrapped(equipment)
    if not plan.active:
        raise ServiceError(_("This check plan is not active."), code=EquipmentRefusal.INACTIVE)
    result = IntermediateCheckResult(
        plan=plan,
        date=date,
        value=number_input(value),
        performed_by=user,
        passed=True,
        note=stripped(note),
    )
    validated(result)
    previous = list(plan.results.order_by("date", "pk"))
    if previous and date < previous[-1].date:
        raise ServiceError(
            _("Results are entered in order: the last one is of %(date)s.")
            % {"date": previous[-1].date.isoformat()},
            field="date",
        )
    rules = control_chart.rules_broken(
        [r.value for r in previous] + [result.value], charts.plan_limits(plan)
    )
    result.passed = not rules
    result.rules_broken = charts.rules_stored(rules)
    result.save()
    equipment = locked(equipment)
    check_result_judged(equipment, result, actor=user)
    if rules:
        value = result.value
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Intermediate check out of control: %(equipment)s") % {
                "equipment": equipment
            }
            body = _(
                "%(quantity)s on %(date)s: %(value)s %(unit)s (centre line %(centre)s, limits "
                "%(low)s – %(high)s). Broken: %(rules)s."
            ) % {
                "quantity": plan.quantity,
                "date": date.isoformat(),
                "value": f"{value.normalize():f}",
                "unit": plan.unit,
                "centre": f"{plan.reference_value.normalize():f}",
                "low": f"{plan.lower_limit.normalize():f}",
                "high": f"{plan.upper_limit.normalize():f}",
                "rules": charts.rules_text(result.rules_broken),
            }
        alert(
            equipment,
            event=CHECK_FAILED_EVENT,
            subject=subject,
            body=body,
            related=result,
            actor=actor,
        )
    return result
