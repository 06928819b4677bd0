"""Environmental alarms (R6.11d, R6.9c): thresholds with a delay and hysteresis, per room and
per method requirement, and "offline" alarms for silent sensors; lifecycle raised →
acknowledged (by whom, with a comment) → cleared.

The rules (the contract of `/work/brief-env2.md`, shared with the dashboard and regulation):

- Every requirement with `alarm=True` of a sensor's room whose quantity is the sensor's (the
  room's own and the methods' requirements of that room) is checked against each of the
  sensor's readings, corrected by the sensor's calibration (`selectors.corrected`); limits are
  inclusive, so a value equal to a limit is inside.
- A value above `high` (below `low`) is outside on that side since the reading's time t0. At a
  reading (or, with no newer reading, a watch tick) at t with t − t0 ≥ `alarm_delay_seconds`
  while still outside on that side, one alarm is raised (kind high / low, `limit` the limit
  crossed). A reading back inside before the delay ends the excursion: the next one starts
  the delay again.
- A high alarm clears at the first reading ≤ high − hysteresis, a low one at the first reading
  ≥ low + hysteresis (each alarm watches its own side of [low + h, high − h]); cleared_at and
  cleared_value are that reading's.
- At most one open alarm per (requirement, sensor, kind).
- Offline: an active sensor of an active room whose newest reading (never: its creation) is
  older than twice its reporting period - the staleness rule of `selectors.room_status` - has
  one open offline alarm; a reading that makes it fresh again clears it.
- A raised alarm is told (notification service, event "environment.alarm") to the room's
  responsible person and every active equipment manager, once each.

Concurrency. Ingesters may run in several processes, each calling `on_readings` after its
commit. A batch is first evaluated without a transaction: readings inside their limits, of a
state that stays inside, change nothing and write nothing (the usual case: three reads). When
something changes, the evaluation starts again with the AlarmState rows of its (requirement,
sensor) pairs locked (ordered by primary key, `select_for_update` on PostgreSQL; on SQLite the
IMMEDIATE transaction is the single write lock), so two evaluations of one pair run one after
the other and neither loses the other's state. Alarms are audited rows, written by services
that take the audit chain lock first, and every writer must take that lock before its row
locks (`audit.lock_chain`): so an evaluation that raises or clears an alarm takes the chain
lock first, then the state rows. Alarms are only ever inserted under the chain lock after
checking that none is open for the same (requirement, sensor, kind): two evaluations can never
raise one alarm twice. (The lock-free first look may miss a concurrent evaluation of the same
sensor still in progress; the sensor's next reading is evaluated against what it wrote.)

A state is written when an excursion starts or ends, and with each reading while outside (its
`last_time` / `last_value` are those of the last reading it was written with); readings older
than one already evaluated are history and change nothing, and so is a batch older than the
sensor's newest stored reading.

Cost per ingested batch: one query for the alarm requirements of the batch's rooms, one for
the states of its (requirement, sensor) pairs, one for the open alarms of its sensors; writes
only when something changes (one UPDATE of the states that changed; the alarm services).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from metrolab.core import audit
from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import SYSTEM, require_person
from metrolab.core.service import ServiceError, service
from metrolab.core.text import NOTE
from metrolab.environment.filters import AlarmFilter
from metrolab.environment.models import Alarm, AlarmState, Reading, Requirement, Room, Sensor
from metrolab.environment.selectors import beyond, corrected, is_stale, plain_number

HIGH, LOW, OFFLINE = Alarm.Kind.HIGH.value, Alarm.Kind.LOW.value, Alarm.Kind.OFFLINE.value
STATE_FIELDS = ["outside_since", "side", "last_time", "last_value"]
COMMENT_MAX = NOTE  # an acknowledgement's comment (Alarm.comment)
ROOM_ALARMS_MAX = 100


class Changes(NamedTuple):
    """What an evaluation did: the alarms raised and the alarms cleared."""

    raised: list[Alarm]
    cleared: list[Alarm]


# --- formatting ---------------------------------------------------------------------------------


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _threshold_message(req: Requirement, sensor: Sensor, kind: str, value: float) -> str:
    """e.g. "TL-1 T-01 26.3 ℃ above 25 ℃" (in the active language)."""
    limit = req.high if kind == HIGH else req.low
    values = {
        "room": req.room.code,
        "sensor": sensor.code,
        "value": plain_number(value),
        "unit": sensor.unit,
        "limit": plain_number(limit),
        "limit_unit": req.unit,
    }
    if req.method_id:
        values["method"] = str(req.method)
        if kind == HIGH:
            text = _(
                "%(room)s %(sensor)s %(value)s %(unit)s above %(limit)s %(limit_unit)s "
                "required by %(method)s"
            )
        else:
            text = _(
                "%(room)s %(sensor)s %(value)s %(unit)s below %(limit)s %(limit_unit)s "
                "required by %(method)s"
            )
    elif kind == HIGH:
        text = _("%(room)s %(sensor)s %(value)s %(unit)s above %(limit)s %(limit_unit)s")
    else:
        text = _("%(room)s %(sensor)s %(value)s %(unit)s below %(limit)s %(limit_unit)s")
    return text % values


def _offline_message(sensor: Sensor, room: Room) -> str:
    values = {"room": room.code, "sensor": sensor.code, "period": sensor.period_seconds}
    if sensor.last_time is None:
        return _("%(room)s %(sensor)s has never reported (expected every %(period)s s)") % values
    values["since"] = _local(sensor.last_time)
    return _("%(room)s %(sensor)s silent since %(since)s (expected every %(period)s s)") % values


def alarm_dict(alarm: Alarm) -> dict:
    """The alarm as the room status and the API show it (keys fixed by the shared contract).
    Load it with `select_related("sensor", "acknowledged_by")` when listing many."""
    who = alarm.acknowledged_by
    return {
        "id": alarm.pk,
        "kind": alarm.kind,
        "kind_label": str(alarm.get_kind_display()),
        "status": alarm.status,
        "status_label": str(alarm.get_status_display()),
        "sensor": alarm.sensor.code,
        "quantity": alarm.sensor.quantity,
        "requirement": alarm.requirement_id,
        "message": alarm.message,
        "value": alarm.value,
        "limit": None if alarm.limit is None else float(alarm.limit),
        "raised_at": alarm.raised_at.isoformat(),
        "acknowledged_at": alarm.acknowledged_at.isoformat() if alarm.acknowledged_at else None,
        "acknowledged_by": str(who) if who is not None else None,
        "comment": alarm.comment,
        "cleared_at": alarm.cleared_at.isoformat() if alarm.cleared_at else None,
        "open": alarm.open,
    }


# --- selectors ------------------------------------------------------------------------------------


def _alarms() -> QuerySet[Alarm]:
    return Alarm.objects.select_related("room", "sensor", "requirement", "acknowledged_by")


def room_alarms(room: Room, limit: int = ROOM_ALARMS_MAX) -> list[Alarm]:
    """The room's open alarms and those cleared but not yet acknowledged, newest first (what
    the room's dashboard shows and someone still has to look at)."""
    rows = (
        _alarms()
        .filter(room=room)
        .filter(Q(cleared_at__isnull=True) | Q(acknowledged_at__isnull=True))
    )
    return list(rows.order_by("-raised_at", "-pk")[:limit])


