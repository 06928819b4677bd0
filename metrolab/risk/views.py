"""Risk pages (R4.5): the radar of what expires or falls due, reverse traceability of an item
of equipment over a period, and impact reviews opened on what it finds."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from metrolab.core.access import allow
from metrolab.core.pages import holds, query_without_page
from metrolab.core.service import ServiceError
from metrolab.risk import selectors, services
from metrolab.risk.forms import (
    RadarFilterForm,
    ReviewCloseForm,
    ReviewOpenForm,
    TraceForm,
    default_period,
)
from metrolab.risk.radar import Bucket
from metrolab.risk.roles import RADAR_READERS, REVIEW_EDITORS, TRACE_READERS
from metrolab.risk.trace import day_period, trace, trace_customers, trace_extenders

PAGE_SIZE = 50


@allow(roles=RADAR_READERS)
@require_GET
def radar(request):
    """Everything that expires or falls due within 90 days, and everything overdue: counts per
    horizon, filters by kind and horizon, soonest first."""
    form = RadarFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries, counts = selectors.radar_view(
        on=filters.get("on"), kind=filters.get("kind", ""), bucket=filters.get("bucket", "")
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    base = {k: v for k, v in (("kind", filters.get("kind")), ("on", filters.get("on"))) if v}
    tiles = [
        {
            "bucket": bucket,
            "label": Bucket.LABELS[bucket],
            "count": counts[bucket],
            "url": "?" + urlencode({**base, "bucket": bucket}),
            "active": filters.get("bucket") == bucket,
        }
        for bucket in Bucket.ORDER
    ]
    return render(
        request,
        "risk/radar.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "tiles": tiles,
            "total": sum(counts.values()),
            "as_of": filters.get("on") or timezone.localdate(),
        },
    )


@allow(roles=TRACE_READERS)
@require_GET
def trace_page(request):
    """Reverse traceability: choose equipment (asset no. or search) and a period; every task
    and usage of it in the period, the customers concerned, and its impact reviews."""
    form = TraceForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    equipment = selectors.equipment_get(filters.get("equipment")) if filters else None
    candidates = []
    if equipment is None and filters.get("q"):
        candidates = selectors.equipment_search(filters["q"])
        if len(candidates) == 1:
            equipment = candidates[0]
    context = {
        "form": form,
        "equipment": equipment,
        "candidates": candidates,
        "searched": bool(filters.get("q") or filters.get("equipment")),
    }
    can_edit = holds(request.user, REVIEW_EDITORS)
    if equipment is not None and form.is_valid():
        first, last = default_period(equipment)
        first = filters.get("start") or first
        last = filters.get("end") or last
        if last < first:
            first = last
        start, end = day_period(first, last)
        rows = trace(equipment, start, end)
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        query = {"equipment": equipment.pk, "start": first.isoformat(), "end": last.isoformat()}
        context.update(
            {
                "first": first,
                "last": last,
                "page": page,
                "query": urlencode(query),
                "task_count": len({r.task.pk for r in rows if r.task}),
                "usage_count": sum(1 for r in rows if r.source == "usage"),
                "customers": trace_customers(rows),
                "extended": bool(trace_extenders),
                "reviews": selectors.review_list(equipment=equipment)[:20],
                "open_form": ReviewOpenForm(
                    initial={"equipment": equipment.pk, "start": first, "end": last}
                )
                if can_edit
                else None,
            }
        )
    else:
        reviews = Paginator(selectors.review_list(), PAGE_SIZE).get_page(request.GET.get("page"))
        context.update({"reviews": reviews, "review_page": reviews, "query": ""})
    return render(request, "risk/trace.html", context)


@allow(roles=REVIEW_EDITORS)
@require_POST
def review_open(request):
    """Open an impact review on what the trace lists (the quality manager)."""
    form = ReviewOpenForm(request.POST)
    equipment = selectors.equipment_get(request.POST.get("equipment"))
    if equipment is None:
        raise Http404("no such equipment")
    back = (
        reverse("risk:trace")
        + "?"
        + urlencode({k: request.POST.get(k, "") for k in ("equipment", "start", "end")})
    )
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    start, end = day_period(form.cleaned_data["start"], form.cleaned_data["end"])
    try:
        review = services.impact_review_open(
            equipment=equipment,
            start=start,
            end=end,
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, _("The impact review was opened."))
    return redirect("risk:review_detail", pk=review.pk)


def _review_or_404(pk: int):
    review = selectors.review_get(pk)
    if review is None:
        raise Http404("no such impact review")
    return review


def _snapshot_rows(review) -> list[dict]:
    """The snapshot's rows with their times as datetimes (shown in local time)."""
    return [
        {
            **row,
            "started": parse_datetime(row["started"]) if row.get("started") else None,
            "ended": parse_datetime(row["ended"]) if row.get("ended") else None,
        }
        for row in review.snapshot
    ]


@allow(roles=TRACE_READERS)
@require_GET
def review_detail(request, pk: int):
    """An impact review: the equipment and period, the reason, the customers affected, the
    work listed when it was opened, and its conclusion (or the form to close it)."""
    review = _review_or_404(pk)
    can_close = review.state == review.State.OPEN and holds(request.user, REVIEW_EDITORS)
    rows = Paginator(_snapshot_rows(review), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "risk/review_detail.html",
        {
            "review": review,
            "customers": selectors.review_customers(review),
            "page": rows,
            "query": "",
            "close_form": ReviewCloseForm() if can_close else None,
            "trace_query": urlencode(
                {
                    "equipment": review.equipment_id,
                    "start": timezone.localtime(review.period_start).date().isoformat(),
                    "end": timezone.localtime(review.period_end).date().isoformat(),
                }
            ),
        },
    )


@allow(roles=REVIEW_EDITORS)
@require_POST
def review_close(request, pk: int):
    review = _review_or_404(pk)
    form = ReviewCloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the conclusion of the review."))
        return redirect("risk:review_detail", pk=review.pk)
    try:
        services.impact_review_close(
            review=review, conclusion=form.cleaned_data["conclusion"], actor=request.user
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The impact review was closed."))
    return redirect("risk:review_detail", pk=review.pk)
