"""The uncertainty calculator page (不确定度评定): model and inputs in, budget table and — for
Monte Carlo — a histogram with the coverage interval out. Nothing is stored."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from metrolab.calculator import messages
from metrolab.calculator.examples import EXAMPLES
from metrolab.calculator.forms import (
    InputRowFormSet,
    UncertaintyForm,
    pretty_json,
    spec_to_initial,
)
from metrolab.calculator.plots import histogram_svg
from metrolab.core.access import allow
from metrolab.core.roles import LAB_STAFF
from metrolab.metrology import calculator


def _outputs_for_display(result: dict) -> list[dict]:
    shown = calculator.display(result)
    outputs = []
    for name, output in result["outputs"].items():
        variance = sum(row["contribution"] ** 2 for row in output.get("budget", [])) or 1.0
        budget = [
            row | {"share": 100 * row["contribution"] ** 2 / variance}
            for row in output.get("budget", [])
        ]
        histogram = None
        if "histogram" in output:
            gum_interval = output.get("gum", {}).get("interval")
            histogram = mark_safe(  # noqa: S308 - built from numbers, text escaped
                histogram_svg(
                    output["histogram"]["edges"],
                    output["histogram"]["counts"],
                    output["interval"],
                    gum_interval,
                    label=name,
                )
            )
        outputs.append(
            {
                "name": name,
                "raw": output,
                "shown": shown[name],
                "budget": budget,
                "histogram": histogram,
            }
        )
    return outputs


@allow(roles=LAB_STAFF)
def uncertainty(request):
    example = EXAMPLES.get(request.GET.get("example", ""))
    result = error = None
    spec = None
    if request.method == "POST":
        form = UncertaintyForm(request.POST)
        rows = InputRowFormSet(request.POST, prefix="inputs")
        json_text = request.POST.get("json", "").strip()
        if json_text:
            try:
                spec = json.loads(json_text)
            except json.JSONDecodeError as exc:
                error = _("The JSON is not valid (line %(line)s: %(msg)s).") % {
                    "line": exc.lineno,
                    "msg": exc.msg,
                }
        elif form.is_valid() and rows.is_valid():
            inputs = {}
            try:
                for row in rows:
                    item = row.to_spec()
                    if item:
                        inputs[item[0]] = item[1]
            except ValidationError as exc:
                error = " ".join(getattr(exc, "messages", [str(exc)]))
            if not error:
                spec = form.to_spec(inputs)
        else:
            error = _("Check the highlighted fields.")
        if spec is not None and error is None:
            try:
                result = calculator.calc_uncertainty(spec)
            except calculator.CalculationError as exc:
                error = messages.describe(exc, spec)
    else:
        initial, row_initial = spec_to_initial(example["spec"]) if example else ({}, [])
        form = UncertaintyForm(initial=initial)
        rows = InputRowFormSet(prefix="inputs", initial=row_initial or [{}, {}, {}])
    return render(
        request,
        "calculator/uncertainty.html",
        {
            "form": form,
            "rows": rows,
            "examples": EXAMPLES,
            "example": example,
            "error": error,
            "result": result,
            "outputs": _outputs_for_display(result) if result else [],
            "spec_json": pretty_json(spec) if spec else "",
            "result_json": json.dumps(result, ensure_ascii=False, indent=2) if result else "",
        },
    )