def alarm_list(filters: AlarmFilter | None = None) -> QuerySet[Alarm]:
    """The alarm log, newest first, filtered as the log's page and API filter
    (`environment.filters.AlarmFilter`: the period's end day included)."""
    rows = _alarms()
    if filters is not None:
        rows = filters.filter(rows)
    return rows.order_by("-raised_at", "-pk")


def alarm_get(pk: int) -> Alarm | None:
    return _alarms().filter(pk=pk).first()


# --- services -------------------------------------------------------------------------------------


def _recipients(room: Room) -> list:
    """The room's responsible person and the active equipment managers, each once."""
    from metrolab.equipment.services import equipment_managers

    people = {}
    if room.responsible_id is not None and room.responsible.is_active:
        people[room.responsible_id] = room.responsible
    for user in equipment_managers():
        people.setdefault(user.pk, user)
    return list(people.values())


def _tell(alarm: Alarm, actor: Any) -> None:
    from metrolab.notifications.services import notify

    room, sensor = alarm.room, alarm.sensor
    lines = [
        alarm.message,
        _("Room: %(code)s %(name)s") % {"code": room.code, "name": room.name},
        _("Sensor: %(code)s %(name)s") % {"code": sensor.code, "name": sensor.name},
    ]
    if alarm.requirement_id:
        lines.append(_("Requirement: %(req)s") % {"req": alarm.requirement})
    lines.append(_("Raised at %(time)s") % {"time": _local(alarm.raised_at)})
    body = "\n".join(lines)
    payload = {"alarm": alarm.pk, "room": room.code, "sensor": sensor.code, "kind": alarm.kind}
    for user in _recipients(room):
        notify(
            event="environment.alarm",
            subject=alarm.message,
            body=body,
            recipient_user=user,
            channels={"email": user.email},
            payload=payload,
            related=alarm,
            actor=actor,
        )


