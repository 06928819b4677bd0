"""Demo data of environment monitoring (issue 6 "Demo"; R6.11, R7.1b, R6.9a/c, R6.2b): the
demo lab's monitored rooms — the pressure lab, the temperature lab, the electrical lab, the
machine room, the mobile lab (the calibration vehicle) and the sample store — with their
requirements (one a method adds), simulated sensors with their own calibrations, simulated
actuators, automatic control rules, and a day of history.

The day of history (24 h before `now`, one reading per sensor period) is what the simulated
rooms would have reported: the live simulator's room model (`simulator.RoomModel`, parameters
in `Room.simulation`) driven by each room's air conditioner, dehumidifier and ventilation, with
the control rules deciding on the readings as they come (`control.decide`; their commands are
in the command log at the readings' times) and the alarm engine (`alarms.on_readings`) judging
the readings as they are stored, so alarms are raised, told and cleared at their own times.
One thing happens in the night: the machine room's precision air conditioner trips
(compressor overload) for about 50 minutes, the temperature climbs above 27 ℃ for about 20
minutes, the rules switch the ventilation on and lower the set-point, the alarm is raised,
acknowledged by the equipment manager with a comment, and cleared once the unit is reset; in
the morning he restores the usual set-point by hand. Everything else stays within the
requirements.

Readings enter through `ingest.ingest_readings(channel="simulated")` in batches, like the live
simulator's; the ingestion listeners are held back meanwhile (the alarm engine is called here
batch by batch, and the live rules would command the actuators now for a night long past).

`demo_seed_environment(actor=SYSTEM)` runs after the demo users (metrolab.core.demo) and, for
the method requirement, the methods library (metrolab.methods.demo); it does nothing when rooms
exist.
`demo_children()` lists the long-running commands the demo starts beside the web server so
that the rooms keep reporting (the simulator) and alarms and rules keep running (the watch).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import random
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from metrolab.commissions.models import Discipline
from metrolab.core.models import User
from metrolab.core.service import service
from metrolab.environment import alarms, control, ingest
from metrolab.environment.models import (
    DEFAULT_UNITS,
    Actuator,
    Alarm,
    Command,
    ControlRule,
    Quantity,
    Requirement,
    Room,
    Sensor,
)
from metrolab.environment.selectors import corrected
from metrolab.environment.simulator import RESOLUTION, ActuatorState, RoomModel

T, H, P = Quantity.TEMPERATURE, Quantity.HUMIDITY, Quantity.PRESSURE
V, VIB = Quantity.VOLTAGE, Quantity.VIBRATION
HVAC, DEHUMIDIFIER = Actuator.Kind.HVAC, Actuator.Kind.DEHUMIDIFIER
LIGHTS, VENTILATION = Actuator.Kind.LIGHTS, Actuator.Kind.VENTILATION
SWITCH, SETPOINT = ControlRule.Mode.SWITCH, ControlRule.Mode.SETPOINT

PERIOD = 60  # s: every demo sensor reports once a minute
HISTORY = dt.timedelta(hours=24)
BATCH = 4000  # readings per ingestion batch
MANAGER = "equipment"  # 周设备, the demo equipment manager: acknowledges, restores by hand

# Room requirements: quantity, low, high, hysteresis, alarm delay (s), raise alarms, note.
# Sources: the pressure lab's (20 ± 5) ℃ and ≤ 85 %RH are the usual verification conditions of
# the general pressure-gauge regulation (JJG 52-2013, quoted from memory, not checked against
# the text here); the temperature lab's (20 ± 2) ℃ is the brief's. The machine room's 18–27 ℃
# is the recommended inlet-air range of GB 50174-2017 (data centres, as we recall it) and its
# 35–75 %RH the class C figure of GB 50174-2008: both quoted from memory, demo values until
# checked. The supply voltage 220 V ± 10 % is a demo value (a UPS's input window; the public
# grid's limits of GB/T 12325-2008 for 220 V single-phase are +7 % / −10 %). Everything else
# (hystereses, delays, the mobile lab's and the store's ranges) is a demo value.
ROOMS = [
    {
        "code": "PL-1",
        "name": "压力实验室",
        "kind": Room.Kind.LAB,
        "discipline": "P",
        "responsible": "equipment",
        "description": "活塞式压力计、精密数字压力计与压力表检定台；气压用于空气浮力修正。",
        "requirements": [
            (T, "15", "25", "0.5", 300, True, "检定环境温度 (20 ± 5) ℃"),
            (H, None, "85", "3", 600, True, "相对湿度不大于 85 %RH"),
            (P, "86", "106", "0", 0, False, "记录气压，用于空气浮力修正（不报警）"),
        ],
        # A stricter range a method adds in this room: precision pressure gauges of the most
        # accurate classes at (20 ± 2) ℃ — a demo value of the kind JJG 49-2013 asks for, not
        # checked against the text here.
        "method_requirements": [
            (("JJG 49", "2013"), T, "18", "22", "0.3", 600, True, "精密压力表检定 (20 ± 2) ℃"),
        ],
        "sensors": [
            # code, name, quantity, correction, U (k=2), calibration due in (days)
            ("PL1-T01", "检定台温度", T, "0.06", "0.10", 160),
            ("PL1-H01", "检定台湿度", H, "1.2", "2.0", 160),
            ("PL1-P01", "数字气压计", P, "0.012", "0.020", 220),
        ],
        "actuators": [
            # code, name, kind, set-point min, max, on, set-point
            ("PL1-AC", "恒温空调", HVAC, "16", "30", True, "20"),
            ("PL1-DH", "除湿机", DEHUMIDIFIER, None, None, False, None),
            ("PL1-LT", "照明", LIGHTS, None, None, False, None),
        ],
        "rules": [
            # quantity, actuator, mode, low, high, hysteresis, set-point, note
            (T, "PL1-AC", SETPOINT, "18.5", "21.5", "0", "20", "温度偏离时空调回到 20 ℃"),
            (H, "PL1-DH", SWITCH, None, "65", "5", None, "湿度高于 65 %RH 开除湿机，60 以下关"),
        ],
        # The room model's parameters (simulator.RoomModel; demo values): the air around the
        # room (℃, swing over the day), heat gains (℃/h: always, and in working hours), time
        # constants (h) of the walls, the air conditioner, the moisture exchange; the
        # building's humidity (%RH, swing over the day). Stored in Room.simulation.
        "model": {
            "ambient": 22.0,
            "ambient_swing": 3.0,
            "load": 0.3,
            "work_load": 1.5,
            "leak_hours": 8.0,
            "hvac_hours": 0.25,
            "outside_humidity": 63.0,
            "humidity_swing": 8.0,
            "hvac_drying": 6.0,
            "moisture_hours": 3.0,
            "dehumidifier_hours": 1.0,
            "pressure": 100.9,
        },
    },
    {
        "code": "TL-1",
        "name": "温度实验室",
        "kind": Room.Kind.LAB,
        "discipline": "T",
        "responsible": "metrologist",
        "description": "二等标准水银温度计标准装置、恒温槽组；恒温槽工作时散热明显。",
        "requirements": [
            (T, "18", "22", "0.3", 300, True, "(20 ± 2) ℃"),
            (H, "30", "70", "3", 600, True, "30 %RH ~ 70 %RH"),
        ],
        "method_requirements": [],
        "sensors": [
            ("TL1-T01", "标准器工作台温度", T, "-0.04", "0.10", 95),
            ("TL1-T02", "恒温槽附近温度", T, "0.03", "0.10", 95),
            ("TL1-H01", "室内湿度", H, "-0.8", "2.0", 95),
            ("TL1-P01", "数字气压计", P, "-0.008", "0.020", 220),
        ],
        "actuators": [
            ("TL1-AC", "恒温空调", HVAC, "16", "30", True, "20"),
            ("TL1-LT", "照明", LIGHTS, None, None, False, None),
        ],
        "rules": [
            (T, "TL1-AC", SETPOINT, "18.5", "21.5", "0", "20", "温度偏离时空调回到 20 ℃"),
        ],
        "model": {
            "ambient": 22.0,
            "ambient_swing": 3.0,
            "load": 0.3,
            "work_load": 3.0,  # the baths
            "leak_hours": 8.0,
            "hvac_hours": 0.2,
            "outside_humidity": 56.0,
            "humidity_swing": 8.0,
            "hvac_drying": 6.0,
            "moisture_hours": 3.0,
            "pressure": 100.9,
        },
    },
    {
        # Demo values, as the temperature lab's: DC voltage calibration of digital multimeters
        # at (20 ± 2) ℃ (the kind of condition JJF 1587 asks for, not checked against the text).
        "code": "EL-1",
        "name": "电学实验室",
        "kind": Room.Kind.LAB,
        "discipline": "E",
        "responsible": "equipment",
        "description": "多功能校准源与 8½ 位数字多用表：数字多用表及电学仪器的校准。",
        "requirements": [
            (T, "18", "22", "0.3", 300, True, "(20 ± 2) ℃"),
            (H, "30", "70", "3", 600, True, "30 %RH ~ 70 %RH"),
        ],
        "method_requirements": [],
        "sensors": [
            ("EL1-T01", "校准台温度", T, "0.05", "0.10", 130),
            ("EL1-H01", "室内湿度", H, "-1.0", "2.0", 130),
        ],
        "actuators": [
            ("EL1-AC", "恒温空调", HVAC, "16", "30", True, "20"),
        ],
        "rules": [
            (T, "EL1-AC", SETPOINT, "18.5", "21.5", "0", "20", "温度偏离时空调回到 20 ℃"),
        ],
        "model": {
            "ambient": 22.0,
            "ambient_swing": 3.0,
            "load": 0.3,
            "work_load": 1.0,  # the instruments
            "leak_hours": 8.0,
            "hvac_hours": 0.2,
            "outside_humidity": 52.0,
            "humidity_swing": 8.0,
            "hvac_drying": 6.0,
            "moisture_hours": 3.0,
        },
    },
    {
        "code": "MR-1",
        "name": "机房",
        "kind": Room.Kind.MACHINE_ROOM,
        "discipline": None,
        "responsible": "admin",
        "description": "业务系统服务器、数据库与备份设备；精密空调、UPS 供电。",
        "requirements": [
            (T, "18", "27", "0.5", 300, True, "进风温度 18 ℃ ~ 27 ℃"),
            (H, "35", "75", "3", 600, True, "35 %RH ~ 75 %RH"),
            (V, "198", "242", "2", 60, True, "220 V ± 10 %"),
        ],
        "method_requirements": [],
        "sensors": [
            ("MR1-T01", "机柜进风温度", T, "0.10", "0.20", 40),
            ("MR1-H01", "机房湿度", H, "1.5", "2.5", 40),
            ("MR1-V01", "UPS 输入电压", V, "-0.6", "1.0", 300),
        ],
        "actuators": [
            ("MR1-AC", "精密空调", HVAC, "16", "30", True, "22"),
            ("MR1-FAN", "应急通风", VENTILATION, None, None, False, None),
        ],
        "rules": [
            (T, "MR1-AC", SETPOINT, "18", "26.5", "0", "20", "过热时空调设定值降到 20 ℃"),
            (T, "MR1-FAN", SWITCH, None, "26", "1", None, "高于 26 ℃ 开应急通风，25 ℃ 以下关"),
        ],
        "model": {
            "ambient": 22.0,
            "ambient_swing": 2.0,
            "load": 12.0,  # the servers
            "work_load": 0.0,
            "leak_hours": 4.0,
            "hvac_hours": 0.08,
            "ventilation_hours": 1.5,
            "outside_humidity": 47.0,
            "humidity_swing": 4.0,
            "hvac_drying": 5.0,
            "moisture_hours": 4.0,
            "voltage": 224.0,
        },
        # The night's excursion (see the module docstring).
        "fault": {"after_hours": 2, "minutes": 48},
        "ack_comment": "夜间值班通知：精密空调压缩机过载保护跳闸，已远程复位并临时开启通风；"
        "上午安排厂家检修。",
        "restore_reason": "空调故障已排除（压缩机过载保护复位、厂家检修完毕），恢复日常设定值 22 ℃",
    },
    {
        "code": "ML-1",
        "name": "移动实验室（计量检测车）",
        "kind": Room.Kind.MOBILE_LAB,
        "discipline": None,
        "responsible": "equipment",
        "description": "现场检定用计量检测车，车载空调；停放时接市电。行驶时记录振动。",
        "requirements": [
            (T, "15", "30", "0.5", 300, True, "车厢温度 15 ℃ ~ 30 ℃"),
            (H, None, "85", "3", 600, True, "相对湿度不大于 85 %RH"),
            (VIB, None, "4.5", "0.5", 120, True, "振动速度不大于 4.5 mm/s"),
        ],
        "method_requirements": [],
        "sensors": [
            ("ML1-T01", "车厢温度", T, "0.08", "0.20", 70),
            ("ML1-H01", "车厢湿度", H, "1.0", "2.5", 70),
            ("ML1-VB01", "车厢振动", VIB, "0.02", "0.08", 250),
        ],
        "actuators": [
            ("ML1-AC", "车载空调", HVAC, "16", "30", True, "22"),
        ],
        "rules": [
            (T, "ML1-AC", SETPOINT, "16", "28", "0", "22", "车厢温度偏离时空调回到 22 ℃"),
        ],
        "model": {
            "ambient": 12.0,  # parked outdoors
            "ambient_swing": 6.0,
            "load": 0.2,
            "work_load": 0.8,
            "leak_hours": 3.0,
            "hvac_hours": 0.3,
            "outside_humidity": 72.0,
            "humidity_swing": 12.0,
            "hvac_drying": 12.0,
            "moisture_hours": 2.0,
            "pressure": 100.8,
            # Drives to a customer's site and back (local hours).
            "drives": [[9.0, 9.8], [16.2, 17.0]],
        },
    },
    {
        "code": "SR-1",
        "name": "样品库",
        "kind": Room.Kind.STORAGE,
        "discipline": None,
        "responsible": "keeper",
        "description": "待检和已检样品存放，除湿机控制湿度。",
        "requirements": [
            (T, "10", "30", "0.5", 600, True, "10 ℃ ~ 30 ℃"),
            (H, None, "75", "3", 900, True, "相对湿度不大于 75 %RH"),
        ],
        "method_requirements": [],
        "sensors": [
            ("SR1-T01", "库房温度", T, "-0.10", "0.30", 120),
            ("SR1-H01", "库房湿度", H, "2.0", "3.0", 120),
        ],
        "actuators": [
            ("SR1-DH", "除湿机", DEHUMIDIFIER, None, None, False, None),
        ],
        "rules": [
            (H, "SR1-DH", SWITCH, None, "65", "5", None, "湿度高于 65 %RH 开除湿机，60 以下关"),
        ],
        "model": {
            "ambient": 20.0,
            "ambient_swing": 2.0,
            "load": 0.0,
            "work_load": 0.0,
            "leak_hours": 6.0,
            "hvac_hours": 0.3,
            "outside_humidity": 66.0,
            "humidity_swing": 10.0,
            "hvac_drying": 0.0,
            "moisture_hours": 3.0,
            "dehumidifier_hours": 1.0,
        },
    },
]

# Each sensor's own noise (one standard deviation, on top of the room model's), per quantity:
# demo values of the order of industrial temperature / humidity transmitters, a digital
# barometer, a power meter, a vibration transmitter. Readings have the simulator's resolution.
NOISE = {T: 0.015, H: 0.2, P: 0.003, V: 0.3, VIB: 0.01}

# Each demo sensor's measuring range, its plausible range in MetroLab (demo values of the
# usual kinds of instrument: a temperature-humidity logger, a digital barometer, a mains
# voltage transducer, a vibration transmitter); and when they were installed.
MEASURING_RANGES = {T: (-20, 60), H: (0, 100), P: (50, 110), V: (0, 300), VIB: (0, 50)}
INSTALLED_DAYS_AGO = 400


def demo_children() -> list[list[str]]:
    """The long-running environment processes the demo starts beside the web server: the
    simulated rooms keep reporting, and offline / delayed alarms and the rules keep running."""
    cli = [sys.executable, "-m", "metrolab.cli"]
    return [
        [*cli, "environment_simulate", "--interval", "10"],
        # A demo restarted after a pause: the simulator reports before the watch looks for
        # silent sensors.
        [*cli, "environment_watch", "--interval", "10", "--start-after", "30"],
    ]


# --- the history: the room model with the rules acting, over the day ------------------------


@dataclass
class _Actuator:
    """An actuator's commanded state as the history runs, and what the room model sees."""

    obj: Actuator
    on: bool
    setpoint: Decimal | None

    def state(self, broken: bool = False) -> ActuatorState:
        setpoint = None if self.setpoint is None else float(self.setpoint)
        return ActuatorState(self.obj.kind, self.on and not broken, setpoint)


