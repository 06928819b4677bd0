"""Equipment pages (R6.5, R8c, R6.8a): the register with its status labels (green 合格,
yellow 准用, red 停用) and calibration due dates, an item's card (calibrations with their
points and confirmation, intermediate checks with their control chart, maintenance, usage,
bookings, location, the standards it composes), the forms of every write, the booking week
calendar and the measurement standards. Every page is for the lab's own people; the edits are
the equipment manager's (roles.py). Phone-friendly: the same pages serve the desk and the
mobile terminal (R6.12)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from metrolab.core.access import allow
from metrolab.core.documents import document_response
from metrolab.core.pages import back_to, holds, query_without_page
from metrolab.core.refusals import card_write
from metrolab.core.refusals import form_error_messages as _form_errors
from metrolab.core.refusals import refusal_message as _refused
from metrolab.core.refusals import refusal_on_form as _on_form
from metrolab.core.service import ServiceError
from metrolab.equipment import charts, selectors, services
from metrolab.equipment.filters import EquipmentFilter
from metrolab.equipment.forms import (
    BookingForm,
    CalibrationForm,
    CheckPlanForm,
    CheckResultForm,
    ConfirmForm,
    EquipmentCreateForm,
    EquipmentFilterForm,
    EquipmentForm,
    LocationForm,
    MaintenanceForm,
    PointFormSet,
    StandardFilterForm,
    StandardForm,
    StatusForm,
    UsageCloseForm,
    UsageFilterForm,
    UsageForm,
)
from metrolab.equipment.models import (
    Booking,
    Equipment,
    EquipmentCalibration,
    IntermediateCheckPlan,
    MaintenanceRecord,
    UsageRecord,
)
from metrolab.equipment.panels import detail_panels
from metrolab.equipment.roles import (
    BOOKERS,
    CHECK_RECORDERS,
    EQUIPMENT_EDITORS,
    EQUIPMENT_READERS,
    FAULT_REPORTERS,
    LOCATORS,
    MAINTAINERS,
    USAGE_RECORDERS,
)

PAGE_SIZE = 50
CHART_POINTS = 30  # the latest results drawn on a plan's chart
RESULT_ROWS = 10  # the latest results listed under it
LOG_ROWS = 10  # usage and location entries shown on the card (the rest: the usage page)
POINT_ROWS = 8  # empty point rows offered on the calibration form
MAX_POINT_ROWS = 60


# --- the register ---------------------------------------------------------------------------


@allow(roles=EQUIPMENT_READERS)
@require_GET
def equipment_list(request):
    """The register (R6.5a): status labels, calibration due (overdue in red), with filters."""
    form = EquipmentFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        _form_errors(request, form)
    # The API's filter (GET /api/v1/equipment/): the same rows for the same query.
    items = selectors.equipment_list(EquipmentFilter.from_query(request.GET))
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    for item in page:
        item.due_status = selectors.calibration_due_status(item)
    return render(
        request,
        "equipment/list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "can_edit": holds(request.user, EQUIPMENT_EDITORS),
        },
    )


@allow(roles=EQUIPMENT_EDITORS)
@require_http_methods(["GET", "POST"])
def equipment_create(request):
    form = EquipmentCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            equipment = services.equipment_create(
                actor=request.user,
                status=form.cleaned_data["status"],
                location=form.cleaned_data["location"],
                **form.values(),
            )
        except ServiceError as exc:
            _on_form(form, exc)
        else:
            messages.success(request, _("%(equipment)s registered.") % {"equipment": equipment})
            return redirect("equipment:detail", pk=equipment.pk)
    return render(
        request,
        "equipment/form.html",
        {"form": form, "title": _("New equipment"), "cancel": reverse("equipment:list")},
        status=422 if form.errors else 200,
    )


@allow(roles=EQUIPMENT_EDITORS)
@require_http_methods(["GET", "POST"])
def equipment_edit(request, pk: int):
    equipment = selectors.equipment_get(pk)
    form = EquipmentForm(request.POST or None, instance=equipment)
    if request.method == "POST" and form.is_valid():
        try:
            services.equipment_update(equipment=equipment, actor=request.user, **form.values())
        except ServiceError as exc:
            _on_form(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("equipment:detail", pk=equipment.pk)
    return render(
        request,
        "equipment/form.html",
        {
            "form": form,
            "title": _("Edit %(equipment)s") % {"equipment": equipment.asset_no},
            "equipment": equipment,
            "cancel": reverse("equipment:detail", args=[equipment.pk]),
        },
        status=422 if form.errors else 200,
    )


def _plans_shown(equipment, can_record: bool) -> list[dict]:
    plans = []
    for plan in selectors.check_plans_of(equipment):
        results = plan.ordered_results
        plans.append(
            {
                "plan": plan,
                "chart": mark_safe(charts.plan_chart_svg(plan, results[-CHART_POINTS:])),  # noqa: S308 - built from escaped parts
                "results": [
                    {"result": r, "rules": charts.rules_text(r.rules_broken)}
                    for r in reversed(results[-RESULT_ROWS:])
                ],
                "count": len(results),
                "next_due": plan.next_due(),
                "next_due_status": selectors.due_status(plan.next_due()),
                "form": CheckResultForm(prefix=f"plan{plan.pk}")
                if can_record and plan.active and equipment.status != Equipment.Status.SCRAPPED
                else None,
            }
        )
    return plans


@allow(roles=EQUIPMENT_READERS)
@require_GET
def equipment_detail(request, pk: int):
    """An item of equipment's card: every field, its status (with colour and history),
    calibrations with their points and confirmation, intermediate checks with the control
    chart, maintenance, usage, bookings, location and the standards it composes; what other
    apps add (`panels.detail_extenders`: the instrument connection)."""
    equipment = selectors.equipment_get(pk)
    user = request.user
    can_edit = holds(user, EQUIPMENT_EDITORS)
    scrapped = equipment.status == Equipment.Status.SCRAPPED
    maintenance_kinds = None if holds(user, MAINTAINERS) else [MaintenanceRecord.Kind.FAULT]
    calibrations = list(selectors.calibrations_of(equipment))
    context = {
        "equipment": equipment,
        "due": selectors.calibration_due_status(equipment),
        "out_of_control": selectors.out_of_control_reason(equipment),
        "status_history": selectors.status_history(equipment),
        "calibrations": calibrations,
        "plans": _plans_shown(equipment, holds(user, CHECK_RECORDERS)),
        "maintenance": list(selectors.maintenance_of(equipment)[:50]),
        "usage": list(selectors.usage_history(equipment=equipment)[:LOG_ROWS]),
        "open_usage": selectors.open_usage(equipment),
        "bookings": selectors.bookings_upcoming(equipment),
        "locations": list(selectors.location_history(equipment)[:LOG_ROWS]),
        "standards": equipment.standards.order_by("name"),
        "can_edit": can_edit,
        "scrapped": scrapped,
        "status_form": StatusForm() if can_edit and not scrapped else None,
        "confirm_form": ConfirmForm() if can_edit and not scrapped else None,
        "location_form": LocationForm() if holds(user, LOCATORS) else None,
        "maintenance_form": MaintenanceForm(kinds=maintenance_kinds)
        if holds(user, FAULT_REPORTERS) and not scrapped
        else None,
        "usage_form": UsageForm(initial={"started_at": timezone.localtime().replace(second=0)})
        if holds(user, USAGE_RECORDERS) and not scrapped
        else None,
        "close_form": UsageCloseForm(),
        "booking_form": BookingForm(equipment=equipment)
        if holds(user, BOOKERS) and equipment.status in Equipment.USABLE
        else None,
        "me": user,
        "today_date": timezone.localdate(),
        "panels": detail_panels(user, equipment),
    }
    return render(request, "equipment/detail.html", context)


@allow(roles=EQUIPMENT_EDITORS)
@require_POST
def equipment_status(request, pk: int):
    equipment = selectors.equipment_get(pk)
    card_write(
        request,
        StatusForm(request.POST),
        lambda data: services.equipment_set_status(
            equipment=equipment, status=data["status"], reason=data["reason"], actor=request.user
        ),
        success=lambda changed: (
            _("%(equipment)s: %(status)s.")
            % {"equipment": changed, "status": changed.get_status_display()}
        ),
    )
    return redirect("equipment:detail", pk=equipment.pk)


@allow(roles=LOCATORS)
@require_POST
def equipment_locate(request, pk: int):
    equipment = selectors.equipment_get(pk)
    card_write(
        request,
        LocationForm(request.POST),
        lambda data: services.equipment_locate(
            equipment=equipment, location=data["location"], actor=request.user
        ),
        success=lambda located: _("Location recorded: %(where)s.") % {"where": located.location},
    )
    return redirect("equipment:detail", pk=equipment.pk)


# --- calibrations ---------------------------------------------------------------------------


def _point_rows(request) -> int:
    try:
        rows = int(request.GET.get("rows", POINT_ROWS))
    except ValueError:
        rows = POINT_ROWS
    return max(1, min(rows, MAX_POINT_ROWS))


@allow(roles=EQUIPMENT_EDITORS)
@require_http_methods(["GET", "POST"])
def calibration_add(request, pk: int):
    """Enter a calibration with its results as data (points) and its certificate (R6.5c)."""
    equipment = selectors.equipment_get(pk)
    if equipment.status == Equipment.Status.SCRAPPED:
        messages.error(request, _("This equipment is scrapped."))
        return redirect("equipment:detail", pk=equipment.pk)
    if request.method == "POST":
        form = CalibrationForm(request.POST, request.FILES)
        points = PointFormSet(request.POST, prefix="points")
        if form.is_valid() and points.is_valid():
            data = form.cleaned_data
            try:
                services.equipment_calibration_add(
                    equipment=equipment,
                    certificate_no=data["certificate_no"],
                    body=data["body"],
                    date=data["date"],
                    due_date=data["due_date"],
                    result_summary=data["result_summary"],
                    points=[p for p in (f.point() for f in points.forms) if p],
                    upload=data["file"],
                    actor=request.user,
                )
            except ServiceError as exc:
                _on_form(form, exc)
            else:
                messages.success(
                    request,
                    _("Calibration %(no)s entered. Confirm it once the results are reviewed.")
                    % {"no": data["certificate_no"]},
                )
                return redirect(reverse("equipment:detail", args=[equipment.pk]) + "#calibrations")
    else:
        today = timezone.localdate()
        months = equipment.calibration_interval_months
        due = _add_months(today, months) - dt.timedelta(days=1)
        form = CalibrationForm(initial={"date": today, "due_date": due})
        rows = _point_rows(request)
        points = PointFormSet(
            prefix="points", initial=[{"coverage_factor": 2} for _ in range(rows)]
        )
    return render(
        request,
        "equipment/calibration_form.html",
        {
            "equipment": equipment,
            "form": form,
            "points": points,
            "more_rows": min(_point_rows(request) + POINT_ROWS, MAX_POINT_ROWS),
        },
        status=422 if request.method == "POST" else 200,
    )


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


@allow(roles=EQUIPMENT_EDITORS)
@require_POST
def calibration_confirm(request, pk: int):
    """Metrological confirmation: the results meet the need (JJF 1069, GB/T 27025 §6.4)."""
    calibration = EquipmentCalibration.objects.select_related("equipment").filter(pk=pk).first()
    if calibration is None:
        raise Http404("no such calibration")
    card_write(
        request,
        ConfirmForm(request.POST),
        lambda data: services.equipment_calibration_confirm(
            calibration=calibration,
            note=data["note"],
            return_to_service=data["return_to_service"],
            actor=request.user,
        ),
        success=_("Calibration %(no)s confirmed: it now counts.")
        % {"no": calibration.certificate_no},
    )
    return redirect(reverse("equipment:detail", args=[calibration.equipment_id]) + "#calibrations")


@allow(roles=EQUIPMENT_READERS)
@require_GET
def calibration_file(request, pk: int):
    calibration = EquipmentCalibration.objects.filter(pk=pk).first()
    if calibration is None or not calibration.has_file:
        raise Http404("no certificate file")
    return document_response(calibration.file_sha256, calibration.file_name, calibration.file_type)


# --- intermediate checks --------------------------------------------------------------------


@allow(roles=EQUIPMENT_EDITORS)
@require_http_methods(["GET", "POST"])
def plan_add(request, pk: int):
    equipment = selectors.equipment_get(pk)
    form = CheckPlanForm(request.POST or None, initial={"first_due": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.equipment_check_plan_create(
                equipment=equipment, actor=request.user, **form.values()
            )
        except ServiceError as exc:
            _on_form(form, exc)
        else:
            messages.success(request, _("Intermediate check plan saved."))
            return redirect(reverse("equipment:detail", args=[equipment.pk]) + "#checks")
    return render(
        request,
        "equipment/form.html",
        {
            "form": form,
            "equipment": equipment,
            "title": _("New intermediate check plan · %(equipment)s")
            % {"equipment": equipment.asset_no},
            "cancel": reverse("equipment:detail", args=[equipment.pk]),
            "intro": _(
                "The centre line and control limits come from the check standard's reference "
                "value and the spread of repeated checks (control limits at ±3σ); results are "
                "judged by tests 1, 2, 3 and 5 of ISO 7870-2."
            ),
        },
        status=422 if form.errors else 200,
    )


@allow(roles=EQUIPMENT_EDITORS)
@require_http_methods(["GET", "POST"])
def plan_edit(request, pk: int):
    plan = IntermediateCheckPlan.objects.select_related("equipment").filter(pk=pk).first()
    if plan is None:
        raise Http404("no such plan")
    form = CheckPlanForm(request.POST or None, instance=plan)
    if request.method == "POST" and form.is_valid():
        try:
            services.equipment_check_plan_update(plan=plan, actor=request.user, **form.values())
        except ServiceError as exc:
            _on_form(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(reverse("equipment:detail", args=[plan.equipment_id]) + "#checks")
    return render(
        request,
        "equipment/form.html",
        {
            "form": form,
            "equipment": plan.equipment,
            "title": _("Intermediate check plan · %(equipment)s")
            % {"equipment": plan.equipment.asset_no},
            "cancel": reverse("equipment:detail", args=[plan.equipment_id]),
        },
        status=422 if form.errors else 200,
    )


@allow(roles=CHECK_RECORDERS)
@require_POST
def result_add(request, pk: int):
    """Record an intermediate check result; the control-chart tests judge it at once."""
    plan = IntermediateCheckPlan.objects.select_related("equipment").filter(pk=pk).first()
    if plan is None:
        raise Http404("no such plan")
    form = CheckResultForm(request.POST, prefix=f"plan{plan.pk}")
    if not form.is_valid():
        _form_errors(request, form)
    else:
        data = form.cleaned_data
        try:
            result = services.equipment_check_result_add(
                plan=plan,
                date=data["date"],
                value=data["value"],
                note=data["note"],
                actor=request.user,
            )
        except ServiceError as exc:
            _refused(request, exc)
        else:
            if result.passed:
                messages.success(request, _("Result recorded: in control."))
            else:
                messages.warning(
                    request,
                    _(
                        "Result recorded: OUT OF CONTROL (%(rules)s). The equipment managers "
                        "and the custodian have been told."
                    )
                    % {"rules": charts.rules_text(result.rules_broken)},
                )
    return redirect(reverse("equipment:detail", args=[plan.equipment_id]) + "#checks")


# --- maintenance and usage ------------------------------------------------------------------


@allow(roles=FAULT_REPORTERS)
@require_POST
def maintenance_add(request, pk: int):
    equipment = selectors.equipment_get(pk)
    card_write(
        request,
        MaintenanceForm(request.POST),
        lambda data: services.equipment_maintenance_add(
            equipment=equipment,
            kind=data["kind"],
            date=data["date"],
            description=data["description"],
            outcome=data["outcome"],
            take_out_of_service=data["take_out_of_service"],
            actor=request.user,
        ),
        success=_("Entry added to the maintenance log."),
    )
    return redirect(reverse("equipment:detail", args=[equipment.pk]) + "#maintenance")


@allow(roles=USAGE_RECORDERS)
@require_POST
def usage_add(request, pk: int):
    equipment = selectors.equipment_get(pk)
    form = UsageForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        data = form.cleaned_data
        try:
            services.equipment_usage_record(
                equipment=equipment,
                user=request.user,
                started_at=data["started_at"],
                ended_at=data["ended_at"],
                condition_before=data["condition_before"],
                note=data["note"],
                actor=request.user,
            )
        except ServiceError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("Use recorded in the usage log."))
    return redirect(reverse("equipment:detail", args=[equipment.pk]) + "#usage")


@allow(roles=USAGE_RECORDERS)
@require_POST
def usage_close(request, pk: int):
    usage = UsageRecord.objects.filter(pk=pk).first()
    if usage is None:
        raise Http404("no such usage entry")
    form = UsageCloseForm(request.POST)
    if form.is_valid():
        try:
            services.equipment_usage_close(
                usage=usage,
                condition_after=form.cleaned_data["condition_after"],
                actor=request.user,
            )
        except ServiceError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("Use closed."))
    return redirect(reverse("equipment:detail", args=[usage.equipment_id]) + "#usage")


@allow(roles=EQUIPMENT_READERS)
@require_GET
def usage_log(request, pk: int):
    """The equipment's usage log in a period (R6.5b), newest first."""
    equipment = selectors.equipment_get(pk)
    form = UsageFilterForm(request.GET or None)
    start = end = None
    if request.GET and form.is_valid():
        if form.cleaned_data["date_from"]:
            start = selectors.local_midnight(form.cleaned_data["date_from"])
        if form.cleaned_data["date_to"]:
            end = selectors.local_midnight(form.cleaned_data["date_to"] + dt.timedelta(days=1))
    elif request.GET:
        _form_errors(request, form)
    usage = selectors.usage_history(equipment=equipment, start=start, end=end)
    page = Paginator(usage, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "equipment/usage.html",
        {"equipment": equipment, "form": form, "page": page, "query": query_without_page(request)},
    )


