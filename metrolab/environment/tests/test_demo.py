"""The demo rooms (issue 6, "Demo"): pressure lab, temperature lab, machine room, mobile lab and
sample store with requirements, simulated sensors, actuators and rules, a day of history with
one night excursion in the machine room (its alarm raised, acknowledged and cleared, the rules'
commands in the log), seeded once.

The tests reading the demo share one seeded demo lab (`demo_lab`, seeded once per test run);
the tests of other days and of a lab without some library seed their own."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from metrolab.core import audit
from metrolab.core.permissions import SYSTEM
from metrolab.environment import ingest
from metrolab.environment.demo import (
    HISTORY,
    PERIOD,
    ROOMS,
    _fault_window,
    demo_children,
    demo_seed_environment,
)
from metrolab.environment.models import (
    Actuator,
    Aggregate,
    Alarm,
    Command,
    ControlRule,
    Reading,
    Requirement,
    Room,
    Sensor,
)
from metrolab.environment.selectors import conditions_at, corrected, room_status

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PER_SENSOR = int(HISTORY.total_seconds() // PERIOD)


def _seed_lab():
    from metrolab.commissions.demo import demo_seed_commissions
    from metrolab.core.demo import demo_seed
    from metrolab.methods.demo import demo_seed_methods

    assert (
        demo_seed(actor=SYSTEM)
        and demo_seed_commissions(actor=SYSTEM)
        and demo_seed_methods(actor=SYSTEM)
    )


def _seed_environment(now):
    started = time.perf_counter()
    assert demo_seed_environment(now=now, actor=SYSTEM) is True
    elapsed = time.perf_counter() - started
    print(f"\ndemo_seed_environment: {Reading.objects.count()} readings in {elapsed:.2f} s")


@pytest.fixture
def now(demo_lab):
    """When the shared demo lab's day of history ends."""
    return demo_lab.now


@pytest.fixture
def demo_rooms(demo_lab):
    return {room.code: room for room in Room.objects.all()}


def _counts():
    return [
        m.objects.count()
        for m in (Room, Requirement, Sensor, Actuator, ControlRule, Reading, Aggregate, Alarm)
    ] + [Command.objects.count()]


def test_rooms_requirements_sensors_actuators_rules(demo_rooms):
    assert set(demo_rooms) == {"PL-1", "TL-1", "EL-1", "MR-1", "ML-1", "SR-1"}
    pressure, machine, mobile = demo_rooms["PL-1"], demo_rooms["MR-1"], demo_rooms["ML-1"]
    assert pressure.name == "压力实验室" and pressure.discipline.code == "P"
    assert demo_rooms["TL-1"].discipline.code == "T"
    assert machine.kind == Room.Kind.MACHINE_ROOM and mobile.kind == Room.Kind.MOBILE_LAB
    assert pressure.responsible.username == "equipment"
    assert all(room.responsible is not None and room.simulation for room in demo_rooms.values())

    def limits(room, quantity, method=None):
        req = Requirement.objects.get(room=room, quantity=quantity, method=method)
        return req.low, req.high

    assert limits(pressure, "temperature") == (15, 25)
    assert limits(pressure, "humidity") == (None, 85)
    assert limits(demo_rooms["TL-1"], "temperature") == (18, 22)
    assert limits(machine, "temperature") == (18, 27)
    assert limits(machine, "voltage") == (198, 242)
    assert limits(mobile, "vibration") == (None, Decimal("4.5"))
    # The stricter range a method adds in the pressure lab.
    method_req = Requirement.objects.get(method__isnull=False)
    assert (method_req.method.code, method_req.method.year) == ("JJG 49", "2013")
    assert method_req.room == pressure and (method_req.low, method_req.high) == (18, 22)
    alarming = Requirement.objects.filter(alarm=True)
    assert all(r.alarm_delay_seconds and r.hysteresis for r in alarming)

    sensors = Sensor.objects.all()
    assert sensors.count() == sum(len(spec["sensors"]) for spec in ROOMS)
    assert {s.protocol for s in sensors} == {"simulated"}
    assert {s.period_seconds for s in sensors} == {60}
    assert all(s.correction and s.uncertainty > 0 and s.calibration_due for s in sensors)
    assert set(machine.sensors.values_list("quantity", flat=True)) == {
        "temperature",
        "humidity",
        "voltage",
    }
    assert set(mobile.sensors.values_list("quantity", flat=True)) == {
        "temperature",
        "humidity",
        "vibration",
    }
    assert {"temperature", "humidity", "pressure"} <= set(
        pressure.sensors.values_list("quantity", flat=True)
    )

    hvacs = Actuator.objects.filter(kind="hvac")
    assert hvacs.count() == 5
    assert all(a.setpoint_min == 16 and a.setpoint_max == 30 and a.on for a in hvacs)
    assert {a.kind for a in Actuator.objects.all()} == {
        "hvac",
        "dehumidifier",
        "lights",
        "ventilation",
    }
    assert {a.protocol for a in Actuator.objects.all()} == {"simulated"}
    assert ControlRule.objects.filter(mode="setpoint", quantity="temperature").exists()
    switch = ControlRule.objects.get(room=pressure, mode="switch", quantity="humidity")
    assert switch.actuator.kind == "dehumidifier" and switch.hysteresis == 5


