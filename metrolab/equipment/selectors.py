"""Reads of equipment (R6.5, R8c, R6.8a): the register with its filters, calibration due
status, the correction to apply at a value from the current calibration, the booking week,
usage history and measurement standards. Every lab member reads all of them (the pages and
the API declare who may ask)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from metrolab.equipment.filters import EquipmentFilter
from metrolab.equipment.models import (
    Booking,
    Equipment,
    EquipmentCalibration,
    IntermediateCheckPlan,
    LocationEvent,
    MeasurementStandard,
    UsageRecord,
    normalise_tag_uid,
)
from metrolab.equipment.services._common import decimal_value
from metrolab.equipment.services.control import out_of_control_reason as _out_of_control_reason
from metrolab.metrology.corrections import Correction, correction_at

# Calibrations and standard certificates falling due within this many days are shown yellow.
DUE_SOON_DAYS = 30


def _today() -> dt.date:
    return timezone.localdate()


# --- the register ---------------------------------------------------------------------------


def equipment_annotated(on: dt.date | None = None) -> QuerySet[Equipment]:
    """Equipment with `due` (the due date of the calibration that counts on `on`, today by
    default: `CalibrationQuerySet.counting`; None without one)."""
    return Equipment.objects.select_related(
        "discipline", "custodian", "out_of_control_check__plan"
    ).annotate(due=EquipmentCalibration.objects.counting_value("due_date", day=on))


def equipment_list(
    filters: EquipmentFilter | None = None,
    *,
    q: str = "",
    status: str = "",
    kind: str = "",
    discipline: Any = None,
    due_within: int | None = None,
    overdue: bool = False,
    uncalibrated: bool = False,
    on: dt.date | None = None,
) -> QuerySet[Equipment]:
    """The register, by asset no., filtered as the register's page and API filter
    (`equipment.filters.EquipmentFilter`; or by these arguments, the same filters): a search
    text, a status (none given: all but scrapped), a kind, a discipline, calibrations due
    within N days (not yet overdue), overdue calibrations, and equipment without any
    confirmed calibration."""
    if filters is None:
        filters = EquipmentFilter(
            q=q,
            status=status,
            kind=kind,
            discipline=str(discipline.pk) if discipline is not None else "",
            due_within=due_within,
            overdue=overdue,
            uncalibrated=uncalibrated,
        )
    on = on or _today()
    return filters.filter(equipment_annotated(on), on).order_by("asset_no")


def equipment_get(pk: int) -> Equipment:
    equipment = equipment_annotated().filter(pk=pk).first()
    if equipment is None:
        raise Http404("no such equipment")
    return equipment


def equipment_by_tag(uid: str) -> Equipment | None:
    key = normalise_tag_uid(uid)
    return Equipment.objects.filter(rfid_uid=key).first() if key else None


@dataclass(frozen=True)
class DueStatus:
    """Where an item of equipment stands with its calibration on a day."""

    due: dt.date | None
    state: str  # "none" (no confirmed calibration), "overdue", "due_soon", "ok"
    days_left: int | None

    @property
    def overdue_days(self) -> int:
        return -self.days_left if self.days_left is not None and self.days_left < 0 else 0

    @property
    def colour(self) -> str:
        return {"overdue": "red", "none": "red", "due_soon": "yellow", "ok": "green"}[self.state]


def due_status(due: dt.date | None, on: dt.date | None = None) -> DueStatus:
    """A due date judged on `on` (today): valid ON its due date, overdue the day after;
    "due soon" within DUE_SOON_DAYS."""
    on = on or _today()
    if due is None:
        return DueStatus(None, "none", None)
    days = (due - on).days
    if days < 0:
        return DueStatus(due, "overdue", days)
    if days <= DUE_SOON_DAYS:
        return DueStatus(due, "due_soon", days)
    return DueStatus(due, "ok", days)


def calibration_due_status(equipment: Equipment, on: dt.date | None = None) -> DueStatus:
    """The calibration due status of an item of equipment (uses the `due` annotation when the
    equipment came from `equipment_list`)."""
    due = equipment.due if hasattr(equipment, "due") else equipment.calibration_due()
    return due_status(due, on)


def calibrations_of(equipment: Equipment) -> QuerySet[EquipmentCalibration]:
    return (
        equipment.calibrations.select_related("confirmed_by", "entered_by")
        .prefetch_related("points")
        .order_by("-date", "-pk")
    )


# --- corrections from the current calibration ----------------------------------------------


def calibration_for_day(equipment: Equipment, day: dt.date | None = None):
    """The confirmed calibration in force on `day` (today): the one that counts then, if it is
    due on or after it (valid ON its due date); None otherwise
    (`CalibrationQuerySet.in_force`)."""
    return equipment.calibration_in_force(day)


def calibration_correction(
    equipment: Equipment, nominal: Any, unit: str, day: dt.date | None = None
) -> Correction | None:
    """The correction (and its U, k) to apply at `nominal` `unit`, from the confirmed
    calibration of the equipment in force on `day` (today), for records to apply.

    At a calibrated point: that point's values. Between two calibrated points of the same
    unit: the correction interpolated linearly between its two neighbours; for U, the larger
    of the two neighbours' (with its k), since interpolation does not reduce the uncertainty
    of either point (a conservative choice: no standard prescribes interpolating U). Outside
    the calibrated points, in another unit, or with no calibration in force: None (the
    certificate does not say, so a record must not guess)."""
    calibration = calibration_for_day(equipment, day)
    if calibration is None:
        return None
    x = decimal_value(nominal, "nominal", "nominal")
    return correction_at(calibration.points.all(), x, unit)


# --- intermediate checks --------------------------------------------------------------------


def check_plans_of(equipment: Equipment) -> list[IntermediateCheckPlan]:
    """The equipment's check plans with their results (in order), active ones first."""
    return list(
        equipment.check_plans.prefetch_related(
            Prefetch("results", queryset=_results_ordered(), to_attr="ordered_results")
        ).order_by("-active", "pk")
    )