@service("alarm.raise")
def alarm_raise(
    *,
    sensor: Sensor,
    kind: str,
    at: dt.datetime,
    requirement: Requirement | None = None,
    value: float | None = None,
    actor: Any,
) -> Alarm | None:
    """Raise an alarm (the engine's, as the system; nobody raises alarms by hand) and tell the
    room's people.
    None when one of this (requirement, sensor, kind) is already open: the check runs under
    the audit chain lock every alarm write takes, so concurrent evaluations never raise the
    same alarm twice. The message is stored in the lab's default language."""
    already = Alarm.objects.filter(
        sensor=sensor, requirement=requirement, kind=kind, cleared_at__isnull=True
    )
    if already.exists():
        return None
    room = requirement.room if requirement is not None else sensor.room
    with translation.override(settings.LANGUAGE_CODE):
        if kind == OFFLINE:
            message, limit = _offline_message(sensor, room), None
        else:
            message = _threshold_message(requirement, sensor, kind, value)
            limit = requirement.high if kind == HIGH else requirement.low
        alarm = Alarm.objects.create(
            room=room,
            sensor=sensor,
            requirement=requirement,
            kind=kind,
            status=Alarm.Status.RAISED,
            message=message[:300],
            value=value,
            limit=limit,
            raised_at=at,
        )
        _tell(alarm, actor)
    return alarm


@service("alarm.clear")
def alarm_clear(
    alarm: Alarm, *, at: dt.datetime, value: float | None = None, actor: Any
) -> Alarm | None:
    """The condition is back to normal: the alarm is cleared (it stays in the room's list
    until acknowledged). None when it was already cleared."""
    alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
    if alarm.cleared_at is not None:
        return None
    alarm.cleared_at = at
    alarm.cleared_value = value
    alarm.status = Alarm.Status.CLEARED
    alarm.save(update_fields=["cleared_at", "cleared_value", "status", "updated_at"])
    return alarm


@service("alarm.acknowledge")
def alarm_acknowledge(alarm: Alarm, *, actor, comment: str) -> Alarm:
    """Someone has seen the alarm and says what they found or did (R6.11d). A raised alarm
    becomes acknowledged; one that already cleared stays cleared, now acknowledged too. An
    alarm is acknowledged once."""
    alarm = (
        Alarm.objects.select_for_update(of=("self",))
        .select_related("acknowledged_by")
        .get(pk=alarm.pk)
    )
    if alarm.acknowledged_at is not None:
        raise ServiceError(
            _("This alarm was already acknowledged by %(who)s at %(when)s.")
            % {"who": alarm.acknowledged_by, "when": _local(alarm.acknowledged_at)},
            code=CoreRefusal.CONFLICT,
        )
    comment = (comment or "").strip()
    if not comment:
        raise ServiceError(_("Write a comment: what you found and what was done."), field="comment")
    if len(comment) > COMMENT_MAX:
        raise ServiceError(
            _("The comment is too long (at most %(max)d characters).") % {"max": COMMENT_MAX},
            field="comment",
        )
    alarm.acknowledged_at = timezone.now()
    alarm.acknowledged_by = require_person(actor)
    alarm.comment = comment
    if alarm.status == Alarm.Status.RAISED:
        alarm.status = Alarm.Status.ACKNOWLEDGED
    alarm.save()
    return alarm


