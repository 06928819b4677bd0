"""`/api/v1/environment/alarms...`: the environmental alarm log and acknowledging an alarm
(R6.11d, R6.9c). Thin: reads are `alarms` selectors, the one write is the
`alarms.alarm_acknowledge` service (its refusals answer with the message and the status of
their code, through the API's ServiceError handler: acknowledged already, 409). The lab
reads the log; the people who answer for the rooms and the work acknowledge."""

import datetime as dt

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from metrolab.core.access import api_access
from metrolab.core.api_contract import Mapped
from metrolab.core.text import Note
from metrolab.environment import alarms
from metrolab.environment.filters import AlarmFilter
from metrolab.environment.models import Alarm
from metrolab.environment.roles import ALARM_ACKNOWLEDGERS, HISTORY_READERS

router = Router(tags=["environment"])


class AlarmRoomOut(Schema):
    id: int
    code: str
    name: str


class RoomAlarmOut(Schema):
    """An alarm as the room status lists it (`alarms.alarm_dict`)."""

    id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    sensor: str
    quantity: str
    requirement: int | None
    message: str
    value: float | None
    limit: float | None
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    comment: str
    cleared_at: dt.datetime | None
    open: bool


class AlarmOut(RoomAlarmOut):
    """An alarm in the log: with its room and the value it cleared at."""

    room: AlarmRoomOut
    cleared_value: float | None


class AcknowledgeIn(Schema):
    comment: Note


def _out(alarm: Alarm) -> dict:
    room = alarm.room
    return {
        **alarms.alarm_dict(alarm),
        "room": {"id": room.pk, "code": room.code, "name": room.name},
        "cleared_value": alarm.cleared_value,
    }


def _alarm_or_404(alarm_id: int) -> Alarm:
    alarm = alarms.alarm_get(alarm_id)
    if alarm is None:
        raise Http404(_("No such alarm."))
    return alarm


@router.get(
    "/alarms",
    response=list[AlarmOut],
    auth=api_access(roles=HISTORY_READERS),
    summary="The alarm log, newest first",
)
@paginate
def list_alarms(request, filters: Query[AlarmFilter]):
    """The filters of the alarm log page (`AlarmFilter`): `room` (id), `sensor` (code),
    `status`, `open` (true: not cleared yet), `kind`, `since` and `until` (days, both
    included)."""
    return Mapped(alarms.alarm_list(filters), _out)


@router.get(
    "/alarms/{alarm_id}",
    response=AlarmOut,
    auth=api_access(roles=HISTORY_READERS),
    summary="One alarm",
)
def get_alarm(request, alarm_id: int):
    return _out(_alarm_or_404(alarm_id))


@router.post(
    "/alarms/{alarm_id}/acknowledge",
    response=AlarmOut,
    auth=api_access(roles=ALARM_ACKNOWLEDGERS),
    summary="Acknowledge an alarm, with a comment",
)
def acknowledge_alarm(request, alarm_id: int, data: AcknowledgeIn):
    """`{"comment": "what was found and what was done"}` (required). A raised alarm becomes
    acknowledged; a cleared one stays cleared and is acknowledged too. An alarm already
    acknowledged, or an empty comment, is refused (422, the message says why)."""
    alarm = alarms.alarm_acknowledge(
        _alarm_or_404(alarm_id), actor=request.auth, comment=data.comment
    )
    return _out(alarms.alarm_get(alarm.pk))
