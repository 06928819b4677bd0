"""Regulation of the rooms (R6.11e): commands to actuators, by a person or by a rule.

One service sends every command, `command_send`: it checks the command, records it (audited,
with its reason: the person's words or the rule and the value that made it act), updates the
actuator's commanded state (`on`, `setpoint`), and once the transaction is committed delivers it
(`dispatch.deliver`: an MQTT command topic, a Modbus write, or nothing for a simulated
actuator); `command_delivered` then records whether it arrived (sent / failed).

The rule engine (`on_readings` after every ingestion, `evaluate_all` from the watch loop) takes,
per room and quantity, the mean of the corrected latest values of the room's fresh active
sensors (fresh: not older than twice the sensor's reporting period, the staleness rule of
`selectors.room_status`) and applies the room's active rules of that quantity:

- `switch`: on when the value is above `high` (or below `low`); off when it is back within
  [low + hysteresis, high − hysteresis]; in between, nothing changes (limits inclusive).
- `setpoint`: when the value leaves [low, high], the actuator is commanded on at the rule's
  set-point, unless it already is on at that set-point.

A rule commands only a change of state, so repeated readings never make a command storm; two
ingesters evaluating at once cannot both send it: the service locks the actuator row and
re-checks its state, and a rule command that would change nothing is refused (code
`unchanged`). The watch loop also re-delivers the latest command of an actuator when its
delivery failed (every `METROLAB_CONTROL_RETRY_SECONDS`, default 60), so regulation resumes
after a broker or device outage.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from metrolab.core.permissions import SYSTEM, person
from metrolab.core.service import ServiceError, service
from metrolab.core.text import SHORT_TEXT
from metrolab.environment import dispatch
from metrolab.environment.errors import EnvironmentRefusal
from metrolab.environment.models import (
    Actuator,
    Command,
    ControlRule,
    Quantity,
    Room,
    Sensor,
)
from metrolab.environment.selectors import (
    corrected,
    is_stale,
    iso,
    num,
    plain_number,
    with_last_command,
)

logger = logging.getLogger(__name__)

REASON_MAX = SHORT_TEXT  # a command's reason (Command.reason)
_VALUE_LIMIT = Decimal("1e8")  # the model's 12 digits, 4 of them decimals


def retry_seconds() -> float:
    return float(getattr(settings, "METROLAB_CONTROL_RETRY_SECONDS", 60))


# --- the command service --------------------------------------------------------------------


def _decimal_value(value) -> Decimal:
    if isinstance(value, bool):
        raise ServiceError(_("The set-point must be a number."), field="value")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ServiceError(_("The set-point must be a number."), field="value") from None
    if not number.is_finite() or abs(number) >= _VALUE_LIMIT:
        raise ServiceError(_("The set-point must be a finite number."), field="value")
    return number.quantize(Decimal("0.0001"))


def _changes_state(actuator: Actuator, action: str, value: Decimal | None) -> bool:
    if action == Command.Action.ON:
        return not actuator.on
    if action == Command.Action.OFF:
        return actuator.on
    return not actuator.on or actuator.setpoint != value


@service("actuator.command")
def command_send(
    actuator: Actuator,
    *,
    action: str,
    value=None,
    reason: str,
    actor: Any,
    rule: ControlRule | None = None,
) -> Command:
    """Command `actuator` to switch on, off, or run at the set-point `value` (R6.11e).

    A manual command (`rule` None; `actor` the person) needs a reason; a rule's command (the
    system's) carries the rule and the value that made it act, and is refused with the code
    `unchanged` when the actuator already is in that state. Refused (ServiceError, nothing
    changes): an inactive actuator, a set-point on an actuator that has none (not an air
    conditioner), a missing set-point or one outside the actuator's range. Delivered after the
    commit."""
    locked = Actuator.objects.select_for_update().select_related("room").get(pk=actuator.pk)
    if action not in Command.Action.values:
        raise ServiceError(
            _("The action is one of: %(actions)s.") % {"actions": ", ".join(Command.Action.values)},
            field="action",
        )
    if not locked.active:
        raise ServiceError(
            _("The actuator %(code)s is not active.") % {"code": locked.code},
            code=EnvironmentRefusal.INACTIVE,
            field="actuator",
        )
    reason = (reason or "").strip()
    if rule is None and not reason:
        raise ServiceError(_("Say why you send this command."), field="reason")
    if rule is None and len(reason) > REASON_MAX:
        raise ServiceError(
            _("The reason has at most %(max)d characters.") % {"max": REASON_MAX}, field="reason"
        )
    number = None
    if action == Command.Action.SET:
        if locked.kind != Actuator.Kind.HVAC:
            raise ServiceError(
                _("%(code)s has no set-point: switch it on or off.") % {"code": locked.code},
                field="action",
            )
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ServiceError(_("Give the set-point."), field="value")
        number = _decimal_value(value)
        low, high = locked.setpoint_min, locked.setpoint_max
        if (low is not None and number < low) or (high is not None and number > high):
            raise ServiceError(
                _("The set-point must be between %(low)s and %(high)s %(unit)s.")
                % {
                    "low": plain_number(low) if low is not None else "…",
                    "high": plain_number(high) if high is not None else "…",
                    "unit": locked.unit,
                },
                field="value",
            )
    if rule is not None and not (_changes_state(locked, action, number)):
        raise ServiceError(
            _("%(code)s already is in that state.") % {"code": locked.code},
            code=EnvironmentRefusal.UNCHANGED,
        )
    command = Command(
        actuator=locked,
        action=action,
        value=number,
        source=Command.Source.RULE if rule is not None else Command.Source.MANUAL,
        rule=rule,
        issued_by=person(actor),
        reason=reason[:REASON_MAX],
        issued_at=timezone.now(),
    )
    command.save()
    locked.on = action != Command.Action.OFF
    if number is not None:
        locked.setpoint = number
    locked.save()
    actuator.on, actuator.setpoint = locked.on, locked.setpoint
    pk = command.pk
    transaction.on_commit(lambda: deliver_command(pk))
    return command


@service("actuator.command_delivered")
def command_delivered(command: Command, ok: bool, error: str = "", *, actor: Any) -> Command:
    """Record the delivery of a command: sent (when) or failed (why)."""
    command = Command.objects.select_for_update().get(pk=command.pk)
    command.status = Command.Status.SENT if ok else Command.Status.FAILED
    command.sent_at = timezone.now() if ok else None
    command.error = "" if ok else (error or "failed")[:300]
    command.save()
    return command


def deliver_command(pk: int) -> Command | None:
    """Deliver a committed command and record the outcome; never raises (it runs after the
    commit of whoever issued the command: a request, an ingester)."""
    try:
        command = Command.objects.select_related("actuator").get(pk=pk)
        ok, error = dispatch.deliver(command)
        if not ok:
            logger.warning("command %s to %s not delivered: %s", pk, command.actuator.code, error)
        return command_delivered(command, ok, error, actor=SYSTEM)
    except Exception:
        logger.exception("recording the delivery of command %s failed", pk)
        return None


def redeliver_failed(now: dt.datetime | None = None) -> list[Command]:
    """Send again the latest command of each active actuator whose delivery failed (or never
    happened) at least `retry_seconds()` ago: the commanded state is what the actuator should
    be in, and a rule does not command it again while the state has not changed."""
    now = now or timezone.now()
    due = now - dt.timedelta(seconds=retry_seconds())
    retried = []
    for actuator in Actuator.objects.filter(active=True, room__active=True).exclude(
        protocol=Actuator.Protocol.SIMULATED
    ):
        latest = actuator.commands.order_by("-issued_at", "-pk").first()
        if latest is None or latest.status == Command.Status.SENT or latest.updated_at > due:
            continue
        result = deliver_command(latest.pk)
        if result is not None:
            retried.append(result)
    return retried


# --- what the dashboard and the API show -----------------------------------------------------


def command_dict(command: Command) -> dict:
    """A command for the API and the command log."""
    return {
        "id": command.pk,
        "actuator": command.actuator.code,
        "room": command.actuator.room.code,
        "action": command.action,
        "action_label": str(command.get_action_display()),
        "value": num(command.value),
        "source": command.source,
        "source_label": str(command.get_source_display()),
        "rule": command.rule_id,
        "reason": command.reason,
        "issued_at": iso(command.issued_at),
        "issued_by": str(command.issued_by) if command.issued_by_id else None,
        "status": command.status,
        "status_label": str(command.get_status_display()),
        "sent_at": iso(command.sent_at),
        "error": command.error,
    }


def actuator_dict(actuator: Actuator) -> dict:
    """An actuator and its last command, for the room status (`actuators`) and the API.
    Load many with `selectors.with_last_command` (one query for all their last commands)."""
    if hasattr(actuator, "last_command"):
        last = actuator.last_command
    else:
        last = (
            actuator.commands.select_related("issued_by").order_by("-issued_at", "-pk").first()
            if actuator.pk
            else None
        )
    return {
        "code": actuator.code,
        "name": actuator.name,
        "kind": actuator.kind,
        "kind_label": str(actuator.get_kind_display()),
        "protocol": actuator.protocol,
        "on": actuator.on,
        "setpoint": num(actuator.setpoint),
        "unit": actuator.unit,
        "setpoint_min": num(actuator.setpoint_min),
        "setpoint_max": num(actuator.setpoint_max),
        "last_command": None
        if last is None
        else {
            "action": last.action,
            "value": num(last.value),
            "source": last.source,
            "reason": last.reason,
            "issued_at": iso(last.issued_at),
            "status": last.status,
            "issued_by": str(last.issued_by) if last.issued_by_id else None,
        },
    }


def room_actuators(room: Room) -> list[dict]:
    """The room's active actuators as `actuator_dict`s (the room status's `actuators`)."""
    actuators = Actuator.objects.filter(room=room, active=True).order_by("code")
    return [actuator_dict(a) for a in with_last_command(actuators)]


# --- the rule engine --------------------------------------------------------------------------


def room_values(
    room: Room, now: dt.datetime, quantities: Iterable[str] | None = None
) -> dict[str, tuple[float, str]]:
    """quantity -> (mean of the corrected latest values of the room's fresh active sensors,
    unit), for `quantities` (default: all). A sensor is fresh when its latest reading is not
    older than twice its period. Plain rows, not model instances: this runs after every
    ingested batch."""
    groups: dict[str, tuple[list[Decimal], str]] = {}
    sensors = Sensor.objects.filter(
        room=room, active=True, last_time__isnull=False, last_value__isnull=False
    )
    if quantities is not None:
        sensors = sensors.filter(quantity__in=set(quantities))
    rows = sensors.order_by("code").values_list(
        "quantity", "unit", "last_time", "last_value", "correction", "period_seconds"
    )
    for quantity, unit, last_time, last_value, correction, period in rows:
        if is_stale(last_time, period, now):
            continue
        value = corrected(last_value, correction)
        groups.setdefault(quantity, ([], unit))[0].append(Decimal(repr(value)))
    return {
        quantity: (float(sum(values) / len(values)), unit)
        for quantity, (values, unit) in groups.items()
    }


def decide(rule: ControlRule, value: float, *, on: bool, setpoint: Decimal | None):
    """What `rule` commands for `value` when the actuator is `on` at `setpoint`: None, or
    (action, set-point or None, why) where why is ("above", limit), ("below", limit) or
    ("within", low, high) (the band it is back in)."""
    low = None if rule.low is None else float(rule.low)
    high = None if rule.high is None else float(rule.high)
    above = high is not None and value > high
    below = low is not None and value < low
    why = ("above", rule.high) if above else ("below", rule.low) if below else None
    if rule.mode == ControlRule.Mode.SETPOINT:
        if why is None or rule.setpoint is None:
            return None
        if on and setpoint == rule.setpoint:
            return None
        return Command.Action.SET, rule.setpoint, why
    if not on:
        return (Command.Action.ON, None, why) if why else None
    band_low = None if rule.low is None else rule.low + rule.hysteresis
    band_high = None if rule.high is None else rule.high - rule.hysteresis
    if (band_low is None or value >= float(band_low)) and (
        band_high is None or value <= float(band_high)
    ):
        return Command.Action.OFF, None, ("within", band_low, band_high)
    return None


def rule_reason(rule: ControlRule, value: float, unit: str, why: tuple) -> str:
    """Why a rule acted, in the lab's language (settings.LANGUAGE_CODE): e.g.
    "rule 3: temperature 26.1 ℃ above 25 ℃"."""
    with translation.override(settings.LANGUAGE_CODE):
        names = {
            "rule": rule.pk,
            "quantity": str(Quantity(rule.quantity).label),
            "value": plain_number(value),
            "unit": unit,
        }
        kind = why[0]
        if kind == "above":
            text = _("rule %(rule)s: %(quantity)s %(value)s %(unit)s above %(limit)s %(unit)s")
            names["limit"] = plain_number(why[1])
        elif kind == "below":
            text = _("rule %(rule)s: %(quantity)s %(value)s %(unit)s below %(limit)s %(unit)s")
            names["limit"] = plain_number(why[1])
        elif why[1] is not None and why[2] is not None:
            text = _(
                "rule %(rule)s: %(quantity)s %(value)s %(unit)s back within "
                "%(low)s–%(high)s %(unit)s"
            )
            names["low"], names["high"] = plain_number(why[1]), plain_number(why[2])
        elif why[2] is not None:
            text = _(
                "rule %(rule)s: %(quantity)s %(value)s %(unit)s back at or below %(limit)s %(unit)s"
            )
            names["limit"] = plain_number(why[2])
        else:
            text = _(
                "rule %(rule)s: %(quantity)s %(value)s %(unit)s back at or above %(limit)s %(unit)s"
            )
            names["limit"] = plain_number(why[1])
        return (text % names)[:REASON_MAX]


def evaluate_room(room: Room, now: dt.datetime) -> list[Command]:
    """Apply the room's active rules to its current values (as of `now`); the commands sent."""
    rules = list(
        ControlRule.objects.filter(room=room, active=True, actuator__active=True)
        .select_related("actuator")
        .order_by("pk")
    )
    if not rules:
        return []
    values = room_values(room, now, {rule.quantity for rule in rules})
    actuators: dict[int, Actuator] = {}  # one instance per actuator: rules see each other's
    sent = []
    for rule in rules:
        if rule.quantity not in values:
            continue
        value, unit = values[rule.quantity]
        actuator = actuators.setdefault(rule.actuator_id, rule.actuator)
        decision = decide(rule, value, on=actuator.on, setpoint=actuator.setpoint)
        if decision is None:
            continue
        action, setpoint, why = decision
        try:
            command = command_send(
                actuator,
                action=action,
                value=setpoint,
                reason=rule_reason(rule, value, unit, why),
                rule=rule,
                actor=SYSTEM,
            )
        except ServiceError as exc:
            if exc.code == "unchanged":
                # Another ingester got there first: take the state it left.
                actuator.refresh_from_db(fields=["on", "setpoint"])
            else:
                logger.warning("rule %s cannot command %s: %s", rule.pk, actuator.code, exc)
            continue
        sent.append(command)
    return sent


