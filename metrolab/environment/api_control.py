"""`/api/v1/environment/...` for regulation (R6.11e): the actuators and their state, manual
commands by authorised staff, the command log. Thin: commands go through
`control.command_send` (audited with the reason; refusals answer 422 with the message, 409
for an inactive actuator or one already in that state)."""

import datetime as dt
from decimal import Decimal

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from metrolab.core.access import api_access
from metrolab.core.api_contract import Mapped
from metrolab.core.text import Code, ShortText
from metrolab.environment import control
from metrolab.environment.models import Actuator, Command
from metrolab.environment.roles import CONTROLLERS, HISTORY_READERS, STATUS_READERS
from metrolab.environment.selectors import with_last_command

router = Router(tags=["environment"])


class LastCommandOut(Schema):
    action: str
    value: float | None
    source: str
    reason: str
    issued_at: dt.datetime
    status: str
    issued_by: str | None


class ActuatorOut(Schema):
    code: str
    name: str
    kind: str
    kind_label: str
    protocol: str
    on: bool
    setpoint: float | None
    unit: str
    setpoint_min: float | None
    setpoint_max: float | None
    last_command: LastCommandOut | None


class ActuatorFilters(Schema):
    room: int | None = None  # the room's id


class CommandIn(Schema):
    action: Code
    value: Decimal | None = None
    reason: ShortText = ""


class CommandOut(Schema):
    id: int
    actuator: str
    room: str
    action: str
    action_label: str
    value: float | None
    source: str
    source_label: str
    rule: int | None
    reason: str
    issued_at: dt.datetime
    issued_by: str | None
    status: str
    status_label: str
    sent_at: dt.datetime | None
    error: str


class CommandFilters(Schema):
    room: int | None = None  # the room's id
    actuator: str | None = None  # the actuator's code


@router.get(
    "/actuators",
    response=list[ActuatorOut],
    auth=api_access(roles=STATUS_READERS),
    summary="Actuators and their commanded state (of one room: ?room=id)",
)
@paginate
def actuator_list(request, filters: Query[ActuatorFilters]):
    actuators = Actuator.objects.filter(active=True, room__active=True).select_related("room")
    if filters.room is not None:
        actuators = actuators.filter(room_id=filters.room)
    return Mapped(
        with_last_command(actuators.order_by("room__code", "code")), control.actuator_dict
    )


@router.post(
    "/actuators/{code}/commands",
    response={201: CommandOut},
    auth=api_access(roles=CONTROLLERS),
    summary="Command an actuator by hand: {action: on | off | set, value, reason}",
)
def command_create(request, code: str, data: CommandIn):
    """Manual control (R6.11e): the command is recorded with the person and the reason, then
    delivered; the answer shows whether it was sent. Refusals (an inactive actuator, a
    set-point out of range or on an actuator without one, no reason) answer 422."""
    actuator = get_object_or_404(Actuator, code=code)
    command = control.command_send(
        actuator,
        action=data.action,
        value=data.value,
        reason=data.reason,
        actor=request.auth,
    )
    command = Command.objects.select_related("actuator__room", "issued_by").get(pk=command.pk)
    return Status(201, control.command_dict(command))


@router.get(
    "/commands",
    response=list[CommandOut],
    auth=api_access(roles=HISTORY_READERS),
    summary="The command log, newest first (of a room: ?room=id; an actuator: ?actuator=code)",
)
@paginate
def command_list(request, filters: Query[CommandFilters]):
    commands = Command.objects.select_related("actuator__room", "issued_by").order_by(
        "-issued_at", "-pk"
    )
    if filters.room is not None:
        commands = commands.filter(actuator__room_id=filters.room)
    if filters.actuator:
        commands = commands.filter(actuator__code=filters.actuator)
    return _CommandPage(commands)


class _CommandPage:
    """The queryset, sliced by the paginator in the database, each row as `command_dict`."""

    def __init__(self, queryset):
        self.queryset = queryset

    def __len__(self):
        return self.queryset.count()

    def count(self):
        return self.queryset.count()

    def __getitem__(self, item):
        rows = self.queryset[item]
        if isinstance(item, slice):
            return [control.command_dict(c) for c in rows]
        return control.command_dict(rows)