# --- the engine: readings -------------------------------------------------------------------------


def _side(value: float, req: Requirement) -> str:
    """Which limit the corrected value is beyond (HIGH, LOW, or "" inside), by the verdicts'
    one rule (`selectors.beyond`: inclusive limits)."""
    return beyond(value, req.low, req.high)


def _back_inside(value: float, req: Requirement, kind: str) -> bool:
    """Whether a high / low alarm clears at this value: inside by the hysteresis."""
    h = req.hysteresis or Decimal(0)
    if kind == HIGH:
        return req.high is None or value <= float(req.high - h)
    return req.low is None or value >= float(req.low + h)


def _fresh(sensor: Sensor, moment: dt.datetime, now: dt.datetime) -> bool:
    """Not stale by the rule of `selectors.room_status`."""
    return not is_stale(moment, sensor.period_seconds, now)


class _MissingStates(Exception):
    def __init__(self, keys):
        super().__init__(f"{len(keys)} alarm state(s) to create")
        self.keys = keys


class _Retry(Exception):
    """Start the evaluation again, with more locks (see `on_readings`)."""


@dataclass
class _Batch:
    """The readings of one ingestion, per sensor in time order, and the (requirement,
    sensor) pairs they are checked against."""

    sensors: dict[int, Sensor]
    readings: dict[int, list[Reading]]
    pairs: list[tuple[Requirement, Sensor]]

    @property
    def keys(self) -> list[tuple[int, int]]:
        return sorted((req.pk, sensor.pk) for req, sensor in self.pairs)


@dataclass
class _Plan:
    states: list[AlarmState] = field(default_factory=list)  # changed
    raise_: list[dict] = field(default_factory=list)  # alarm_raise keyword arguments
    clear: list[tuple[Alarm, dt.datetime, float | None]] = field(default_factory=list)

    @property
    def touches_alarms(self) -> bool:
        return bool(self.raise_ or self.clear)


def _batch(readings: Iterable[Reading]) -> _Batch | None:
    per_sensor: dict[int, list[Reading]] = defaultdict(list)
    sensors: dict[int, Sensor] = {}
    for reading in readings:
        per_sensor[reading.sensor_id].append(reading)
        if reading.sensor_id not in sensors:
            sensors[reading.sensor_id] = reading.sensor
    if not sensors:
        return None
    for rows in per_sensor.values():
        rows.sort(key=lambda r: r.time)
    room_ids = {s.room_id for s in sensors.values()}
    quantities = {s.quantity for s in sensors.values()}
    requirements = Requirement.objects.filter(
        room_id__in=room_ids, room__active=True, quantity__in=quantities, alarm=True
    ).select_related("room", "method")
    by_room: dict[tuple[int, str], list[Requirement]] = defaultdict(list)
    for req in requirements:
        by_room[req.room_id, req.quantity].append(req)
    # A sensor whose newest stored reading is newer than all of this batch's (the ingester
    # moved `last_time` forward with the batch, so it is the newest before or in it) sent
    # history: those readings were overtaken by news already evaluated.
    pairs = [
        (req, sensor)
        for sensor_id, sensor in sensors.items()
        if sensor.last_time is None or per_sensor[sensor_id][-1].time >= sensor.last_time
        for req in by_room.get((sensor.room_id, sensor.quantity), ())
    ]
    return _Batch(sensors, dict(per_sensor), pairs)


def _states(batch: _Batch, *, lock: bool) -> dict[tuple[int, int], AlarmState]:
    if not batch.pairs:
        return {}
    wanted = set(batch.keys)
    rows = AlarmState.objects.filter(
        requirement_id__in={r for r, _s in wanted}, sensor_id__in={s for _r, s in wanted}
    )
    if lock:
        rows = rows.select_for_update().order_by("pk")  # one order: no deadlock between two
    states = {(st.requirement_id, st.sensor_id): st for st in rows}
    missing = sorted(wanted - set(states))
    if missing:
        raise _MissingStates(missing)
    return states


def _create_states(keys) -> None:
    """In a transaction of its own, before any row lock is held (see the module docstring);
    a state another process created meanwhile is kept as it is."""
    with transaction.atomic():
        AlarmState.objects.bulk_create(
            [AlarmState(requirement_id=r, sensor_id=s) for r, s in keys], ignore_conflicts=True
        )