# --- bookings -------------------------------------------------------------------------------


@allow(roles=EQUIPMENT_READERS)
@require_GET
def calendar(request):
    """The booking calendar, one week at a time (?week=2026-W05), with a booking form."""
    week_text = request.GET.get("week", "")
    today = timezone.localdate()
    monday = selectors.week_monday(today)
    if week_text:
        try:
            monday = selectors.parse_iso_week(week_text)
        except ValueError:
            messages.error(
                request,
                _("“%(week)s” is not a week; write it like %(example)s.")
                % {"week": week_text, "example": selectors.iso_week(today)},
            )
    chosen = None
    equipment_id = request.GET.get("equipment", "")
    if equipment_id.isdigit():
        chosen = selectors.equipment_get(int(equipment_id))
    week = selectors.booking_week(monday, equipment=chosen)
    form = None
    if holds(request.user, BOOKERS):
        initial = {}
        day = request.GET.get("day", "")
        try:
            picked = dt.date.fromisoformat(day) if day else None
        except ValueError:
            picked = None
        if picked is not None:
            initial["starts_at"] = dt.datetime.combine(picked, dt.time(9, 0))
            initial["ends_at"] = dt.datetime.combine(picked, dt.time(12, 0))
        if chosen is not None:
            initial["equipment"] = chosen.pk
        form = BookingForm(initial=initial)
    base = {"equipment": chosen.pk} if chosen is not None else {}
    return render(
        request,
        "equipment/calendar.html",
        {
            "week": week,
            "chosen": chosen,
            "form": form,
            "previous_url": "?" + urlencode({**base, "week": week.previous}),
            "next_url": "?" + urlencode({**base, "week": week.next}),
            "this_url": "?" + urlencode(base) if base else "?",
            "base_query": urlencode({**base, "week": week.label}),
            "today": today,
            "me": request.user,
        },
    )


