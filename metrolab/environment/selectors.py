"""Reads of the environment (R6.11, R6.2b): corrected readings, plot series, a room's live
status, and the conditions that held during an activity (`conditions_at`, stored with every
record by the records app).

Values are always the sensor's raw values with its calibration correction applied (the
correction is applied on read, so re-calibrating a sensor never rewrites history). The
correction is added in decimal arithmetic so that a corrected value lands exactly on a limit
when it should (21.9 + 0.1 is 22, not 22.000000000000004): limits are inclusive.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.environment.models import (
    Actuator,
    Aggregate,
    Alarm,
    Command,
    Reading,
    Requirement,
    Room,
    Sensor,
)

WITHIN, OUTSIDE, NO_DATA = "within", "outside", "no_data"
RAW, MINUTE, HOUR = "raw", "minute", "hour"
# A sensor whose newest reading is older than this many reporting periods is stale: its value
# no longer counts (room status, rules) and it is "offline" (alarms).
STALE_PERIODS = 2
SERIES_MAX_POINTS = 1500


def raw_days() -> int:
    return int(getattr(settings, "METROLAB_ENV_RAW_DAYS", 31))


def minute_days() -> int:
    return int(getattr(settings, "METROLAB_ENV_MINUTE_DAYS", 400))


def corrected(raw: float, correction: Decimal) -> float:
    """The raw value plus the sensor's correction, added exactly in decimal."""
    if not correction:
        return raw
    return float(Decimal(repr(raw)) + correction)


def weighted_mean(values: Iterable[tuple[float, int]]) -> float | None:
    """The mean of (value, weight) pairs (a bucket's mean and count, or a reading and 1),
    None when there is none. It never overflows, even for values near the float's limit (two
    readings of 1.7e308 have the mean 1.7e308, not infinity: the quarters of the values are
    summed, exactly, with their shares of the weight), and it lies within the least and the
    greatest value whatever the rounding."""
    pairs = [(float(value), weight) for value, weight in values if weight]
    if not pairs:
        return None
    weights = sum(weight for _, weight in pairs)
    quarter = math.fsum((value * 0.25) * (weight / weights) for value, weight in pairs)
    mean = quarter * 4  # at most a rounding above the greatest value: clamped below
    low = min(value for value, _ in pairs)
    high = max(value for value, _ in pairs)
    return min(max(mean, low), high)


def plain_number(value: float | Decimal) -> str:
    """A value as people write it: 26.3, 25, 0.05 (no trailing zeros, no exponent; a computed
    value at most 6 significant digits: 22.0627, not 22.06271868475721)."""
    d = Decimal(f"{value:.6g}") if isinstance(value, float) else Decimal(value)
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "") else text


def iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# --- readings and plot series -------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """A plotted value: a corrected reading (count 1) or a bucket's corrected mean / min / max."""

    time: dt.datetime
    value: float
    minimum: float
    maximum: float
    count: int = 1

    def as_dict(self) -> dict:
        return {
            "time": iso(self.time),
            "value": self.value,
            "min": self.minimum,
            "max": self.maximum,
            "count": self.count,
        }


@dataclass
class Series:
    sensor: Sensor
    start: dt.datetime
    end: dt.datetime
    resolution: str  # raw / minute / hour
    points: list[Point]

    def as_dict(self) -> dict:
        return {
            "sensor": self.sensor.code,
            "quantity": self.sensor.quantity,
            "unit": self.sensor.unit,
            "start": iso(self.start),
            "end": iso(self.end),
            "resolution": self.resolution,
            "points": [p.as_dict() for p in self.points],
        }


def sensor_readings(sensor: Sensor, start: dt.datetime, end: dt.datetime) -> list[Point]:
    """The sensor's raw readings with start ≤ time ≤ end, corrected, oldest first."""
    rows = (
        Reading.objects.filter(sensor=sensor, time__gte=start, time__lte=end)
        .order_by("time")
        .values_list("time", "value")
    )
    correction = sensor.correction
    points = []
    for time, raw in rows:
        value = corrected(raw, correction)
        points.append(Point(time, value, value, value))
    return points


def _aggregate_points(sensor: Sensor, period: str, start, end) -> list[Point]:
    rows = (
        Aggregate.objects.filter(sensor=sensor, period=period, start__gte=start, start__lte=end)
        .order_by("start")
        .values_list("start", "count", "minimum", "maximum", "mean")
    )
    c = sensor.correction
    return [
        Point(at, corrected(mean, c), corrected(low, c), corrected(high, c), count)
        for at, count, low, high, mean in rows
        if count
    ]