def on_readings(readings: Iterable) -> list[Command]:
    """Ingestion listener: evaluate the rules of the rooms the readings came from, as of the
    newest reading of each room (so that replayed or simulated history is judged in its own
    time)."""
    newest: dict[int, dt.datetime] = {}
    for reading in readings:
        room_id = reading.sensor.room_id
        if room_id not in newest or reading.time > newest[room_id]:
            newest[room_id] = reading.time
    if not newest:
        return []
    ruled = set(
        ControlRule.objects.filter(
            active=True, room_id__in=list(newest), room__active=True
        ).values_list("room_id", flat=True)
    )
    sent = []
    for room in Room.objects.filter(pk__in=ruled).order_by("pk"):
        try:
            sent += evaluate_room(room, newest[room.pk])
        except Exception:
            logger.exception("regulation of room %s failed", room.code)
    return sent


def evaluate_all(now: dt.datetime | None = None) -> list[Command]:
    """The watch loop's pass: every active room's rules as of `now`, then the re-delivery of
    failed commands."""
    now = now or timezone.now()
    ruled = set(
        ControlRule.objects.filter(active=True, room__active=True).values_list("room_id", flat=True)
    )
    sent = []
    for room in Room.objects.filter(pk__in=ruled).order_by("pk"):
        try:
            sent += evaluate_room(room, now)
        except Exception:
            logger.exception("regulation of room %s failed", room.code)
    try:
        redeliver_failed(now)
    except Exception:
        logger.exception("re-delivery of failed commands failed")
    return sent