@allow(roles=BOOKERS)
@require_POST
def booking_add(request):
    form = BookingForm(request.POST)
    default = reverse("equipment:calendar")
    if not form.is_valid():
        _form_errors(request, form)
        return back_to(request, default)
    data = form.cleaned_data
    try:
        booking = services.equipment_booking_create(
            equipment=data["equipment"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            purpose=data["purpose"],
            actor=request.user,
        )
    except ServiceError as exc:
        _refused(request, exc)
    else:
        start = timezone.localtime(booking.starts_at)
        messages.success(
            request,
            _("%(equipment)s booked from %(start)s.")
            % {"equipment": booking.equipment, "start": start.strftime("%Y-%m-%d %H:%M")},
        )
    return back_to(request, default)


@allow(roles=BOOKERS)
@require_POST
def booking_cancel(request, pk: int):
    booking = Booking.objects.filter(pk=pk).first()
    if booking is None:
        raise Http404("no such booking")
    try:
        services.equipment_booking_cancel(booking=booking, actor=request.user)
    except ServiceError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Booking cancelled."))
    return back_to(request, reverse("equipment:detail", args=[booking.equipment_id]))


# --- measurement standards ------------------------------------------------------------------


@allow(roles=EQUIPMENT_READERS)
@require_GET
def standard_list(request):
    """Measurement standards (计量标准装置, R6.8a) with their certificate's expiry."""
    form = StandardFilterForm(request.GET or None)
    q, active = "", None
    if form.is_valid():
        q = form.cleaned_data["q"].strip()
        active = {"1": True, "0": False}.get(form.cleaned_data["active"])
    standards = selectors.standard_list(q=q, active=active).prefetch_related("equipment")
    page = Paginator(standards, PAGE_SIZE).get_page(request.GET.get("page"))
    for standard in page:
        standard.certificate_status = selectors.standard_certificate_status(standard)
    return render(
        request,
        "equipment/standards.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "can_edit": holds(request.user, EQUIPMENT_EDITORS),
        },
    )


