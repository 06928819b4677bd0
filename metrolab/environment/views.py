"""Environment pages (R6.11, R6.9c, R7.1b): the rooms at a glance with a status colour each, a
room's live dashboard (current values with their uncertainty and age, the requirements, open
alarms, actuators with manual control, 24 h / 7 d trend plots), the alarm log (acknowledge
from the list), the command log and the ingestion health of the devices.

Every page is rendered complete on the server, so it is useful without JavaScript. Whether a
value, a sensor, a requirement or a room is within its requirements is decided in one place,
`selectors` (the verdicts); the pages only word and colour it. The rooms overview and a room's
dashboard refresh in place: `core/poll.js` fetches their server-rendered fragments (the room
cards; the dashboard's live part every few seconds, its trend plots - inline SVG drawn by
`plots.py` - every minute) and swaps them in.
The lab reads these pages; acknowledging an alarm and commanding an actuator by hand are for
the roles in `roles.py`, and their forms are only shown to them."""

from __future__ import annotations

import datetime as dt
import math

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from metrolab.core.access import allow
from metrolab.core.pages import back_to, holds, query_without_page
from metrolab.core.refusals import card_write
from metrolab.core.refusals import form_error_messages as _form_errors
from metrolab.core.refusals import refusal_on_form as _on_form
from metrolab.core.service import ServiceError
from metrolab.environment import alarms as alarm_engine
from metrolab.environment import control, plots, selectors
from metrolab.environment.filters import AlarmFilter
from metrolab.environment.forms import (
    AcknowledgeForm,
    AlarmFilterForm,
    CommandFilterForm,
    ManualCommandForm,
    SensorFilterForm,
)
from metrolab.environment.models import (
    Alarm,
    Command,
    IngestCounter,
    Room,
    Sensor,
)
from metrolab.environment.roles import ALARM_ACKNOWLEDGERS, CONTROLLERS, HISTORY_READERS

PAGE_SIZE = 50
POLL_SECONDS = 5  # the dashboard's status poll
PLOT_SECONDS = 60  # the dashboard's plot refresh
WINDOWS = (("24h", dt.timedelta(hours=24)), ("7d", dt.timedelta(days=7)))
CARD_VALUES = 6  # current values shown on a room's card
ROOMS_REFRESH_SECONDS = 15  # the rooms page refreshes its cards in place


def number(value: float | None) -> str:
    """A value as shown: at most three decimals, trailing zeros dropped (the script does the
    same, so a value reads alike before and after a refresh)."""
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _age_seconds(sensor: Sensor, now: dt.datetime) -> float | None:
    return None if sensor.last_time is None else (now - sensor.last_time).total_seconds()


def age_text(seconds: float | None) -> str:
    """How long ago, in the largest whole unit (the script writes ages the same way)."""
    if seconds is None:
        return _("never")
    seconds = max(seconds, 0)
    if seconds < 90:
        return _("%(n)d s ago") % {"n": round(seconds)}
    if seconds < 90 * 60:
        return _("%(n)d min ago") % {"n": round(seconds / 60)}
    if seconds < 36 * 3600:
        return _("%(n)d h ago") % {"n": round(seconds / 3600)}
    return _("%(n)d d ago") % {"n": round(seconds / 86400)}


# --- what the pages show (the verdicts are `selectors`'; here only their wording) -----------


def _sensor_row(line: selectors.SensorLine) -> dict:
    """A sensor of a board as the templates show it."""
    s = line.status
    return {
        "sensor": s.sensor,
        "value": number(s.value),
        "uncertainty": number(float(s.sensor.uncertainty)),
        "time": s.time,
        "age": age_text(s.age_seconds),
        "stale": s.stale,
        "state": line.state,
        "checks": [{"requirement": req, "state": state} for req, state in line.checks],
    }


def _shown(alarm: Alarm) -> Alarm:
    alarm.value_text = number(alarm.value)
    alarm.limit_text = "—" if alarm.limit is None else number(float(alarm.limit))
    return alarm


def room_alarms(room: Room) -> list[Alarm]:
    """The room's open alarms and those cleared but not yet acknowledged, newest first."""
    return [_shown(alarm) for alarm in alarm_engine.room_alarms(room)]