def choose_resolution(sensor: Sensor, start, end, now=None) -> str:
    """Raw readings when they are few enough to plot and still kept, else minute buckets,
    else hour buckets (what the retention policy keeps longest)."""
    now = now or timezone.now()
    span = max((end - start).total_seconds(), 0)
    if span / max(sensor.period_seconds, 1) <= SERIES_MAX_POINTS and start >= now - dt.timedelta(
        days=raw_days()
    ):
        return RAW
    if span / 60 <= SERIES_MAX_POINTS and start >= now - dt.timedelta(days=minute_days()):
        return MINUTE
    return HOUR


def series(sensor: Sensor, start, end, resolution: str | None = None, now=None) -> Series:
    """A plot series of the sensor between start and end, at `resolution` or chosen for it."""
    resolution = resolution or choose_resolution(sensor, start, end, now=now)
    if resolution == RAW:
        points = sensor_readings(sensor, start, end)
    elif resolution == MINUTE:
        points = _aggregate_points(sensor, Aggregate.Period.MINUTE, start, end)
    elif resolution == HOUR:
        points = _aggregate_points(sensor, Aggregate.Period.HOUR, start, end)
    else:
        raise ValueError(f"unknown resolution {resolution!r}")
    return Series(sensor, start, end, resolution, points)


def series_many(
    sensors: Iterable[Sensor], start: dt.datetime, end: dt.datetime, now=None
) -> dict[int, Series]:
    """`series` of each sensor (by its pk), each at the resolution chosen for it, in one query
    per resolution whatever the number of sensors (a dashboard's trend plots)."""
    groups: dict[str, list[Sensor]] = {}
    for sensor in sensors:
        groups.setdefault(choose_resolution(sensor, start, end, now=now), []).append(sensor)
    points: dict[int, list[Point]] = {}
    for resolution, members in groups.items():
        by_pk = {sensor.pk: sensor for sensor in members}
        for sensor in members:
            points[sensor.pk] = []
        if resolution == RAW:
            rows = (
                Reading.objects.filter(sensor_id__in=by_pk, time__gte=start, time__lte=end)
                .order_by("sensor_id", "time")
                .values_list("sensor_id", "time", "value")
            )
            for sensor_id, time, raw in rows:
                value = corrected(raw, by_pk[sensor_id].correction)
                points[sensor_id].append(Point(time, value, value, value))
            continue
        period = Aggregate.Period.MINUTE if resolution == MINUTE else Aggregate.Period.HOUR
        rows = (
            Aggregate.objects.filter(
                sensor_id__in=by_pk, period=period, start__gte=start, start__lte=end
            )
            .order_by("sensor_id", "start")
            .values_list("sensor_id", "start", "count", "minimum", "maximum", "mean")
        )
        for sensor_id, at, count, low, high, mean in rows:
            if count:
                c = by_pk[sensor_id].correction
                points[sensor_id].append(
                    Point(at, corrected(mean, c), corrected(low, c), corrected(high, c), count)
                )
    return {
        sensor.pk: Series(sensor, start, end, resolution, points[sensor.pk])
        for resolution, members in groups.items()
        for sensor in members
    }


# --- verdicts: the one home of "is it in range" ---------------------------------------------
#
# Every page, fragment and API answer judges with these functions (R6.11): a value against a
# requirement, a sensor against the requirements of its quantity, a requirement against the
# room's fresh values, and the room as a whole. Nothing else (no template, no script) decides.

# A sensor's check against one requirement, and a sensor's or a room's state (its colour).
STALE, NONE = "stale", "none"  # no fresh value; a sensor that no requirement concerns


# The badge of a verdict or a state: its tone (a badge class of core/app.css, see
# core/components.TONES) and its label. Templates render it with `{% verdict_badge %}`
# (environment/templatetags/verdicts.py) and never pick the colour themselves.
VERDICT_TONES = {WITHIN: "green", OUTSIDE: "red", STALE: "grey", NO_DATA: "grey", NONE: "neutral"}
# A room's or a sensor's state, as its badge says it.
STATE_LABELS = {
    WITHIN: _("within requirements"),
    OUTSIDE: _("outside / alarm"),
    STALE: _("no data"),
    NO_DATA: _("no data"),
    NONE: _("no requirement"),
}
# A requirement's verdict, as its badge says it.
VERDICT_LABELS = {
    WITHIN: _("within"),
    OUTSIDE: _("outside"),
    STALE: _("no data"),
    NO_DATA: _("no data"),
    NONE: _("no requirement"),
}