def _plan(batch: _Batch, now: dt.datetime, *, lock: bool) -> _Plan:
    """Walk the batch's readings through the states (see the module docstring). A state is
    written when its excursion starts or ends, and with every reading while it is outside
    (`check_delays` goes by its last value); inside and staying inside, nothing is written."""
    plan = _Plan()
    states = _states(batch, lock=lock)
    # Open alarms by (requirement, sensor, kind); a dict stands for one this plan raises.
    open_alarms: dict[tuple[int | None, int, str], Alarm | dict] = {}
    rooms = {s.room_id for s in batch.sensors.values()}
    for alarm in Alarm.objects.filter(
        room_id__in=rooms, sensor_id__in=list(batch.sensors), cleared_at__isnull=True
    ):
        open_alarms[alarm.requirement_id, alarm.sensor_id, alarm.kind] = alarm

    for req, sensor in batch.pairs:
        state = states[req.pk, sensor.pk]
        before = (state.side, state.outside_since)
        evaluated = False
        for reading in batch.readings[sensor.pk]:
            if state.last_time is not None and reading.time <= state.last_time:
                continue  # already evaluated, or older than what was: history, not news
            evaluated = True
            value = corrected(reading.value, sensor.correction)
            for kind in (HIGH, LOW):
                key = (req.pk, sensor.pk, kind)
                if key in open_alarms and _back_inside(value, req, kind):
                    alarm = open_alarms.pop(key)
                    if isinstance(alarm, dict):  # raised earlier in this batch
                        alarm["clear"] = (reading.time, value)
                    else:
                        plan.clear.append((alarm, reading.time, value))
            side = _side(value, req)
            if side != state.side:
                state.side = side
                state.outside_since = reading.time if side else None
            if (
                side
                and (req.pk, sensor.pk, side) not in open_alarms
                and (reading.time - state.outside_since).total_seconds() >= req.alarm_delay_seconds
            ):
                raising = {
                    "sensor": sensor,
                    "requirement": req,
                    "kind": side,
                    "at": reading.time,
                    "value": value,
                }
                plan.raise_.append(raising)
                open_alarms[req.pk, sensor.pk, side] = raising
            state.last_time, state.last_value = reading.time, value
        if evaluated and (state.side or (state.side, state.outside_since) != before):
            plan.states.append(state)

    for sensor_id, sensor in batch.sensors.items():
        alarm = open_alarms.get((None, sensor_id, OFFLINE))
        newest = batch.readings[sensor_id][-1]
        if alarm is not None and _fresh(sensor, newest.time, now):
            plan.clear.append((alarm, newest.time, corrected(newest.value, sensor.correction)))
    return plan


def _apply(plan: _Plan) -> Changes:
    if plan.states:
        AlarmState.objects.bulk_update(plan.states, STATE_FIELDS)
    cleared = [alarm_clear(a, at=at, value=v, actor=SYSTEM) for a, at, v in plan.clear]
    raised = []
    for raising in plan.raise_:
        then = raising.pop("clear", None)
        alarm = alarm_raise(**raising, actor=SYSTEM)
        if alarm is not None:
            raised.append(alarm)
            if then is not None:
                cleared.append(alarm_clear(alarm, at=then[0], value=then[1], actor=SYSTEM))
    return Changes(raised, [a for a in cleared if a])


def on_readings(readings: list[Reading], *, now: dt.datetime | None = None) -> Changes:
    """The ingestion listener (`ingest.ingest_listeners`): check the stored readings against
    the alarm requirements of their rooms, raise and clear alarms (see the module docstring).
    Called after the ingestion's commit; returns what changed."""
    batch = _batch(readings)
    if batch is None:
        return Changes([], [])
    now = now or timezone.now()
    # 1. Without a transaction or a lock: the usual batch (inside, and staying inside)
    #    changes nothing, and is done after three reads.
    # 2. With the states locked: when only they change.
    # 3. With the audit chain lock first, then the states: when alarms are raised or cleared.
    # Each stage evaluates afresh what it has locked; a stage may find it needs the next one.
    stage = 1
    for _attempt in range(6):
        try:
            if stage == 1:
                plan = _plan(batch, now, lock=False)
                if not plan.states and not plan.touches_alarms:
                    return Changes([], [])
                stage = 3 if plan.touches_alarms else 2
                continue
            with transaction.atomic():
                if stage == 3:
                    audit.lock_chain()
                plan = _plan(batch, now, lock=True)
                if stage == 2 and plan.touches_alarms:
                    stage = 3
                    raise _Retry
                return _apply(plan)
        except _MissingStates as missing:
            _create_states(missing.keys)
        except _Retry:
            pass
    raise RuntimeError("alarm states could not be created")  # pragma: no cover