def _results_ordered():
    from metrolab.equipment.models import IntermediateCheckResult

    return IntermediateCheckResult.objects.select_related("performed_by").order_by("date", "pk")


def latest_check_failed(equipment: Equipment) -> bool:
    """Whether the equipment is out of statistical control (the state the equipment services
    keep: an intermediate check broke a control-chart test, and neither an in-control check
    nor a recalibration has followed)."""
    return Equipment.objects.filter(pk=equipment.pk, out_of_control_check__isnull=False).exists()


def out_of_control_reason(equipment: Equipment) -> str:
    """Why the equipment is out of statistical control, in the reader's language ("" when it
    is in control)."""
    check = equipment.out_of_control_check
    return _out_of_control_reason(check) if check is not None else ""


# --- bookings and the week calendar --------------------------------------------------------


def parse_iso_week(text: str) -> dt.date:
    """The Monday of an ISO week written "2026-W05" (ISO 8601); ValueError if malformed."""
    text = (text or "").strip().upper()
    year_text, _sep, week_text = text.partition("-W")
    if not (year_text.isdigit() and week_text.isdigit() and len(year_text) == 4):
        raise ValueError(text)
    return dt.date.fromisocalendar(int(year_text), int(week_text), 1)


def iso_week(day: dt.date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def bookings_between(
    start: dt.datetime, end: dt.datetime, *, equipment: Equipment | None = None
) -> QuerySet[Booking]:
    """Live bookings sharing some time with [start, end), in start order."""
    bookings = Booking.objects.filter(cancelled=False, starts_at__lt=end, ends_at__gt=start)
    if equipment is not None:
        bookings = bookings.filter(equipment=equipment)
    return bookings.select_related("equipment", "user").order_by("starts_at", "pk")


@dataclass
class CalendarDay:
    day: dt.date
    today: bool
    bookings: list = field(default_factory=list)


@dataclass
class CalendarRow:
    equipment: Equipment
    days: list[CalendarDay]

    @property
    def bookable(self) -> bool:
        return self.equipment.status in Equipment.USABLE


@dataclass
class Week:
    monday: dt.date
    label: str
    previous: str
    next: str
    days: list[dt.date]
    rows: list[CalendarRow]
    bookings: list  # all of the week's bookings
    by_day: list[CalendarDay]  # the same, day by day (the phone's list view)


def booking_week(monday: dt.date, *, equipment: Equipment | None = None) -> Week:
    """The booking calendar of one week (Monday to Sunday): a row per bookable item of
    equipment (or only `equipment`) with each day's bookings, local time."""
    monday = week_monday(monday)
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    start, end = local_midnight(days[0]), local_midnight(days[-1] + dt.timedelta(days=1))
    bookings = list(bookings_between(start, end, equipment=equipment))
    if equipment is not None:
        shown = [equipment]
    else:
        booked = {b.equipment_id for b in bookings}
        shown = list(
            Equipment.objects.filter(Q(status__in=Equipment.USABLE) | Q(pk__in=booked)).order_by(
                "asset_no"
            )
        )
    today = _today()

    def spans(booking: Booking, day: dt.date) -> bool:
        first = timezone.localtime(booking.starts_at).date()
        last = timezone.localtime(booking.ends_at - dt.timedelta(microseconds=1)).date()
        return first <= day <= last

    rows = []
    for item in shown:
        cells = [CalendarDay(day=d, today=d == today) for d in days]
        for booking in bookings:
            if booking.equipment_id == item.pk:
                for cell in cells:
                    if spans(booking, cell.day):
                        cell.bookings.append(booking)
        rows.append(CalendarRow(equipment=item, days=cells))
    by_day = [
        CalendarDay(day=d, today=d == today, bookings=[b for b in bookings if spans(b, d)])
        for d in days
    ]
    return Week(
        monday=monday,
        label=iso_week(monday),
        previous=iso_week(monday - dt.timedelta(days=7)),
        next=iso_week(monday + dt.timedelta(days=7)),
        days=days,
        rows=rows,
        bookings=bookings,
        by_day=by_day,
    )


def bookings_upcoming(equipment: Equipment, *, limit: int = 20) -> list[Booking]:
    now = timezone.now()
    return list(
        equipment.bookings.filter(cancelled=False, ends_at__gt=now)
        .select_related("user")
        .order_by("starts_at")[:limit]
    )


def booking_list(
    *,
    equipment: Equipment | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    user: Any = None,
) -> QuerySet[Booking]:
    """Live bookings, optionally of one item of equipment, one person, or within a period."""
    bookings = Booking.objects.filter(cancelled=False).select_related("equipment", "user")
    if equipment is not None:
        bookings = bookings.filter(equipment=equipment)
    if user is not None:
        bookings = bookings.filter(user=user)
    if start is not None:
        bookings = bookings.filter(ends_at__gt=start)
    if end is not None:
        bookings = bookings.filter(starts_at__lt=end)
    return bookings.order_by("starts_at", "pk")


# --- usage, maintenance, location -----------------------------------------------------------


def usage_history(
    *,
    equipment: Equipment | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    user: Any = None,
) -> QuerySet[UsageRecord]:
    """Uses of equipment that share some time with [start, end) (an open use lasts until
    now), newest first: for the usage log and for reverse traceability."""
    usage = UsageRecord.objects.select_related("equipment", "user", "task__item")
    if equipment is not None:
        usage = usage.filter(equipment=equipment)
    if user is not None:
        usage = usage.filter(user=user)
    if end is not None:
        usage = usage.filter(started_at__lt=end)
    if start is not None:
        usage = usage.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
    return usage.order_by("-started_at", "-pk")


def open_usage(equipment: Equipment) -> list[UsageRecord]:
    return list(
        equipment.usage.filter(ended_at__isnull=True).select_related("user").order_by("started_at")
    )


def maintenance_of(equipment: Equipment):
    return equipment.maintenance.select_related("by").order_by("-date", "-pk")


def location_history(equipment: Equipment) -> QuerySet[LocationEvent]:
    return equipment.location_events.select_related("by").order_by("-at", "-pk")


def status_history(equipment: Equipment) -> list[dict]:
    """Each change of status with when, who and why, from the audit log (R6.2c)."""
    from django.contrib.auth import get_user_model

    from metrolab.core.selectors import audit_event_list
    from metrolab.core.templatetags.audit import actor_type

    events = audit_event_list(object_type="equipment.equipment", object_id=str(equipment.pk))
    changes = []
    for event in events[:500]:
        change = (event.changes or {}).get("status")
        if isinstance(change, dict) and "after" in change:
            changes.append((event, change))
    user_ids = {e.actor_id for e, _c in changes if e.actor_type == "user" and e.actor_id.isdigit()}
    names = {str(u.pk): str(u) for u in get_user_model().objects.filter(pk__in=user_ids)}
    labels = dict(Equipment.Status.choices)
    history = []
    for event, change in changes:
        history.append(
            {
                "at": event.created_at,
                "by": names.get(event.actor_id, event.actor_label)
                if event.actor_type == "user"
                else actor_type(event.actor_type),
                "before": labels.get(change.get("before"), change.get("before") or "—"),
                "after": labels.get(change["after"], change["after"]),
                "after_code": change["after"],
                "reason": event.reason,
                "action": event.action,
            }
        )
    return history


# --- measurement standards ------------------------------------------------------------------


def standard_list(*, q: str = "", active: bool | None = None) -> QuerySet[MeasurementStandard]:
    standards = MeasurementStandard.objects.select_related("discipline", "custodian")
    if q:
        standards = standards.filter(
            Q(name__icontains=q)
            | Q(certificate_no__icontains=q)
            | Q(measurands__icontains=q)
            | Q(range_text__icontains=q)
        )
    if active is not None:
        standards = standards.filter(active=active)
    return standards.order_by(F("active").desc(), "name")


def standard_get(pk: int) -> MeasurementStandard:
    standard = (
        MeasurementStandard.objects.select_related("discipline", "custodian").filter(pk=pk).first()
    )
    if standard is None:
        raise Http404("no such standard")
    return standard


def standard_certificate_status(
    standard: MeasurementStandard, on: dt.date | None = None
) -> DueStatus:
    """The standard's certificate (计量标准考核证书): valid ON its expiry day, expired after;
    due soon within 90 days (re-examination is applied for months ahead)."""
    on = on or _today()
    days = (standard.certificate_expiry - on).days
    if days < 0:
        return DueStatus(standard.certificate_expiry, "overdue", days)
    if days <= 90:
        return DueStatus(standard.certificate_expiry, "due_soon", days)
    return DueStatus(standard.certificate_expiry, "ok", days)