def verdict_badge(value: str, labels: dict = VERDICT_LABELS) -> tuple[str, str]:
    """The tone and the label of the badge of a verdict or a state (one of WITHIN, OUTSIDE,
    NO_DATA, STALE, NONE)."""
    return VERDICT_TONES[value], str(labels[value])


def beyond(value: float, low: Decimal | None, high: Decimal | None) -> str:
    """Which limit the value is beyond: "high", "low", or "" within them (the limits are
    inclusive; an open end is no limit). The one rule the verdicts and the alarms use."""
    if high is not None and value > float(high):
        return "high"
    if low is not None and value < float(low):
        return "low"
    return ""


def within(value: float, low: Decimal | None, high: Decimal | None) -> bool:
    """The value lies within the limits (inclusive; an open end is no limit)."""
    return beyond(value, low, high) == ""


def is_stale(last_time: dt.datetime | None, period_seconds: int, now: dt.datetime) -> bool:
    """No reading, or the newest older than STALE_PERIODS reporting periods."""
    return last_time is None or (now - last_time).total_seconds() > STALE_PERIODS * period_seconds


def check(value: float | None, stale: bool, req: Requirement) -> str:
    """A sensor's current value against one requirement: within, outside, or stale (no fresh
    value to judge)."""
    if stale or value is None:
        return STALE
    return WITHIN if within(value, req.low, req.high) else OUTSIDE


def sensor_state(fresh: bool, checks: Iterable[str]) -> str:
    """A sensor's colour: stale without a fresh value, outside when one requirement of its
    quantity is not met, within when all are, none when no requirement concerns it."""
    checks = list(checks)
    if not fresh:
        return STALE
    if OUTSIDE in checks:
        return OUTSIDE
    return WITHIN if checks else NONE


def verdict(req: Requirement, statuses: Iterable[SensorStatus]) -> str:
    """A requirement judged on the fresh current values of the sensors of its quantity:
    within (all inside), outside (one outside), or no data."""
    values = [s.value for s in statuses if s.sensor.quantity == req.quantity and s.fresh]
    if not values:
        return NO_DATA
    return WITHIN if all(within(v, req.low, req.high) for v in values) else OUTSIDE


def room_state(verdicts: Iterable[str], open_alarms: int, has_fresh: bool) -> str:
    """A room's colour. Outside: an open alarm or a requirement not met; stale: no fresh value
    at all, or a requirement without data; within: everything met."""
    verdicts = list(verdicts)
    if open_alarms or OUTSIDE in verdicts:
        return OUTSIDE
    if not has_fresh or NO_DATA in verdicts:
        return STALE
    return WITHIN


# --- requirements ---------------------------------------------------------------------------


def requirement_dict(req: Requirement) -> dict:
    return {
        "id": req.pk,
        "quantity": req.quantity,
        "low": num(req.low),
        "high": num(req.high),
        "unit": req.unit,
        "method": str(req.method) if req.method_id else None,
        "source": "method" if req.method_id else "room",
        "note": req.note,
    }


def room_requirements(room: Room, method=None) -> list[Requirement]:
    """The room's own requirements, plus `method`'s for this room when given."""
    scope = Q(method__isnull=True)
    if method is not None:
        scope |= Q(method=method)
    return list(
        Requirement.objects.filter(scope, room=room).select_related("method").order_by("pk")
    )


# --- live status ----------------------------------------------------------------------------


@dataclass
class SensorStatus:
    sensor: Sensor
    value: float | None
    time: dt.datetime | None
    age_seconds: float | None
    stale: bool

    @property
    def fresh(self) -> bool:
        return not self.stale and self.value is not None

    def as_dict(self) -> dict:
        s = self.sensor
        return {
            "code": s.code,
            "name": s.name,
            "quantity": s.quantity,
            "unit": s.unit,
            "value": self.value,
            "time": iso(self.time),
            "age_seconds": self.age_seconds,
            "stale": self.stale,
            "period_seconds": s.period_seconds,
            "uncertainty": float(s.uncertainty),
        }


def sensor_status(sensor: Sensor, now: dt.datetime) -> SensorStatus:
    """The sensor's latest corrected value, its age and whether it is stale."""
    if sensor.last_time is None or sensor.last_value is None:
        return SensorStatus(sensor, None, None, None, True)
    return SensorStatus(
        sensor,
        corrected(sensor.last_value, sensor.correction),
        sensor.last_time,
        (now - sensor.last_time).total_seconds(),
        is_stale(sensor.last_time, sensor.period_seconds, now),
    )