# --- the engine: time passing (the watch) --------------------------------------------------------


def _due(state: AlarmState, now: dt.datetime) -> bool:
    req = state.requirement
    return (
        state.outside_since is not None
        and state.last_value is not None
        and _side(state.last_value, req) == state.side
        and (now - state.outside_since).total_seconds() >= req.alarm_delay_seconds
    )


def check_delays(now: dt.datetime | None = None) -> Changes:
    """Raise the alarms whose delay ran out with no newer reading (the last value was
    outside, and nothing since said otherwise); raised at `now`."""
    now = now or timezone.now()
    candidates = (
        AlarmState.objects.exclude(side="")
        .filter(
            outside_since__isnull=False,
            requirement__alarm=True,
            requirement__room__active=True,
            sensor__active=True,
        )
        .select_related("requirement", "requirement__room", "requirement__method", "sensor")
    )
    if not any(_due(state, now) for state in candidates):
        return Changes([], [])
    raised = []
    with transaction.atomic():
        audit.lock_chain()
        states = [s for s in candidates.select_for_update(of=("self",)).order_by("pk")]
        due = [s for s in states if _due(s, now)]
        open_keys = set(
            Alarm.objects.filter(
                sensor_id__in={s.sensor_id for s in due}, cleared_at__isnull=True
            ).values_list("requirement_id", "sensor_id", "kind")
        )
        for state in due:
            if (state.requirement_id, state.sensor_id, state.side) in open_keys:
                continue
            alarm = alarm_raise(
                sensor=state.sensor,
                requirement=state.requirement,
                kind=state.side,
                at=now,
                value=state.last_value,
                actor=SYSTEM,
            )
            if alarm is not None:
                raised.append(alarm)
    return Changes(raised, [])


def _stale(sensor: Sensor, now: dt.datetime) -> bool:
    return is_stale(sensor.last_time or sensor.created_at, sensor.period_seconds, now)


def check_offline(now: dt.datetime | None = None) -> Changes:
    """Raise an offline alarm for each active sensor of an active room that is stale (silent
    for more than twice its period; never reported: created more than two periods ago), and
    clear the offline alarms of sensors that are fresh again or were taken out of service
    (a reading normally clears them first: this catches what a race or a restart missed)."""
    now = now or timezone.now()
    watched = Sensor.objects.filter(active=True, room__active=True).select_related("room")
    sensors = {s.pk: s for s in watched}
    open_offline = {
        a.sensor_id: a
        for a in Alarm.objects.filter(kind=OFFLINE, cleared_at__isnull=True).select_related(
            "sensor"
        )
    }
    to_raise = [s for pk, s in sensors.items() if pk not in open_offline and _stale(s, now)]
    to_clear = []
    for sensor_id, alarm in open_offline.items():
        sensor = sensors.get(sensor_id)
        if sensor is None:
            to_clear.append((alarm, now, None))  # inactive sensor or room
        elif not _stale(sensor, now) and sensor.last_time is not None:
            raw = sensor.last_value
            value = None if raw is None else corrected(raw, sensor.correction)
            to_clear.append((alarm, sensor.last_time, value))
    if not to_raise and not to_clear:
        return Changes([], [])
    with transaction.atomic():
        audit.lock_chain()
        cleared = [alarm_clear(a, at=at, value=v, actor=SYSTEM) for a, at, v in to_clear]
        raised = [alarm_raise(sensor=s, kind=OFFLINE, at=now, actor=SYSTEM) for s in to_raise]
    return Changes([a for a in raised if a], [a for a in cleared if a])