@dataclass
class RoomHistory:
    readings: list[tuple[str, dt.datetime, float]] = field(default_factory=list)
    commands: list[dict] = field(default_factory=list)
    actuators: dict[str, _Actuator] = field(default_factory=dict)  # the final states
    temperature: float = 0.0  # the model's final state
    humidity: float = 0.0


def _fault_window(spec, start: dt.datetime, end: dt.datetime):
    """The machine room's night (None for the other rooms): the latest local `after_hours`
    o'clock at least 2 h before the end, and never earlier than 30 min into the history."""
    fault = spec.get("fault")
    if not fault:
        return None
    local_end = timezone.localtime(end - dt.timedelta(hours=2))
    candidate = local_end.replace(hour=fault["after_hours"], minute=0, second=0, microsecond=0)
    if candidate > local_end:
        candidate -= dt.timedelta(days=1)
    begin = max(candidate, start + dt.timedelta(minutes=30))
    return begin, begin + dt.timedelta(minutes=fault["minutes"])


def room_history(room: Room, spec: dict, times: list[dt.datetime]) -> RoomHistory:
    """The readings and rule commands of one demo room at `times` (the readings' times, oldest
    first): the simulated room model (`simulator.RoomModel`, the live simulator's) driven by
    the actuators' commanded states, each sensor reporting the model's value minus its
    correction plus its own noise, and the room's rules deciding on each minute's corrected
    values as `control.py` does (a command only when it changes the actuator's state)."""
    history = RoomHistory()
    sensors = list(room.sensors.filter(active=True).order_by("code"))
    rngs = {s.code: random.Random(s.code) for s in sensors}  # noqa: S311 (noise, not secrets)
    actuators = {
        a.code: _Actuator(a, a.on, a.setpoint)
        for a in room.actuators.filter(active=True).order_by("code")
    }
    history.actuators = actuators
    rules = list(room.control_rules.filter(active=True).select_related("actuator").order_by("pk"))
    fault = _fault_window(spec, times[0], times[-1])
    restore_at = None
    if fault is not None:
        # In the morning, or at the latest 10 min before the end (the fault ends at least
        # 70 min before it), the equipment manager restores the usual set-point by hand.
        restore_at = min(
            fault[0] + dt.timedelta(hours=6, minutes=30),
            max(fault[1] + dt.timedelta(minutes=50), times[-1] - dt.timedelta(minutes=10)),
        )

    def states(broken=False):
        return [a.state(broken and a.obj.kind == HVAC) for a in actuators.values()]

    model = RoomModel(room.simulation)
    for minute in range(360, 0, -1):  # six settled hours before the history starts
        model.step(PERIOD, states(), times[0] - dt.timedelta(minutes=minute))
    for at in times:
        if restore_at is not None and at >= restore_at:
            hvac = next(a for a in actuators.values() if a.obj.kind == HVAC)
            usual = Decimal(next(row[6] for row in spec["actuators"] if row[0] == hvac.obj.code))
            history.commands.append(
                {"actuator": hvac.obj, "action": Command.Action.SET, "value": usual}
                | {"rule": None, "reason": spec["restore_reason"], "issued_at": at}
            )
            hvac.on, hvac.setpoint = True, usual
            restore_at = None
        broken = fault is not None and fault[0] <= at < fault[1]
        values = model.step(PERIOD, states(broken), at)
        seen: dict[str, list[float]] = {}
        for sensor in sensors:
            noise = rngs[sensor.code].gauss(0, NOISE.get(sensor.quantity, 0.0))
            true = values[sensor.quantity] + noise
            raw = round(true - float(sensor.correction), RESOLUTION.get(sensor.quantity, 2))
            if sensor.quantity == VIB:
                raw = max(raw, 0.0)
            history.readings.append((sensor.code, at, raw))
            seen.setdefault(sensor.quantity, []).append(corrected(raw, sensor.correction))
        for rule in rules:
            if rule.quantity not in seen:
                continue
            actuator = actuators[rule.actuator.code]
            value = math.fsum(seen[rule.quantity]) / len(seen[rule.quantity])
            decision = control.decide(rule, value, on=actuator.on, setpoint=actuator.setpoint)
            if decision is None:
                continue
            action, setpoint, why = decision
            history.commands.append(
                {"actuator": actuator.obj, "action": action, "value": setpoint, "rule": rule}
                | {
                    "reason": control.rule_reason(rule, value, DEFAULT_UNITS[rule.quantity], why),
                    "issued_at": at,
                }
            )
            actuator.on = action != Command.Action.OFF
            if setpoint is not None:
                actuator.setpoint = setpoint
    history.temperature, history.humidity = model.temperature, model.humidity
    return history