def test_a_day_of_history_per_sensor(demo_rooms, now):
    end = now.replace(second=0, microsecond=0)
    for sensor in Sensor.objects.all():
        readings = Reading.objects.filter(sensor=sensor)
        assert readings.count() == PER_SENSOR, sensor
        first = readings.order_by("time").first().time
        assert first == end - HISTORY + dt.timedelta(seconds=PERIOD) > now - HISTORY
        assert sensor.last_time == end
        minutes = Aggregate.objects.filter(sensor=sensor, period="m")
        assert minutes.count() == PER_SENSOR
        hours = Aggregate.objects.filter(sensor=sensor, period="h")
        assert hours.count() in (24, 25)
        assert sum(hours.values_list("count", flat=True)) == PER_SENSOR


def test_now_within_requirements_and_conditions_held(demo_rooms, now):
    from metrolab.methods.models import Method

    for room in demo_rooms.values():
        status = room_status(room, now=now)
        assert status.sensors and not any(s.stale for s in status.sensors)
        assert {verdict for _req, verdict in status.requirements} == {"within"}, room
        conditions = conditions_at(room, now - dt.timedelta(hours=1), now)
        assert conditions.held, room
        assert all(len(q.readings) >= 60 for q in conditions.quantities.values())
    jjg49 = Method.objects.get(code="JJG 49", year="2013")
    last_hour = conditions_at(demo_rooms["PL-1"], now - dt.timedelta(hours=1), now, jjg49)
    assert last_hour.held and len(last_hour.quantities["temperature"].checks) == 2
    assert last_hour.quantities["temperature"].low == 18
    # Over the whole day only the machine room's temperature left its range.
    for room in demo_rooms.values():
        day = conditions_at(room, now - HISTORY, now, jjg49 if room.code == "PL-1" else None)
        broken = {name for name, q in day.quantities.items() if not q.held}
        assert broken == ({"temperature"} if room.code == "MR-1" else set()), room


def test_the_night_excursion_and_its_alarm(demo_rooms):
    machine = demo_rooms["MR-1"]
    alarm = Alarm.objects.get()  # the only alarm of the day
    assert alarm.room == machine and alarm.sensor.code == "MR1-T01" and alarm.kind == "high"
    assert alarm.requirement.quantity == "temperature" and alarm.limit == 27
    assert alarm.status == Alarm.Status.CLEARED and not alarm.open
    assert alarm.acknowledged_by.username == "equipment" and "空调" in alarm.comment
    assert alarm.raised_at < alarm.acknowledged_at < alarm.cleared_at
    assert alarm.message.startswith("MR-1 MR1-T01") and alarm.value > 27
    assert 0 <= timezone.localtime(alarm.raised_at).hour < 6  # in the night

    sensor = alarm.sensor
    values = [
        (t, corrected(v, sensor.correction))
        for t, v in Reading.objects.filter(sensor=sensor)
        .order_by("time")
        .values_list("time", "value")
    ]
    above = [t for t, v in values if v > 27]
    minutes_above = (above[-1] - above[0]).total_seconds() / 60 + 1
    print(f"\nMR1-T01 above 27 ℃ for {minutes_above:.0f} min from {above[0]:%H:%M} UTC")
    assert 15 <= minutes_above <= 25 and len(above) == minutes_above  # one stretch
    assert alarm.raised_at - above[0] == dt.timedelta(seconds=300)  # the requirement's delay
    assert dict(values)[alarm.raised_at] == alarm.value
    assert alarm.cleared_value <= 26.5 and dict(values)[alarm.cleared_at] == alarm.cleared_value
    before_clear = [v for t, v in values if alarm.raised_at <= t < alarm.cleared_at]
    assert all(v > 26.5 for v in before_clear)
    # The room's responsible person and the equipment manager were told, once each.
    from metrolab.notifications.models import Notification

    told = Notification.objects.filter(event="environment.alarm")
    assert sorted(told.values_list("recipient__username", flat=True)) == ["admin", "equipment"]