@dataclass
class RoomStatus:
    room: Room
    at: dt.datetime
    sensors: list[SensorStatus]
    requirements: list[tuple[Requirement, str]]  # (requirement, within / outside / no_data)

    def as_dict(self) -> dict:
        return {
            "room": {"id": self.room.pk, "code": self.room.code, "name": self.room.name},
            "at": iso(self.at),
            "sensors": [s.as_dict() for s in self.sensors],
            "requirements": [
                {**requirement_dict(req), "verdict": verdict} for req, verdict in self.requirements
            ],
        }


def room_status(room: Room, now: dt.datetime | None = None) -> RoomStatus:
    """The latest corrected value of each active sensor of the room with its age (stale when
    older than twice the sensor's reporting period), and the room's requirements, each judged
    on the sensors' fresh values: within, outside, or no data."""
    now = now or timezone.now()
    statuses = [
        sensor_status(sensor, now)
        for sensor in Sensor.objects.filter(room=room, active=True).order_by("code")
    ]
    verdicts = [(req, verdict(req, statuses)) for req in room_requirements(room)]
    return RoomStatus(room, now, statuses, verdicts)


# --- a room's board: what the rooms overview and the room's dashboard show -----------------


@dataclass
class SensorLine:
    """A sensor on a board: its status, its check against each requirement of its quantity
    (requirement, within / outside / stale) and its colour."""

    status: SensorStatus
    checks: list[tuple[Requirement, str]]
    state: str

    @property
    def sensor(self) -> Sensor:
        return self.status.sensor


@dataclass
class RoomBoard:
    """A room judged as a whole: every requirement that applies in it (its own and those of
    the methods performed there) with its verdict, every active sensor with its checks, the
    open alarms, and the room's colour."""

    room: Room
    at: dt.datetime
    sensors: list[SensorLine]
    requirements: list[tuple[Requirement, str]]
    open_alarms: int
    state: str

    @property
    def outside(self) -> int:
        """How many requirements are not met now."""
        return sum(1 for _req, v in self.requirements if v == OUTSIDE)


def room_boards(rooms: Iterable[Room], now: dt.datetime | None = None) -> list[RoomBoard]:
    """The board of each room, in the order given, in a fixed number of queries whatever the
    number of rooms and sensors (their sensors, their requirements, their open alarms)."""
    now = now or timezone.now()
    rooms = list(rooms)
    ids = [room.pk for room in rooms]
    sensors: dict[int, list[SensorStatus]] = {pk: [] for pk in ids}
    for sensor in Sensor.objects.filter(room_id__in=ids, active=True).order_by("code"):
        sensors[sensor.room_id].append(sensor_status(sensor, now))
    requirements: dict[int, list[Requirement]] = {pk: [] for pk in ids}
    for req in (
        Requirement.objects.filter(room_id__in=ids)
        .select_related("method")
        .order_by(F("method_id").asc(nulls_first=True), "pk")
    ):
        requirements[req.room_id].append(req)
    open_counts = dict(
        Alarm.objects.filter(room_id__in=ids, cleared_at__isnull=True)
        .values("room")
        .annotate(n=Count("pk"))
        .values_list("room", "n")
    )
    boards = []
    for room in rooms:
        statuses, reqs = sensors[room.pk], requirements[room.pk]
        lines = []
        for s in statuses:
            checks = [
                (req, check(s.value, s.stale, req))
                for req in reqs
                if req.quantity == s.sensor.quantity
            ]
            lines.append(SensorLine(s, checks, sensor_state(s.fresh, (c for _r, c in checks))))
        verdicts = [(req, verdict(req, statuses)) for req in reqs]
        open_alarms = open_counts.get(room.pk, 0)
        state = room_state((v for _r, v in verdicts), open_alarms, any(s.fresh for s in statuses))
        boards.append(RoomBoard(room, now, lines, verdicts, open_alarms, state))
    return boards


# --- actuators ------------------------------------------------------------------------------


def with_last_command(actuators: Iterable[Actuator]) -> list[Actuator]:
    """The actuators, each with `last_command` set (its newest command with who issued it
    and the rule, or None), in one query whatever their number."""
    actuators = list(actuators)
    latest = {
        command.actuator_id: command
        for command in Command.objects.filter(actuator__in=actuators)
        .filter(
            pk=Subquery(
                Command.objects.filter(actuator=OuterRef("actuator"))
                .order_by("-issued_at", "-pk")
                .values("pk")[:1]
            )
        )
        .select_related("issued_by", "rule")
    }
    for actuator in actuators:
        actuator.last_command = latest.get(actuator.pk)
    return actuators


def room_actuators(room: Room) -> list[Actuator]:
    """The room's active actuators, by code, with their last command."""
    return with_last_command(Actuator.objects.filter(room=room, active=True).order_by("code"))