# --- seeding ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _listeners_held():
    """Hold the ingestion listeners back while the history is stored: the alarm engine is run
    here batch by batch, and the rules' commands are written with their historic times."""
    saved = list(ingest.ingest_listeners)
    ingest.ingest_listeners.clear()
    try:
        yield
    finally:
        ingest.ingest_listeners[:] = saved


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def simulation_parameters(spec: dict, seed: int) -> dict:
    """`Room.simulation` of a demo room (read by `simulator.RoomModel`): the model's
    parameters, a starting state at the air conditioner's set-point, a noise seed."""
    hvac = next((row for row in spec["actuators"] if row[2] == HVAC), None)
    model = spec["model"]
    return {
        **model,
        "temperature": float(hvac[6]) if hvac else model["ambient"],
        "humidity": model["outside_humidity"],
        "hvac_setpoint": float(hvac[6]) if hvac else 20.0,
        "seed": seed,
    }


def _method(code: str, year: str):
    from metrolab.methods.models import Method

    return Method.objects.filter(code=code, year=year).first()


def _create_room(spec: dict, seed: int, users: dict, disciplines: dict, now) -> Room:
    room = Room.objects.create(
        code=spec["code"],
        name=spec["name"],
        kind=spec["kind"],
        discipline=disciplines.get(spec["discipline"]),
        description=spec["description"],
        responsible=users.get(spec["responsible"]) or users.get(MANAGER),
        simulation=simulation_parameters(spec, seed),
    )
    rows = [(None, *row) for row in spec["requirements"]]
    for key, *row in spec["method_requirements"]:
        method = _method(*key)
        if method is not None:  # without the methods library, no method requirement
            rows.append((method, *row))
    for method, quantity, low, high, hysteresis, delay, alarm, note in rows:
        Requirement.objects.create(
            room=room,
            quantity=quantity,
            low=_dec(low),
            high=_dec(high),
            unit=DEFAULT_UNITS[quantity],
            method=method,
            note=note,
            alarm=alarm,
            hysteresis=Decimal(hysteresis),
            alarm_delay_seconds=delay,
        )
    for code, name, quantity, correction, uncertainty, due_in in spec["sensors"]:
        Sensor.objects.create(
            code=code,
            name=name,
            room=room,
            quantity=quantity,
            unit=DEFAULT_UNITS[quantity],
            protocol=Sensor.Protocol.SIMULATED,
            correction=Decimal(correction),
            uncertainty=Decimal(uncertainty),
            calibration_due=timezone.localdate(now) + dt.timedelta(days=due_in),
            period_seconds=PERIOD,
            plausible_low=MEASURING_RANGES[quantity][0],
            plausible_high=MEASURING_RANGES[quantity][1],
            installed_at=now - dt.timedelta(days=INSTALLED_DAYS_AGO),
        )
    actuators = {}
    for code, name, kind, low, high, on, setpoint in spec["actuators"]:
        actuators[code] = Actuator.objects.create(
            code=code,
            name=name,
            room=room,
            kind=kind,
            protocol=Actuator.Protocol.SIMULATED,
            setpoint_min=_dec(low),
            setpoint_max=_dec(high),
            unit="℃" if kind == HVAC else "",
            on=on,
            setpoint=_dec(setpoint),
        )
    for quantity, code, mode, low, high, hysteresis, setpoint, note in spec["rules"]:
        ControlRule.objects.create(
            room=room,
            quantity=quantity,
            actuator=actuators[code],
            mode=mode,
            low=_dec(low),
            high=_dec(high),
            hysteresis=Decimal(hysteresis),
            setpoint=_dec(setpoint),
            note=note,
        )
    return room