def _trends(board: selectors.RoomBoard, now: dt.datetime) -> list[dict]:
    """Each sensor's 24 h and 7 d plots with the min / max / mean of its corrected values
    (bucket means weighted by their counts), in a fixed number of queries."""
    sensors = [line.sensor for line in board.sensors]
    requirements = [req for req, _verdict in board.requirements]
    windows = {
        key: selectors.series_many(sensors, now - span, now, now=now) for key, span in WINDOWS
    }
    trends = []
    for sensor in sensors:
        reqs = [r for r in requirements if r.quantity == sensor.quantity]
        figures = []
        for key, span in WINDOWS:
            points = windows[key][sensor.pk].points
            count = sum(p.count for p in points)
            mean = selectors.weighted_mean((p.value, p.count) for p in points)
            figures.append(
                {
                    "key": key,
                    "count": count,
                    "points": len(points),
                    "min": number(min((p.minimum for p in points), default=None)),
                    "max": number(max((p.maximum for p in points), default=None)),
                    "mean": number(mean) if count else "—",
                    "plot": plots.plot(
                        points,
                        reqs,
                        now - span,
                        now,
                        daily=key == "24h",
                        title=f"{sensor.code} {key}",
                        number=number,
                    )
                    if points
                    else None,
                }
            )
        trends.append({"sensor": sensor, "windows": figures})
    return trends


# --- the rooms ------------------------------------------------------------------------------


@allow(roles=HISTORY_READERS)
@require_GET
def rooms(request):
    """Every active room as a card: its status colour, open alarms, current values."""
    now = timezone.now()
    cards = [
        {
            "room": board.room,
            "state": board.state,
            "open_alarms": board.open_alarms,
            "sensors": [_sensor_row(line) for line in board.sensors[:CARD_VALUES]],
            "more": max(len(board.sensors) - CARD_VALUES, 0),
            "outside": board.outside,
        }
        for board in selectors.room_boards(Room.objects.filter(active=True).order_by("code"), now)
    ]
    context = {"cards": cards, "now": now, "refresh_ms": ROOMS_REFRESH_SECONDS * 1000}
    if request.GET.get("part") == "cards":  # the page's own refresh (core/poll.js)
        return render(request, "environment/_room_cards.html", context)
    return render(request, "environment/rooms.html", context)


# --- a room's live dashboard ---------------------------------------------------------------

LIVE, TRENDS = "live", "trends"  # the dashboard's fragments, refreshed by core/poll.js


def _dashboard(request, room: Room, command_form=None, status: int = 200, part: str = ""):
    """The dashboard, or one of its fragments (`part`): the live part (state, values,
    alarms, requirements, actuators) every POLL_SECONDS, the trends every PLOT_SECONDS."""
    now = timezone.now()
    board = selectors.room_boards([room], now)[0]
    context = {
        "room": room,
        "now": now,
        "live": part == LIVE,
        "state": board.state,
        "poll_ms": POLL_SECONDS * 1000,
        "plot_ms": PLOT_SECONDS * 1000,
        "can_acknowledge": holds(request.user, ALARM_ACKNOWLEDGERS),
        "acknowledge_form": AcknowledgeForm(),
        "next": reverse("environment:room", args=[room.pk]),
    }
    if part in ("", LIVE):
        context.update(
            sensors=[_sensor_row(line) for line in board.sensors],
            requirements=[{"requirement": r, "verdict": v} for r, v in board.requirements],
            alarms=room_alarms(room),
            open_alarms=board.open_alarms,
            actuators=selectors.room_actuators(room),
        )
    if part in ("", TRENDS):
        context["trends"] = _trends(board, now)
    if part == LIVE:
        return render(request, "environment/_room_live.html", context)
    if part == TRENDS:
        return render(request, "environment/_room_trends.html", context)
    can_control = holds(request.user, CONTROLLERS)
    if can_control and command_form is None and context["actuators"]:
        command_form = ManualCommandForm(room=room)
    context.update(can_control=can_control, command_form=command_form)
    return render(request, "environment/room.html", context, status=status)


@allow(roles=HISTORY_READERS)
@require_GET
def room(request, pk: int):
    """A room's live dashboard (R6.11 "Real time"); `?part=live` and `?part=trends` answer
    its fragments alone (the page's own refresh, core/poll.js)."""
    part = request.GET.get("part", "")
    if part not in ("", LIVE, TRENDS):
        part = ""
    return _dashboard(request, get_object_or_404(Room, pk=pk), part=part)


