"""`/api/v1/risk/...`: the risk radar, reverse traceability of equipment and impact reviews
(R4.5), with the same role rules as the pages."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from metrolab.core.access import api_access
from metrolab.core.service import ServiceError
from metrolab.core.text import Code, DocumentText, Note
from metrolab.risk import selectors, services
from metrolab.risk.forms import default_period
from metrolab.risk.models import ImpactReview
from metrolab.risk.radar import HORIZONS, Bucket, Kind
from metrolab.risk.roles import RADAR_READERS, REVIEW_EDITORS, TRACE_READERS
from metrolab.risk.trace import day_period, trace, trace_customers, trace_extenders

router = Router(tags=["risk"])

RADAR = api_access(roles=RADAR_READERS)
READ = api_access(roles=TRACE_READERS)
EDIT = api_access(roles=REVIEW_EDITORS)


# --- schemas --------------------------------------------------------------------------------


class RadarEntryOut(Schema):
    kind: str
    kind_label: str
    key: str
    what: str
    detail: str
    url: str
    due: dt.date | None
    days_left: int | None
    horizon: str  # overdue / 30 / 60 / 90
    responsible: str
    responsible_users: list[str]


class RadarOut(Schema):
    on: dt.date
    days: int
    counts: dict[str, int]
    entries: list[RadarEntryOut]


class EquipmentRefOut(Schema):
    id: int
    asset_no: str
    name: str
    status: str


class ImpactCustomerOut(Schema):
    id: int
    code: str
    name: str


class TraceRowOut(Schema):
    source: str
    source_label: str
    task_id: int | None
    item: str
    item_name: str
    commission_id: int | None
    commission: str
    customer_id: int | None
    customer: str
    service: str
    status: str
    assignee: str
    reference: str
    url: str
    started: dt.datetime | None
    ended: dt.datetime | None
    user: str


class TraceOut(Schema):
    equipment: EquipmentRefOut
    start: dt.datetime
    end: dt.datetime
    rows: list[TraceRowOut]
    customers: list[ImpactCustomerOut]
    note: str


class ImpactReviewIn(Schema):
    """`start` / `end`: a day (YYYY-MM-DD: from its start / to its end) or a date-time."""

    equipment_id: int
    start: Code
    end: Code
    reason: Note


class CloseIn(Schema):
    conclusion: DocumentText


class ReviewOut(Schema):
    id: int
    equipment: EquipmentRefOut
    period_start: dt.datetime
    period_end: dt.datetime
    reason: str
    state: str
    opened_by: str
    opened_at: dt.datetime
    conclusion: str
    closed_by: str | None
    closed_at: dt.datetime | None
    task_ids: list[int]
    customers: list[ImpactCustomerOut]
    rows: list[TraceRowOut]


class ReviewSummaryOut(Schema):
    id: int
    equipment: EquipmentRefOut
    period_start: dt.datetime
    period_end: dt.datetime
    state: str
    opened_by: str
    opened_at: dt.datetime

    @staticmethod
    def resolve_opened_by(review: ImpactReview) -> str:
        return review.opened_by.username

    @staticmethod
    def resolve_opened_at(review: ImpactReview) -> dt.datetime:
        return review.created_at


# --- helpers --------------------------------------------------------------------------------


def _moment(value: str, field: str, *, end: bool) -> dt.datetime:
    """A day (its first / last instant, local time) or a date-time (local time if naive)."""
    value = (value or "").strip()
    day = parse_date(value) if len(value) == 10 else None
    if day is not None:
        start_of, end_of = day_period(day, day)
        return end_of if end else start_of
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise ServiceError(
            _("Give a date as YYYY-MM-DD or a date-time as YYYY-MM-DDTHH:MM."), field=field
        )
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _equipment(pk: int, field: str = "equipment"):
    equipment = selectors.equipment_get(pk)
    if equipment is None:
        raise ServiceError(_("No such equipment."), field=field)
    return equipment


def _equipment_out(e) -> dict:
    return {"id": e.pk, "asset_no": e.asset_no, "name": e.name, "status": e.status}


def _customer_out(c) -> dict:
    return {"id": c.pk, "code": c.code, "name": c.name}


def _review_summary(review: ImpactReview) -> dict:
    return {
        "id": review.pk,
        "equipment": _equipment_out(review.equipment),
        "period_start": review.period_start,
        "period_end": review.period_end,
        "state": review.state,
        "opened_by": review.opened_by.username,
        "opened_at": review.created_at,
    }


def _review_out(review: ImpactReview) -> dict:
    return {
        **_review_summary(review),
        "reason": review.reason,
        "conclusion": review.conclusion,
        "closed_by": review.closed_by.username if review.closed_by else None,
        "closed_at": review.closed_at,
        "task_ids": sorted(review.tasks.values_list("pk", flat=True)),
        "customers": [_customer_out(c["customer"]) for c in selectors.review_customers(review)],
        "rows": review.snapshot,
    }


def _review(pk: int) -> ImpactReview:
    review = selectors.review_get(pk)
    if review is None:
        raise Http404
    return review


# --- operations -----------------------------------------------------------------------------


@router.get(
    "/radar",
    response=RadarOut,
    auth=RADAR,
    summary="What expires or falls due within 30 / 60 / 90 days of a day, and what is overdue",
)
def radar(request, days: int = 90, on: dt.date | None = None, kind: str = "", horizon: str = ""):
    if days not in HORIZONS:
        raise ServiceError(_("days must be 30, 60 or 90."), field="days")
    if kind and kind not in Kind.LABELS:
        raise ServiceError(
            _("Unknown kind; use one of: %(kinds)s.") % {"kinds": ", ".join(Kind.LABELS)},
            field="kind",
        )
    if horizon and horizon not in Bucket.LABELS:
        raise ServiceError(_("horizon must be overdue, 30, 60 or 90."), field="horizon")
    on = on or timezone.localdate()
    entries, counts = selectors.radar_view(on=on, days=days, kind=kind, bucket=horizon)
    return {
        "on": on,
        "days": days,
        "counts": counts,
        "entries": [
            {
                "kind": e.kind,
                "kind_label": e.kind_label,
                "key": e.key,
                "what": e.what,
                "detail": e.detail,
                "url": e.url,
                "due": e.due,
                "days_left": e.days_left,
                "horizon": e.bucket,
                "responsible": e.responsible,
                "responsible_users": [p.username for p in e.people],
            }
            for e in entries
        ],
    }


@router.get(
    "/trace",
    response=TraceOut,
    auth=READ,
    summary="Every task and usage of an item of equipment in a period (both ends included)",
)
def trace_equipment(request, equipment: int, start: str = "", end: str = ""):
    """Without `start` / `end`: since the date of the current confirmed calibration (the last
    time the equipment was known good; else 90 days ago), up to the end of today."""
    item = _equipment(equipment)
    first_day, last_day = default_period(item)
    default_start, default_end = day_period(first_day, last_day)
    first = _moment(start, "start", end=False) if start else default_start
    last = _moment(end, "end", end=True) if end else default_end
    if last <= first:
        raise ServiceError(_("The period must end after it starts."), field="end")
    rows = trace(item, first, last)
    note = (
        ""
        if trace_extenders
        else _("Original records and certificates are added when those modules exist.")
    )
    return {
        "equipment": _equipment_out(item),
        "start": first,
        "end": last,
        "rows": [row.as_json() for row in rows],
        "customers": [_customer_out(c) for c in trace_customers(rows)],
        "note": note,
    }


@router.get(
    "/reviews", response=list[ReviewSummaryOut], auth=READ, summary="Impact reviews, open first"
)
@paginate
def review_list(request, equipment: int | None = None, state: str = ""):
    item = selectors.equipment_get(equipment) if equipment is not None else None
    if equipment is not None and item is None:
        return ImpactReview.objects.none()
    return selectors.review_list(equipment=item, state=state)


@router.post(
    "/reviews",
    response={201: ReviewOut},
    auth=EDIT,
    summary="Open an impact review on what the trace of an item of equipment lists",
)
def review_open(request, data: ImpactReviewIn):
    review = services.impact_review_open(
        equipment=_equipment(data.equipment_id, "equipment_id"),
        start=_moment(data.start, "start", end=False),
        end=_moment(data.end, "end", end=True),
        reason=data.reason,
        actor=request.auth,
    )
    return Status(201, _review_out(review))


@router.get("/reviews/{pk}", response=ReviewOut, auth=READ, summary="One impact review")
def review_detail(request, pk: int):
    return _review_out(_review(pk))


@router.post(
    "/reviews/{pk}/close",
    response=ReviewOut,
    auth=EDIT,
    summary="Close an impact review with its conclusion",
)
def review_close(request, pk: int, data: CloseIn):
    review = services.impact_review_close(
        review=_review(pk), conclusion=data.conclusion, actor=request.auth
    )
    return _review_out(selectors.review_get(review.pk))