def _store_history(rooms, now: dt.datetime) -> dict[str, RoomHistory]:
    """Generate and store the day of history of every demo room, in time order, in batches;
    the alarm engine judges each batch as it is stored (raising, telling and clearing alarms
    at the readings' times). Returns each room's history."""
    end = now.replace(second=0, microsecond=0)
    count = int(HISTORY.total_seconds() // PERIOD)
    times = [end - dt.timedelta(seconds=PERIOD * k) for k in range(count - 1, -1, -1)]
    histories = {room.code: room_history(room, spec, times) for room, spec in rooms}
    readings = sorted(
        (r for h in histories.values() for r in h.readings), key=lambda r: (r[1], r[0])
    )
    with _listeners_held():
        for start in range(0, len(readings), BATCH):
            items = [
                {"sensor": code, "time": at, "value": value}
                for code, at, value in readings[start : start + BATCH]
            ]
            result = ingest.ingest_readings(items, channel="simulated", now=now)
            if result.rejected:  # a programming error of this module
                raise RuntimeError(f"demo history refused: {result.rejected[0]}")
            alarms.on_readings(result.readings, now=now)
    return histories


def _write_history(rooms, histories: dict[str, RoomHistory], users: dict) -> None:
    """The commands of the day (simulated actuators: delivered as issued), the actuators' and
    models' final states, and the acknowledgement of the day's alarms by the equipment
    manager, 6 minutes after each was raised."""
    manager = users.get(MANAGER)
    for room, spec in rooms:
        history = histories[room.code]
        for c in history.commands:
            manual = c["rule"] is None
            Command.objects.create(
                actuator=c["actuator"],
                action=c["action"],
                value=c["value"],
                source=Command.Source.MANUAL if manual else Command.Source.RULE,
                rule=c["rule"],
                issued_by=manager if manual else None,
                reason=c["reason"],
                issued_at=c["issued_at"],
                status=Command.Status.SENT,
                sent_at=c["issued_at"],
            )
        for state in history.actuators.values():
            actuator = state.obj
            if (actuator.on, actuator.setpoint) != (state.on, state.setpoint):
                actuator.on, actuator.setpoint = state.on, state.setpoint
                actuator.save()
        # The live simulator carries on from where the day ended.
        room.simulation = {
            **room.simulation,
            "temperature": round(history.temperature, 2),
            "humidity": round(history.humidity, 1),
        }
        room.save()
        for alarm in Alarm.objects.filter(room=room, acknowledged_at__isnull=True):
            acknowledged = alarm.raised_at + dt.timedelta(minutes=6)
            if manager is None or (alarm.cleared_at and alarm.cleared_at <= acknowledged):
                continue
            alarm.acknowledged_at, alarm.acknowledged_by = acknowledged, manager
            alarm.comment = spec.get("ack_comment", "已确认。")
            if alarm.status == Alarm.Status.RAISED:
                alarm.status = Alarm.Status.ACKNOWLEDGED
            alarm.save()


@service("demo.seed_environment", record_calls=False)
def demo_seed_environment(now: dt.datetime | None = None, *, actor: Any) -> bool:
    """Seed the demo rooms with a day of history before `now` once; returns False when rooms
    exist already, or the demo users do not exist yet."""
    if Room.objects.exists():
        return False
    users = {u.username: u for u in User.objects.filter(username__in=_usernames())}
    if MANAGER not in users:
        return False
    now = now or timezone.now()
    disciplines = {d.code: d for d in Discipline.objects.all()}
    rooms = [
        (_create_room(spec, seed, users, disciplines, now), spec)
        for seed, spec in enumerate(ROOMS, start=1)
    ]
    histories = _store_history(rooms, now)
    _write_history(rooms, histories, users)
    return True


def _usernames() -> set[str]:
    return {spec["responsible"] for spec in ROOMS} | {MANAGER}