@allow(roles=CONTROLLERS)
@require_POST
def room_command(request, pk: int):
    """Command one of the room's actuators by hand (R6.11e); a refusal is shown on the form
    and changes nothing."""
    target = get_object_or_404(Room, pk=pk)
    form = ManualCommandForm(request.POST, room=target)
    if form.is_valid():
        command = form.command()
        try:
            control.command_send(
                command["actuator"],
                action=command["action"],
                value=command["value"],
                reason=command["reason"],
                actor=request.user,
            )
        except ServiceError as exc:
            _on_form(form, exc)
        else:
            messages.success(
                request,
                _("Command sent to %(actuator)s.") % {"actuator": command["actuator"].code},
            )
            return redirect(reverse("environment:room", args=[target.pk]) + "#actuators")
    return _dashboard(request, target, command_form=form, status=422)


# --- alarms ---------------------------------------------------------------------------------


@allow(roles=HISTORY_READERS)
@require_GET
def alarm_list(request):
    """The alarm log: every alarm, newest first, with filters (room, status, kind, period)."""
    form = AlarmFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        _form_errors(request, form)
    # The API's filter (GET /api/v1/environment/alarms): the same rows for the same query.
    alarms = alarm_engine.alarm_list(AlarmFilter.from_query(request.GET))
    page = Paginator(alarms, PAGE_SIZE).get_page(request.GET.get("page"))
    for alarm in page:
        _shown(alarm)
    return render(
        request,
        "environment/alarms.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "can_acknowledge": holds(request.user, ALARM_ACKNOWLEDGERS),
            "acknowledge_form": AcknowledgeForm(),
        },
    )


@allow(roles=ALARM_ACKNOWLEDGERS)
@require_POST
def alarm_acknowledge(request, pk: int):
    """Acknowledge an alarm with a comment (R6.11d: by whom, when, what was done)."""
    alarm = get_object_or_404(Alarm, pk=pk)
    form = AcknowledgeForm(request.POST)

    def write(data):
        return alarm_engine.alarm_acknowledge(alarm, actor=request.user, comment=data["comment"])

    card_write(
        request,
        form,
        write,
        success=_("Alarm acknowledged: %(alarm)s.") % {"alarm": alarm.message or alarm},
    )
    return back_to(request, reverse("environment:room", args=[alarm.room_id]))


# --- commands -------------------------------------------------------------------------------


@allow(roles=HISTORY_READERS)
@require_GET
def command_list(request):
    """The command log (R6.11e): every command with its reason (rule or person) and delivery."""
    form = CommandFilterForm(request.GET or None)
    commands = Command.objects.select_related("actuator__room", "rule", "issued_by")
    if request.GET:
        if form.is_valid():
            commands = form.filter(commands)
        else:
            _form_errors(request, form)
    page = Paginator(commands.order_by("-issued_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "environment/commands.html",
        {"form": form, "page": page, "query": query_without_page(request)},
    )


# --- ingestion health -----------------------------------------------------------------------


@allow(roles=HISTORY_READERS)
@require_GET
def devices(request):
    """Ingestion health (R6.11c, R6.9c): readings accepted and rejected per device and channel
    with the last rejection, and every sensor with the age of its last reading, the silent
    ones (older than twice their period) highlighted."""
    now = timezone.now()
    counters = IngestCounter.objects.select_related("device").order_by("channel", "device_id")
    form = SensorFilterForm(request.GET or None)
    sensors = Sensor.objects.filter(active=True).select_related("room", "device")
    if request.GET:
        if form.is_valid():
            if form.cleaned_data.get("room"):
                sensors = sensors.filter(room=form.cleaned_data["room"])
            if form.cleaned_data.get("stale"):
                sensors = [
                    s
                    for s in sensors.order_by("room__code", "code")
                    if selectors.is_stale(s.last_time, s.period_seconds, now)
                ]
        else:
            _form_errors(request, form)
    if not isinstance(sensors, list):
        sensors = sensors.order_by("room__code", "code")
    page = Paginator(sensors, PAGE_SIZE).get_page(request.GET.get("page"))
    for sensor in page:
        sensor.age_seconds = _age_seconds(sensor, now)
        sensor.stale = selectors.is_stale(sensor.last_time, sensor.period_seconds, now)
        sensor.age = age_text(sensor.age_seconds)
        sensor.value_text = (
            number(selectors.corrected(sensor.last_value, sensor.correction))
            if sensor.last_value is not None
            else "—"
        )
    return render(
        request,
        "environment/devices.html",
        {
            "counters": counters,
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "now": now,
        },
    )
