"""The intermediate-check control chart of a plan, as the pages show it: the plan's limits and
results handed to the pure drawing of `control_chart`, and the tests named in the user's
language (ISO 7870-2:2013 numbering)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metrolab.equipment import control_chart
from metrolab.equipment.models import IntermediateCheckPlan

RULE_LABELS = {
    control_chart.TEST_BEYOND_LIMITS: gettext_lazy("test 1: a point beyond a control limit"),
    control_chart.TEST_RUN_ONE_SIDE: gettext_lazy(
        "test 2: nine points in a row on one side of the centre line"
    ),
    control_chart.TEST_TREND: gettext_lazy(
        "test 3: six points in a row steadily increasing or decreasing"
    ),
    control_chart.TEST_TWO_OF_THREE_BEYOND_2_SIGMA: gettext_lazy(
        "test 5: two of three points in a row beyond 2σ on the same side"
    ),
}


def rules_stored(rules: list[int]) -> str:
    """The broken tests as IntermediateCheckResult.rules_broken keeps them: "1,5"."""
    return ",".join(str(r) for r in rules)


def rules_parsed(stored: str) -> list[int]:
    return [int(part) for part in (stored or "").split(",") if part.strip().isdigit()]


def rules_text(stored: str) -> str:
    """The broken tests of a stored result, described ("test 1: ...; test 5: ...")."""
    return "; ".join(
        str(RULE_LABELS.get(rule, _("test %(n)d") % {"n": rule})) for rule in rules_parsed(stored)
    )


def plan_limits(plan: IntermediateCheckPlan) -> control_chart.Limits:
    return control_chart.Limits.of(
        plan.reference_value,
        plan.lower_limit,
        plan.upper_limit,
        plan.lower_warning,
        plan.upper_warning,
    )


def plan_chart_svg(plan: IntermediateCheckPlan, results=None) -> str:
    """The plan's control chart: its results in order, the ones that broke a test in red."""
    if results is None:
        results = plan.results.order_by("date", "pk")
    points = [
        control_chart.ChartPoint(
            label=f"{r.date:%m-%d}",
            value=r.value,
            broken=tuple(rules_parsed(r.rules_broken)),
        )
        for r in results
    ]
    return control_chart.chart_svg(
        points,
        plan_limits(plan),
        title=_("Control chart: %(quantity)s") % {"quantity": plan.quantity},
        unit=plan.unit,
        broken_caption=_("breaks test"),
    )