# --- conditions during an activity (R6.2b) -----------------------------------------------


@dataclass(frozen=True)
class ConditionReading:
    time: dt.datetime
    value: float  # corrected
    sensor: str
    uncertainty: float  # U (k=2) of the corrected value

    def as_dict(self) -> dict:
        return {
            "time": iso(self.time),
            "value": self.value,
            "sensor": self.sensor,
            "U": self.uncertainty,
        }


@dataclass
class RequirementCheck:
    requirement: Requirement
    held: bool
    reason: str  # "" when held; "no data" or "outside"
    outside: int = 0  # readings outside the limits

    def as_dict(self) -> dict:
        return {
            **requirement_dict(self.requirement),
            "held": self.held,
            "reason": self.reason,
            "outside": self.outside,
        }


@dataclass
class QuantityConditions:
    quantity: str
    unit: str
    readings: list[ConditionReading] = field(default_factory=list)
    checks: list[RequirementCheck] = field(default_factory=list)
    low: Decimal | None = None  # the applied limits: the stricter of all requirements per side
    high: Decimal | None = None

    @property
    def minimum(self) -> float | None:
        return min((r.value for r in self.readings), default=None)

    @property
    def maximum(self) -> float | None:
        return max((r.value for r in self.readings), default=None)

    @property
    def mean(self) -> float | None:
        return weighted_mean((r.value, 1) for r in self.readings)

    @property
    def held(self) -> bool:
        return all(check.held for check in self.checks)

    def as_dict(self) -> dict:
        return {
            "quantity": self.quantity,
            "unit": self.unit,
            "count": len(self.readings),
            "min": self.minimum,
            "max": self.maximum,
            "mean": self.mean,
            "low": num(self.low),
            "high": num(self.high),
            "held": self.held,
            "requirements": [c.as_dict() for c in self.checks],
            "readings": [r.as_dict() for r in self.readings],
        }


@dataclass
class Conditions:
    """The environment of a room during [start, end]: what was measured, and whether each
    requirement that applied held."""

    room: Room
    start: dt.datetime
    end: dt.datetime
    method: object | None
    quantities: dict[str, QuantityConditions]

    @property
    def held(self) -> bool:
        return all(q.held for q in self.quantities.values())

    def as_dict(self) -> dict:
        return {
            "room": {"id": self.room.pk, "code": self.room.code, "name": self.room.name},
            "start": iso(self.start),
            "end": iso(self.end),
            "method": str(self.method) if self.method is not None else None,
            "held": self.held,
            "quantities": {name: q.as_dict() for name, q in self.quantities.items()},
        }


def conditions_at(room: Room, start: dt.datetime, end: dt.datetime, method=None) -> Conditions:
    """The corrected readings of the room's sensors with start ≤ time ≤ end, per quantity, and
    for each requirement that applies (the room's; plus the method's when `method` is given)
    whether it held: every reading within its limits (inclusive). A requirement with no reading
    in the period did not hold ("no data"). When a method adds a stricter range, both are
    checked, and the quantity's applied limits are the stricter of the two on each side."""
    if end < start:
        raise ValueError("the period ends before it starts")
    sensors = {s.pk: s for s in Sensor.objects.filter(room=room)}
    quantities: dict[str, QuantityConditions] = {}
    for sensor in sorted(sensors.values(), key=lambda s: s.code):
        quantities.setdefault(sensor.quantity, QuantityConditions(sensor.quantity, sensor.unit))
    rows = (
        Reading.objects.filter(sensor_id__in=list(sensors), time__gte=start, time__lte=end)
        .order_by("time", "sensor_id")
        .values_list("sensor_id", "time", "value")
    )
    for sensor_id, time, raw in rows:
        sensor = sensors[sensor_id]
        quantities[sensor.quantity].readings.append(
            ConditionReading(
                time, corrected(raw, sensor.correction), sensor.code, float(sensor.uncertainty)
            )
        )
    for req in room_requirements(room, method):
        q = quantities.setdefault(req.quantity, QuantityConditions(req.quantity, req.unit))
        if req.low is not None and (q.low is None or req.low > q.low):
            q.low = req.low
        if req.high is not None and (q.high is None or req.high < q.high):
            q.high = req.high
        if not q.readings:
            q.checks.append(RequirementCheck(req, False, "no data"))
            continue
        outside = sum(1 for r in q.readings if not within(r.value, req.low, req.high))
        q.checks.append(RequirementCheck(req, not outside, "outside" if outside else "", outside))
    return Conditions(room, start, end, method, dict(sorted(quantities.items())))
