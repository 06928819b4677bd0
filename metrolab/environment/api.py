"""`/api/v1/environment/...`: readings from devices (R6.11b), rooms and their live status,
sensor history for plots. Thin: ingestion is `ingest.ingest_readings`, reads are selectors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from metrolab.core.access import api_access
from metrolab.core.api_contract import Mapped
from metrolab.environment import selectors
from metrolab.environment.alarms import alarm_dict, room_alarms
from metrolab.environment.api_alarms import AlarmRoomOut, RoomAlarmOut
from metrolab.environment.api_alarms import router as alarms_router
from metrolab.environment.api_control import ActuatorOut
from metrolab.environment.api_control import router as control_router
from metrolab.environment.control import room_actuators
from metrolab.environment.ingest import ingest_readings
from metrolab.environment.models import Room, Sensor
from metrolab.environment.roles import HISTORY_READERS, READING_WRITERS, STATUS_READERS

router = Router(tags=["environment"])

MAX_BATCH = 10_000


class ReadingsIn(Schema):
    # Items are checked one by one by the ingester (a bad item is rejected, not the batch).
    readings: list[Any]


class RejectionOut(Schema):
    index: int
    sensor: str
    code: str
    message: str


class IngestOut(Schema):
    stored: int
    rejected: list[RejectionOut]


class RoomOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    kind_label: str
    sensors: int


class SensorStatusOut(Schema):
    code: str
    name: str
    quantity: str
    unit: str
    value: float | None
    time: dt.datetime | None
    age_seconds: float | None
    stale: bool
    period_seconds: int
    uncertainty: float


class RequirementVerdictOut(Schema):
    id: int
    quantity: str
    low: float | None
    high: float | None
    unit: str
    method: str | None
    source: str
    note: str
    verdict: str


class RoomStatusOut(Schema):
    room: AlarmRoomOut
    at: dt.datetime
    sensors: list[SensorStatusOut]
    requirements: list[RequirementVerdictOut]
    alarms: list[RoomAlarmOut]
    actuators: list[ActuatorOut]


class SeriesPointOut(Schema):
    time: dt.datetime
    value: float
    min: float
    max: float
    count: int


class SeriesOut(Schema):
    sensor: str
    quantity: str
    unit: str
    start: dt.datetime
    end: dt.datetime
    resolution: str
    points: list[SeriesPointOut]


class SeriesQuery(Schema):
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    resolution: str | None = None


@router.post(
    "/readings",
    response=IngestOut,
    auth=api_access(roles=READING_WRITERS),
    summary="Report a batch of readings",
)
def post_readings(request, payload: ReadingsIn):
    """`{"readings": [{"sensor": code, "time": ISO 8601 with offset | epoch s, "value": n}]}`,
    at most 10 000 per request. Answers 200 with what was stored and, per rejected item, its
    index, a code and why (unknown_sensor, not_allowed, inactive_sensor, bad_value,
    implausible_value, bad_time, future_time, before_installation, too_old, duplicate,
    bad_item). The caller reports as its own account: only for the sensors bound to it
    (docs/environment-protocols.md)."""
    if len(payload.readings) > MAX_BATCH:
        raise HttpError(413, _("At most %(max)d readings per request.") % {"max": MAX_BATCH})
    result = ingest_readings(payload.readings, device=request.user, channel="http")
    return {"stored": result.stored, "rejected": [r.as_dict() for r in result.rejected]}


@router.get("/rooms", response=list[RoomOut], auth=api_access(roles=STATUS_READERS))
@paginate
def list_rooms(request):
    """The active rooms and areas whose environment is monitored."""
    rooms = Room.objects.filter(active=True).order_by("code")
    counts = {}
    for room_id in Sensor.objects.filter(active=True).values_list("room_id", flat=True):
        counts[room_id] = counts.get(room_id, 0) + 1
    return Mapped(
        rooms,
        lambda room: {
            "id": room.pk,
            "code": room.code,
            "name": room.name,
            "kind": room.kind,
            "kind_label": str(room.get_kind_display()),
            "sensors": counts.get(room.pk, 0),
        },
    )


@router.get(
    "/rooms/{room_id}/status", response=RoomStatusOut, auth=api_access(roles=STATUS_READERS)
)
def room_status(request, room_id: int):
    """Current corrected value of each sensor (with its age and whether it is stale), the
    room's requirements with a verdict each (within / outside / no_data), its open alarms (and
    those cleared but not yet acknowledged), and its actuators with their last command."""
    room = get_object_or_404(Room, pk=room_id)
    body = selectors.room_status(room).as_dict()
    body["alarms"] = [alarm_dict(alarm) for alarm in room_alarms(room)]
    body["actuators"] = room_actuators(room)
    return body


@router.get("/sensors/{code}/series", response=SeriesOut, auth=api_access(roles=HISTORY_READERS))
def sensor_series(request, code: str, query: Query[SeriesQuery]):
    """A sensor's corrected values for a plot, raw or as minute / hour buckets (mean, min,
    max), chosen for the span unless `resolution` says; default: the last 24 hours."""
    sensor = get_object_or_404(Sensor, code=code)
    end = query.end or timezone.now()
    start = query.start or end - dt.timedelta(hours=24)
    if start.tzinfo is None or end.tzinfo is None:
        raise HttpError(422, _("Give start and end with a UTC offset."))
    if end < start:
        raise HttpError(422, _("The period ends before it starts."))
    if query.resolution not in (None, selectors.RAW, selectors.MINUTE, selectors.HOUR):
        raise HttpError(422, _("The resolution is raw, minute or hour."))
    return selectors.series(sensor, start, end, query.resolution).as_dict()


# Alarms (`/alarms...`) and regulation (`/actuators...`, `/commands`) have their own modules.
router.add_router("", alarms_router)
router.add_router("", control_router)
