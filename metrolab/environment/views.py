"""Environment pages (R6.11, R6.9c, R7.1b): the rooms at a glance with a status colour each, a
room's live dashboard (current values with their uncertainty and age, the requirements, open
alarms, actuators with manual control, 24 h / 7 d trend plots), the alarm log (acknowledge
from the list), the command log and the ingestion health of the devices.

Every page is rendered complete on the server, so it is useful without JavaScript; the
dashboard's script (`static/environment/dashboard.js`) then polls the room's status API and
updates values, colours, alarms and actuators in place, and redraws the plots every minute.
The lab reads these pages; acknowledging an alarm and commanding an actuator by hand are for
the roles in `roles.py`, and their forms are only shown to them."""

from __future__ import annotations

import datetime as dt
import math

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
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
from metrolab.environment import control, selectors
from metrolab.environment.filters import AlarmFilter
from metrolab.environment.forms import (
    AcknowledgeForm,
    AlarmFilterForm,
    CommandFilterForm,
    ManualCommandForm,
    SensorFilterForm,
)
from metrolab.environment.models import (
    Actuator,
    Alarm,
    Command,
    IngestCounter,
    Requirement,
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

# A room's (and a sensor's) state: the colour it is shown in.
GREEN, RED, GREY = "within", "outside", "stale"


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


# --- judging a room -------------------------------------------------------------------------


def _sensor_rows(status: selectors.RoomStatus, requirements: list[Requirement]) -> list[dict]:
    """Each sensor's current value with its state against every requirement of its quantity:
    within, outside, or stale (no fresh value)."""
    rows = []
    for s in status.sensors:
        checks = []
        for req in requirements:
            if req.quantity != s.sensor.quantity:
                continue
            if s.stale or s.value is None:
                state = GREY
            else:
                state = GREEN if selectors.within(s.value, req.low, req.high) else RED
            checks.append({"requirement": req, "state": state})
        if s.stale or s.value is None:
            state = GREY
        elif any(c["state"] == RED for c in checks):
            state = RED
        else:
            state = GREEN if checks else "none"
        rows.append(
            {
                "sensor": s.sensor,
                "value": number(s.value),
                "uncertainty": number(float(s.sensor.uncertainty)),
                "time": s.time,
                "age_seconds": s.age_seconds,
                "age": age_text(s.age_seconds),
                "stale": s.stale,
                "state": state,
                "checks": checks,
            }
        )
    return rows


def _requirement_rows(status: selectors.RoomStatus, requirements: list[Requirement]):
    """Each requirement judged like `selectors.room_status` does for the room's own: on the
    fresh values of the room's sensors of its quantity."""
    return [
        {"requirement": req, "verdict": selectors.verdict(req, status.sensors)}
        for req in requirements
    ]


def room_state(verdicts: list[str], open_alarms: int, has_fresh: bool) -> str:
    """Red: an open alarm or a requirement outside; grey: no fresh value at all, or a
    requirement without data; green: everything within."""
    if open_alarms or selectors.OUTSIDE in verdicts:
        return RED
    if not has_fresh or selectors.NO_DATA in verdicts:
        return GREY
    return GREEN


def _shown(alarm: Alarm) -> Alarm:
    alarm.value_text = number(alarm.value)
    alarm.limit_text = "—" if alarm.limit is None else number(float(alarm.limit))
    return alarm


def room_alarms(room: Room) -> list[Alarm]:
    """The room's open alarms and those cleared but not yet acknowledged, newest first."""
    return [_shown(alarm) for alarm in alarm_engine.room_alarms(room)]


def _actuators(room: Room) -> list[Actuator]:
    actuators = list(Actuator.objects.filter(room=room, active=True).order_by("code"))
    latest = {}
    for command in (
        Command.objects.filter(actuator__in=actuators)
        .filter(
            pk=Subquery(
                Command.objects.filter(actuator=OuterRef("actuator"))
                .order_by("-issued_at", "-pk")
                .values("pk")[:1]
            )
        )
        .select_related("issued_by", "rule")
    ):
        latest[command.actuator_id] = command
    for actuator in actuators:
        actuator.last_command = latest.get(actuator.pk)
    return actuators


def _window_stats(sensor: Sensor, now: dt.datetime) -> list[dict]:
    """Min / max / mean of the corrected values over the last 24 h and 7 d (bucket means
    weighted by their counts)."""
    stats = []
    for key, span in WINDOWS:
        points = selectors.series(sensor, now - span, now, now=now).points
        count = sum(p.count for p in points)
        stats.append(
            {
                "key": key,
                "count": count,
                "min": number(min((p.minimum for p in points), default=None)),
                "max": number(max((p.maximum for p in points), default=None)),
                "mean": number(selectors.weighted_mean((p.value, p.count) for p in points))
                if count
                else "—",
            }
        )
    return stats


def _requirement_json(req: Requirement) -> dict:
    return {
        **selectors.requirement_dict(req),
        "label": str(req.get_quantity_display()),
    }


# --- the rooms ------------------------------------------------------------------------------


@allow(roles=HISTORY_READERS)
@require_GET
def rooms(request):
    """Every active room as a card: its status colour, open alarms, current values."""
    now = timezone.now()
    active = list(Room.objects.filter(active=True).order_by("code"))
    open_counts = dict(
        Alarm.objects.filter(room__in=active, cleared_at__isnull=True)
        .values("room")
        .annotate(n=Count("pk"))
        .values_list("room", "n")
    )
    cards = []
    for room in active:
        status = selectors.room_status(room, now)
        open_alarms = open_counts.get(room.pk, 0)
        verdicts = [verdict for _req, verdict in status.requirements]
        fresh = [s for s in status.sensors if not s.stale and s.value is not None]
        cards.append(
            {
                "room": room,
                "state": room_state(verdicts, open_alarms, bool(fresh)),
                "open_alarms": open_alarms,
                "sensors": _sensor_rows(status, [req for req, _v in status.requirements])[
                    :CARD_VALUES
                ],
                "more": max(len(status.sensors) - CARD_VALUES, 0),
                "outside": verdicts.count(selectors.OUTSIDE),
            }
        )
    context = {"cards": cards, "now": now, "refresh_ms": ROOMS_REFRESH_SECONDS * 1000}
    if request.GET.get("part") == "cards":  # the page's own refresh (core/poll.js)
        return render(request, "environment/_room_cards.html", context)
    return render(request, "environment/rooms.html", context)


# --- a room's live dashboard ---------------------------------------------------------------


def _dashboard(request, room: Room, command_form=None, status: int = 200):
    now = timezone.now()
    status_now = selectors.room_status(room, now)
    requirements = list(
        Requirement.objects.filter(room=room).select_related("method").order_by("method", "pk")
    )
    requirement_rows = _requirement_rows(status_now, requirements)
    alarms = room_alarms(room)
    open_alarms = sum(1 for a in alarms if a.open)
    fresh = [s for s in status_now.sensors if not s.stale and s.value is not None]
    sensors = _sensor_rows(status_now, requirements)
    for row in sensors:
        row["windows"] = _window_stats(row["sensor"], now)
    can_control = holds(request.user, CONTROLLERS)
    actuators = _actuators(room)
    if can_control and command_form is None and actuators:
        command_form = ManualCommandForm(room=room)
    series_url = reverse("api-1:sensor_series", kwargs={"code": "__code__"})
    config = {
        "room": room.pk,
        "statusUrl": reverse("api-1:room_status", args=[room.pk]),
        "seriesUrl": series_url,
        "acknowledgeUrl": reverse("environment:alarm_acknowledge", args=[0]),
        "pollSeconds": POLL_SECONDS,
        "plotSeconds": PLOT_SECONDS,
        "canAcknowledge": holds(request.user, ALARM_ACKNOWLEDGERS),
        "timeZone": timezone.get_current_timezone_name(),
        "at": now.isoformat(),
        "requirements": [_requirement_json(r) for r in requirements],
        "units": {row["sensor"].code: row["sensor"].unit for row in sensors},
        "actions": {value: str(label) for value, label in Command.Action.choices},
        "commandStatuses": {value: str(label) for value, label in Command.Status.choices},
        "labels": {
            "stateWithin": _("within requirements"),
            "stateOutside": _("outside / alarm"),
            "stateStale": _("no data"),
            "live": _("Live"),
            "updated": _("updated at"),
            "lost": _("Connection lost"),
            "lastUpdated": _("last updated at"),
            "retrying": _("retrying…"),
            "on": _("on"),
            "off": _("off"),
            "never": _("never"),
            "noData": _("no data"),
            "within": _("within"),
            "outside": _("outside"),
            "acknowledge": _("Acknowledge"),
            "comment": _("Comment"),
            "commentHelp": _("What was found and what was done."),
            "raised": _("raised"),
            "acknowledgedBy": _("acknowledged by"),
            "cleared": _("cleared"),
            "value": _("value"),
            "limit": _("limit"),
            "rule": _("automatic rule"),
            "noCommand": _("no command yet"),
            "noPoints": _("No readings in this period."),
            "ageS": _("%(n)d s ago"),
            "ageMin": _("%(n)d min ago"),
            "ageH": _("%(n)d h ago"),
            "ageD": _("%(n)d d ago"),
        },
    }
    return render(
        request,
        "environment/room.html",
        {
            "room": room,
            "now": now,
            "state": room_state([r["verdict"] for r in requirement_rows], open_alarms, bool(fresh)),
            "sensors": sensors,
            "requirements": requirement_rows,
            "alarms": alarms,
            "open_alarms": open_alarms,
            "actuators": actuators,
            "can_acknowledge": config["canAcknowledge"],
            "can_control": can_control,
            "acknowledge_form": AcknowledgeForm(),
            "command_form": command_form,
            "config": config,
        },
        status=status,
    )


@allow(roles=HISTORY_READERS)
@require_GET
def room(request, pk: int):
    """A room's live dashboard (R6.11 "Real time")."""
    return _dashboard(request, get_object_or_404(Room, pk=pk))


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