def test_the_rules_and_the_manager_acted(demo_rooms):
    machine = demo_rooms["MR-1"]
    alarm = Alarm.objects.get()
    commands = list(Command.objects.filter(actuator__room=machine).order_by("issued_at", "pk"))
    fan_on, setpoint_20, fan_off, restore = commands
    assert (fan_on.actuator.code, fan_on.action, fan_on.source) == ("MR1-FAN", "on", "rule")
    assert (setpoint_20.actuator.code, setpoint_20.action, setpoint_20.value) == (
        "MR1-AC",
        "set",
        20,
    )
    assert setpoint_20.rule.mode == "setpoint" and fan_on.rule.mode == "switch"
    assert fan_on.issued_at < setpoint_20.issued_at < alarm.raised_at < fan_off.issued_at
    assert fan_off.action == "off" and fan_off.issued_at >= alarm.cleared_at
    assert restore.source == "manual" and restore.issued_by.username == "equipment"
    assert (restore.action, restore.value, restore.rule) == ("set", 22, None)
    assert restore.reason and restore.issued_at > fan_off.issued_at
    assert all(c.status == "sent" and c.sent_at == c.issued_at for c in commands)
    assert all(c.reason for c in Command.objects.all())
    assert all(c.issued_by is None for c in Command.objects.filter(source="rule"))
    ac, fan = Actuator.objects.get(code="MR1-AC"), Actuator.objects.get(code="MR1-FAN")
    assert ac.on and ac.setpoint == 22 and not fan.on
    # The dehumidifiers' switch rules kept their rooms' humidity (each command a real change).
    for actuator in Actuator.objects.filter(kind="dehumidifier"):
        actions = list(actuator.commands.order_by("issued_at").values_list("action", flat=True))
        assert all(a != b for a, b in itertools.pairwise(actions))
        assert actuator.on == (actions[-1] == "on" if actions else False)


def test_seeding_twice_changes_nothing(demo_rooms):
    before = _counts()
    assert demo_seed_environment(actor=SYSTEM) is False
    assert _counts() == before
    assert audit.verify_chain().ok


def test_needs_the_demo_users():
    assert demo_seed_environment(actor=SYSTEM) is False
    assert not Room.objects.exists()


def test_without_the_methods_library_no_method_requirement_and_the_listeners_are_back():
    from metrolab.core.demo import demo_seed

    demo_seed(actor=SYSTEM)
    calls = []
    ingest.ingest_listeners.append(calls.append)
    try:
        _seed_environment(timezone.now())
        # The listeners were held back while the history was stored, and are back after it.
        assert calls == [] and ingest.ingest_listeners[-1] == calls.append
    finally:
        ingest.ingest_listeners.remove(calls.append)
    assert not Requirement.objects.filter(method__isnull=False).exists()
    assert Alarm.objects.count() == 1


@pytest.mark.parametrize(
    ("local_now", "expected"),
    [
        ((14, 0), (2, 0)),  # today's 02:00
        ((4, 0), (2, 0)),  # today's 02:00, ending 2 h before
        ((3, 59), (4, 29)),  # yesterday, 30 min after the history starts
        ((2, 10), (2, 40)),
        ((0, 30), (2, 0)),  # yesterday's 02:00
    ],
)
def test_the_excursion_always_falls_in_the_night_of_the_day(local_now, expected):
    spec = next(spec for spec in ROOMS if spec["code"] == "MR-1")
    now = dt.datetime(2026, 11, 30, *local_now, tzinfo=SHANGHAI)
    start, end = _fault_window(spec, now - HISTORY, now)
    assert (start.astimezone(SHANGHAI).hour, start.astimezone(SHANGHAI).minute) == expected
    assert now - HISTORY < start and end <= now - dt.timedelta(hours=1)


@pytest.mark.parametrize("local_now", [(2, 10), (5, 0)])
def test_an_early_morning_demo_has_its_excursion_too(local_now):
    _seed_lab()
    now = (
        timezone.now()
        .astimezone(SHANGHAI)
        .replace(hour=local_now[0], minute=local_now[1], second=0, microsecond=0)
    )
    if now > timezone.now():
        now -= dt.timedelta(days=1)
    assert demo_seed_environment(now=now, actor=SYSTEM)
    alarm = Alarm.objects.get()
    assert alarm.status == "cleared" and alarm.acknowledged_by is not None
    assert now - HISTORY < alarm.raised_at < alarm.cleared_at < now
    restore = Command.objects.get(source="manual")
    assert alarm.cleared_at < restore.issued_at <= now
    assert Actuator.objects.get(code="MR1-AC").setpoint == 22


def test_demo_children():
    simulate, watch = demo_children()
    assert simulate[1:] == ["-m", "metrolab.cli", "environment_simulate", "--interval", "10"]
    assert watch[1:] == [
        "-m",
        "metrolab.cli",
        "environment_watch",
        "--interval",
        "10",
        "--start-after",
        "30",
    ]
