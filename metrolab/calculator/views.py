"""The uncertainty calculator page (不确定度评定): model and inputs in, budget table and — for
Monte Carlo — a histogram with the coverage interval out. An evaluation can be saved (named,
optionally for a measurement standard), reopened and printed as a budget table (PDF)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from metrolab.calculator import messages as refusals
from metrolab.calculator import selectors, services
from metrolab.calculator.examples import EXAMPLES
from metrolab.calculator.forms import (
    EvaluationFilterForm,
    InputRowFormSet,
    SaveEvaluationForm,
    UncertaintyForm,
    pretty_json,
    spec_to_initial,
)
from metrolab.calculator.pdf import evaluation_pdf
from metrolab.calculator.plots import histogram_svg
from metrolab.core.access import allow
from metrolab.core.pages import query_without_page
from metrolab.core.refusals import refusal_on_form
from metrolab.core.roles import LAB_STAFF
from metrolab.core.service import ServiceError
from metrolab.metrology import calculator

PAGE_SIZE = 25


def outputs_for_display(result: dict, units: dict | None = None) -> list[dict]:
    """Each output as the pages and the PDF show it: the reported value, U and coverage
    interval rounded together (calculator.display), units, the budget with each input's
    share of the variance."""
    units = units or {}
    shown = calculator.display(result)
    outputs = []
    for name, output in result["outputs"].items():
        variance = sum(row["contribution"] ** 2 for row in output.get("budget", [])) or 1.0
        budget = [
            row
            | {
                "share": 100 * row["contribution"] ** 2 / variance,
                "unit": units.get(row["input"], ""),
            }
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
                "unit": units.get(name, ""),
                "raw": output,
                "shown": shown[name],
                "budget": budget,
                "histogram": histogram,
            }
        )
    return outputs


def _spec_from_post(request, form, rows) -> tuple[dict | None, str | None]:
    json_text = request.POST.get("json", "").strip()
    if json_text:
        try:
            return json.loads(json_text), None
        except json.JSONDecodeError as exc:
            return None, _("The JSON is not valid (line %(line)s: %(msg)s).") % {
                "line": exc.lineno,
                "msg": exc.msg,
            }
    if not (form.is_valid() and rows.is_valid()):
        return None, _("Check the highlighted fields.")
    inputs, units = {}, {}
    try:
        for row in rows:
            item = row.to_spec()
            if item:
                inputs[item[0]] = item[1]
                if row.unit_text():
                    units[item[0]] = row.unit_text()
    except ValidationError as exc:
        return None, " ".join(getattr(exc, "messages", [str(exc)]))
    return form.to_spec(inputs, units), None


@allow(roles=LAB_STAFF)
def uncertainty(request):
    example = EXAMPLES.get(request.GET.get("example", ""))
    reopened = None
    if request.GET.get("evaluation", "").isdigit():
        reopened = selectors.evaluation_get(int(request.GET["evaluation"]))
    result = error = None
    spec = None
    save_form = SaveEvaluationForm(request.POST or None)
    if request.method == "POST":
        form = UncertaintyForm(request.POST)
        rows = InputRowFormSet(request.POST, prefix="inputs")
        spec, error = _spec_from_post(request, form, rows)
        if spec is not None and error is None and "save" in request.POST and save_form.is_valid():
            try:
                evaluation = services.evaluation_save(
                    name=save_form.cleaned_data["save_name"],
                    spec=spec,
                    measurement_standard=save_form.cleaned_data["measurement_standard"],
                    actor=request.user,
                )
            except ServiceError as exc:
                refusal_on_form(save_form, exc)
            else:
                messages.success(request, _("The evaluation was saved."))
                return redirect("calculator:evaluation", pk=evaluation.pk)
        if spec is not None and error is None:
            try:
                result = calculator.calc_uncertainty(spec)
            except calculator.CalculationError as exc:
                error = refusals.describe(exc, spec)
    else:
        source = reopened.ordered_spec if reopened else (example["spec"] if example else None)
        initial, row_initial = spec_to_initial(source) if source else ({}, [])
        form = UncertaintyForm(initial=initial)
        rows = InputRowFormSet(prefix="inputs", initial=row_initial or [{}, {}, {}])
        if reopened:
            save_form = SaveEvaluationForm(
                initial={
                    "save_name": reopened.name,
                    "measurement_standard": reopened.measurement_standard_id,
                }
            )
    units = (spec or {}).get("units") if isinstance(spec, dict) else None
    return render(
        request,
        "calculator/uncertainty.html",
        {
            "form": form,
            "rows": rows,
            "save_form": save_form,
            "examples": EXAMPLES,
            "example": example,
            "reopened": reopened,
            "error": error,
            "result": result,
            "outputs": outputs_for_display(result, units if isinstance(units, dict) else None)
            if result
            else [],
            "spec_json": pretty_json(spec) if spec else "",
            "result_json": json.dumps(result, ensure_ascii=False, indent=2) if result else "",
        },
    )


@allow(roles=LAB_STAFF)
def evaluation_list(request):
    """Saved evaluations, newest first; `?standard=` those of one measurement standard."""
    form = EvaluationFilterForm(request.GET or None)
    standard = form.cleaned_data["standard"] if form.is_valid() else None
    page = Paginator(selectors.evaluation_list(measurement_standard=standard), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "calculator/evaluation_list.html",
        {
            "page": page,
            "standard": standard,
            "filter_form": form,
            "query": query_without_page(request),
        },
    )


def _evaluation_or_404(pk: int):
    evaluation = selectors.evaluation_get(pk)
    if evaluation is None:
        raise Http404
    return evaluation


@allow(roles=LAB_STAFF)
def evaluation_detail(request, pk: int):
    evaluation = _evaluation_or_404(pk)
    spec, result = evaluation.ordered_spec, evaluation.ordered_result
    return render(
        request,
        "calculator/evaluation_detail.html",
        {
            "evaluation": evaluation,
            "spec": spec,
            "result": result,
            "outputs": outputs_for_display(result, spec.get("units")),
            "spec_json": pretty_json(spec),
            "result_json": json.dumps(result, ensure_ascii=False, indent=2),
        },
    )


@allow(roles=LAB_STAFF)
def evaluation_pdf_view(request, pk: int):
    """The evaluation printed as a budget table (A4 PDF)."""
    evaluation = _evaluation_or_404(pk)
    spec, result = evaluation.ordered_spec, evaluation.ordered_result
    pdf = evaluation_pdf(evaluation, spec, result, outputs_for_display(result, spec.get("units")))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="evaluation-{evaluation.pk}.pdf"'
    return response