@allow(roles=EQUIPMENT_READERS)
@require_GET
def standard_detail(request, pk: int):
    """A measurement standard: certificate and expiry, composing equipment (with their
    status and calibration), measurands and ranges, methods and the authorised items done
    with it (R6.8b)."""
    standard = selectors.standard_get(pk)
    equipment = list(
        selectors.equipment_annotated().filter(standards=standard).order_by("asset_no")
    )
    for item in equipment:
        item.due_status = selectors.calibration_due_status(item)
    return render(
        request,
        "equipment/standard_detail.html",
        {
            "standard": standard,
            "certificate_status": selectors.standard_certificate_status(standard),
            "equipment": equipment,
            "methods": standard.methods.order_by("code", "-year"),
            "authorised_items": standard.authorised_items.order_by("code"),
            "can_edit": holds(request.user, EQUIPMENT_EDITORS),
        },
    )


def _standard_form_page(request, standard=None):
    form = StandardForm(request.POST or None, request.FILES or None, instance=standard)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if standard is None:
                standard = services.measurement_standard_create(
                    actor=request.user,
                    equipment=data["equipment"],
                    methods=data["methods"],
                    upload=data["file"],
                    **form.values(),
                )
            else:
                services.measurement_standard_update(
                    standard=standard,
                    actor=request.user,
                    equipment=data["equipment"],
                    methods=data["methods"],
                    upload=data["file"],
                    **form.values(),
                )
        except ServiceError as exc:
            _on_form(form, exc)
        else:
            messages.success(request, _("Measurement standard saved."))
            return redirect("equipment:standard_detail", pk=standard.pk)
    title = (
        _("New measurement standard")
        if standard is None
        else _("Edit %(standard)s") % {"standard": standard.name}
    )
    cancel = (
        reverse("equipment:standards")
        if standard is None
        else reverse("equipment:standard_detail", args=[standard.pk])
    )
    return render(
        request,
        "equipment/form.html",
        {"form": form, "title": title, "cancel": cancel, "multipart": True},
        status=422 if form.errors else 200,
    )


@allow(roles=EQUIPMENT_EDITORS)
@require_http_methods(["GET", "POST"])
def standard_create(request):
    return _standard_form_page(request)


@allow(roles=EQUIPMENT_EDITORS)
@require_http_methods(["GET", "POST"])
def standard_edit(request, pk: int):
    return _standard_form_page(request, selectors.standard_get(pk))


@allow(roles=EQUIPMENT_READERS)
@require_GET
def standard_file(request, pk: int):
    standard = selectors.standard_get(pk)
    if not standard.has_file:
        raise Http404("no certificate file")
    return document_response(standard.file_sha256, standard.file_name, standard.file_type)
