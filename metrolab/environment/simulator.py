"""The simulated room (R6.11e, issue 6): a small thermal / humidity model of a room that reacts to
its actuators, and the `Simulator` that makes the rooms whose sensors have the protocol
`simulated` report like real ones (`metrolab environment-simulate`). Used by the demo and by
the closed-loop test (temperature pushed out of range, the rule acting, the room returning).

The model (pure, no database): `RoomModel(params).step(seconds, actuators, moment=None)`
advances the room by `seconds` and returns `{quantity: value}` for every quantity it knows
(corrected values: what a calibrated sensor would show). `actuators` is
`{kind: {"on": bool, "setpoint": float | None}}` (or an iterable of `ActuatorState`); `moment`
(an aware datetime, the end of the step) turns on the daily swings. Temperature and humidity
are its state; the other quantities are near-constants with small seeded noise.

- temperature (℃, first order, solved exactly over sub-steps of at most 60 s):
  dT/dt = (ambient − T)/leak_hours + load (+ work_load 08:30–17:30) + heat_load
          + [HVAC on] (set-point − T)/hvac_hours + [ventilation on] (ambient − T)/ventilation_hours
  per hour; ambient swings by ±ambient_swing over the day (warmest at 15:00).
- humidity (%RH): relaxes towards the building's humidity (±humidity_swing, wettest at 05:00;
  `hvac_drying` lower while the air conditioner runs) with moisture_hours, towards 35 %RH
  with dehumidifier_hours while a dehumidifier runs, towards 55 %RH with humidifier_hours
  while a humidifier runs.
- pressure, voltage (with the daily dips of a building), frequency, illumination (lights on or
  off; on when the room has no lights actuator), noise, vibration (higher in the `drives`
  windows of a mobile lab, local hours), air speed (higher with ventilation), gas.

Parameters come from `Room.simulation` (JSON) with the defaults of `DEFAULTS` (plausible
values for an air-conditioned lab, demo values, not measured): e.g.
`{"ambient": 28, "temperature": 21, "humidity": 50, "heat_load": 6}`. `outside` is accepted
for `ambient`; `humidity` is the starting humidity and, unless `outside_humidity` is given,
the building's. `heat_load` (℃/h) is the disturbance; change it on a running model with
`model.heat_load = ...`. `jitter` scales the noise (0: none); `seed` seeds it.

The `Simulator` runs the rooms: every step it advances each room's model by `step_seconds`,
reads the actuators' state (from the database; in MQTT mode, an MQTT actuator's state is the
last command the simulator received on `<root>/cmd/<code>`, like a real device), and reports
a reading per active simulated sensor at the simulated time: stored through
`ingest.ingest_readings(..., channel="simulated")`, or in MQTT mode published on the sensor's
topic (`<root>/env/<code>/reading`, QoS 1) for the MQTT ingester. A sensor reports its raw
value: the model's value minus the sensor's correction. With `step_seconds` larger than the
interval between steps, simulated time runs faster than the clock (tests, demos); it starts in
the past and never runs ahead of the clock (the ingester refuses future times).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import close_old_connections, connection
from django.utils import timezone

logger = logging.getLogger(__name__)

HVAC, DEHUMIDIFIER, HUMIDIFIER, LIGHTS, VENTILATION = (
    "hvac",
    "dehumidifier",
    "humidifier",
    "lights",
    "ventilation",
)

DEFAULTS: dict[str, float] = {
    # temperature
    "temperature": 20.0,  # starting temperature (℃)
    "ambient": 24.0,  # the air around the room (℃)
    "ambient_swing": 0.0,  # ± over the day
    "load": 0.5,  # heat gains (℃/h)
    "work_load": 0.0,  # more in working hours (℃/h)
    "heat_load": 0.0,  # the disturbance (℃/h)
    "leak_hours": 6.0,  # time constant of the walls (h)
    "hvac_hours": 0.25,  # of the air conditioner
    "hvac_setpoint": 20.0,  # when switched on without a set-point
    "ventilation_hours": 1.0,
    # humidity
    "humidity": 50.0,  # starting humidity (%RH), and the building's by default
    "humidity_swing": 0.0,
    "hvac_drying": 5.0,  # the air conditioner dries the air by this much (%RH)
    "moisture_hours": 3.0,
    "dehumidifier_hours": 1.0,
    "humidifier_hours": 1.0,
    # the rest
    "pressure": 101.3,  # kPa
    "voltage": 220.0,  # V (GB/T 12325 nominal)
    "frequency": 50.0,  # Hz
    "illumination": 500.0,  # lx, lights on
    "illumination_off": 5.0,
    "noise": 45.0,  # dB(A)
    "vibration": 0.08,  # mm/s
    "air_speed": 0.1,  # m/s
    "air_speed_ventilation": 0.4,
    "gas": 450.0,  # ppm (CO2)
    "jitter": 1.0,
    "seed": 0,
}
ALIASES = {"outside": "ambient"}
DRY_TARGET, WET_TARGET = 35.0, 55.0
# Noise (one standard deviation, × jitter) of each quantity's value.
NOISE = {
    "temperature": 0.02,
    "humidity": 0.15,
    "pressure": 0.01,
    "voltage": 0.4,
    "frequency": 0.01,
    "illumination": 4.0,
    "noise": 0.8,
    "vibration": 0.01,
    "air_speed": 0.01,
    "gas": 4.0,
}
# Decimals a simulated sensor reports (the resolution of a typical transmitter of the
# quantity: 0.01 ℃, 0.1 %RH, 0.001 kPa, 0.1 V, 0.01 mm/s ...).
RESOLUTION = {
    "temperature": 2,
    "humidity": 1,
    "pressure": 3,
    "voltage": 1,
    "frequency": 2,
    "illumination": 0,
    "noise": 1,
    "vibration": 2,
    "air_speed": 2,
    "gas": 0,
}
SUBSTEP = 60.0  # s


@dataclass
class ActuatorState:
    """What an actuator does now: on or off, at a set-point (air conditioners)."""

    kind: str
    on: bool = False
    setpoint: float | None = None

    @classmethod
    def of(cls, actuator) -> ActuatorState:
        """The commanded state of an `Actuator` row."""
        setpoint = None if actuator.setpoint is None else float(actuator.setpoint)
        return cls(actuator.kind, bool(actuator.on), setpoint)


def _states(actuators) -> list[ActuatorState]:
    if isinstance(actuators, Mapping):
        states = []
        for kind, state in actuators.items():
            if isinstance(state, ActuatorState):
                states.append(state)
            elif isinstance(state, Mapping):
                setpoint = state.get("setpoint")
                states.append(
                    ActuatorState(
                        kind,
                        bool(state.get("on")),
                        None if setpoint is None else float(setpoint),
                    )
                )
            else:
                states.append(ActuatorState(kind, bool(state)))
        return states
    return list(actuators or ())


def clean_parameters(raw: Mapping | None) -> dict:
    """`DEFAULTS` overridden by the usable numbers of `raw` (a `Room.simulation`); anything
    else is logged and ignored, so a typo never stops a simulated room."""
    params: dict = dict(DEFAULTS)
    params["drives"] = []
    for key, value in (raw if isinstance(raw, Mapping) else {}).items():
        key = ALIASES.get(key, key)
        if key == "drives":
            try:
                params["drives"] = [(float(a), float(b)) for a, b in value]
            except (TypeError, ValueError):
                logger.warning("simulation parameter 'drives' ignored: %r", value)
            continue
        if key == "outside_humidity":
            if _number(value) is not None:
                params[key] = float(value)
            continue
        if key not in DEFAULTS:
            continue  # other apps' notes (the demo keeps its own keys here)
        if _number(value) is None:
            logger.warning("simulation parameter %r ignored: %r", key, value)
            continue
        params[key] = float(value)
    params.setdefault("outside_humidity", params["humidity"])
    for key in ("leak_hours", "hvac_hours", "ventilation_hours", "moisture_hours"):
        params[key] = max(params[key], 1e-3)
    for key in ("dehumidifier_hours", "humidifier_hours"):
        params[key] = max(params[key], 1e-3)
    return params


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _local_hour(moment: dt.datetime) -> float:
    local = timezone.localtime(moment)
    return local.hour + local.minute / 60 + local.second / 3600


def _daily(hour: float, peak: float) -> float:
    """A cosine over the day: 1 at `peak` o'clock, −1 twelve hours later."""
    return math.cos(2 * math.pi * (hour - peak) / 24)


def _relax(value: float, rate: float, target: float, hours: float) -> float:
    """Exact solution of dx/dt = rate·(target − x) over `hours`."""
    return target + (value - target) * math.exp(-rate * hours)


class RoomModel:
    """A room's air: temperature and humidity driven by its actuators (see the module doc)."""

    def __init__(self, params: Mapping | None = None, *, seed: int | None = None):
        self.params = clean_parameters(params)
        p = self.params
        self.temperature = p["temperature"]
        self.humidity = p["humidity"]
        self.heat_load = p["heat_load"]
        # Noise of a simulation, not security: a seeded generator, reproducible.
        self.random = random.Random(int(p["seed"]) if seed is None else seed)  # noqa: S311

    def _ambient(self, hour: float | None) -> float:
        p = self.params
        return p["ambient"] + (p["ambient_swing"] * _daily(hour, 15) if hour is not None else 0)

    def step(
        self, seconds: float, actuators=(), moment: dt.datetime | None = None
    ) -> dict[str, float]:
        """Advance by `seconds` with these actuators; the values at the end (see the module
        docstring). `moment` is the time at the end of the step (daily swings)."""
        p = self.params
        states = _states(actuators)
        running = {s.kind for s in states if s.on}
        hvacs = [s for s in states if s.kind == HVAC and s.on]
        remaining = max(float(seconds), 0.0)
        start = None if moment is None else moment - dt.timedelta(seconds=remaining)
        elapsed = 0.0
        while remaining > 1e-9:
            chunk = min(remaining, SUBSTEP)
            elapsed += chunk
            remaining -= chunk
            hour = None if start is None else _local_hour(start + dt.timedelta(seconds=elapsed))
            hours = chunk / 3600
            ambient = self._ambient(hour)
            working = hour is not None and 8.5 <= hour < 17.5
            gain = p["load"] + self.heat_load + (p["work_load"] if working else 0.0)
            # dT/dt = a·(T_eq − T): the walls, each running air conditioner, the ventilation.
            a = 1 / p["leak_hours"]
            b = ambient / p["leak_hours"] + gain
            for hvac in hvacs:
                setpoint = p["hvac_setpoint"] if hvac.setpoint is None else hvac.setpoint
                a += 1 / p["hvac_hours"]
                b += setpoint / p["hvac_hours"]
            if VENTILATION in running:
                a += 1 / p["ventilation_hours"]
                b += ambient / p["ventilation_hours"]
            self.temperature = _relax(self.temperature, a, b / a, hours)
            target = p["outside_humidity"]
            if hour is not None:
                target += p["humidity_swing"] * _daily(hour, 5)
            if hvacs:
                target -= p["hvac_drying"]
            a = 1 / p["moisture_hours"]
            b = target / p["moisture_hours"]
            if DEHUMIDIFIER in running:
                a += 1 / p["dehumidifier_hours"]
                b += DRY_TARGET / p["dehumidifier_hours"]
            if HUMIDIFIER in running:
                a += 1 / p["humidifier_hours"]
                b += WET_TARGET / p["humidifier_hours"]
            self.humidity = min(100.0, max(0.0, _relax(self.humidity, a, b / a, hours)))
        hour = None if moment is None else _local_hour(moment)
        return self._noisy(self.values(states, hour, moment))

    def values(self, actuators=(), hour: float | None = None, moment=None) -> dict[str, float]:
        """The values now, without noise."""
        p = self.params
        states = _states(actuators)
        kinds = {s.kind for s in states}
        running = {s.kind for s in states if s.on}
        lights_on = LIGHTS in running or LIGHTS not in kinds
        values = {
            "temperature": self.temperature,
            "humidity": self.humidity,
            "pressure": p["pressure"],
            "voltage": p["voltage"],
            "frequency": p["frequency"],
            "illumination": p["illumination"] if lights_on else p["illumination_off"],
            "noise": p["noise"],
            "vibration": p["vibration"],
            "air_speed": p["air_speed_ventilation"] if VENTILATION in running else p["air_speed"],
            "gas": p["gas"],
        }
        if hour is not None:
            values["pressure"] += 0.12 * math.cos(4 * math.pi * (hour - 10) / 24)
            if moment is not None:
                values["pressure"] += 0.35 * math.sin(2 * math.pi * moment.timestamp() / 432_000)
            evening = math.exp(-(((hour - 19.5) / 1.5) ** 2))
            values["voltage"] += -7 * evening + 1.5 * _daily(hour, 3)
            if any(a <= hour < b for a, b in p["drives"]):
                values["vibration"] = 2.2 + 0.8 * math.sin(hour * 40)
        return values

    def _noisy(self, values: dict[str, float]) -> dict[str, float]:
        jitter = self.params["jitter"]
        if jitter <= 0:
            return values
        noisy = {}
        for quantity, value in values.items():
            value += self.random.gauss(0.0, NOISE.get(quantity, 0.0) * jitter)
            if quantity in ("illumination", "vibration", "air_speed", "gas"):
                value = max(value, 0.0)
            elif quantity == "humidity":
                value = min(100.0, max(0.0, value))
            noisy[quantity] = value
        return noisy


# --- the simulator: rooms in the database, readings through the ingester ------------------


@dataclass
class SimulatorStats:
    steps: int = 0
    readings: int = 0  # stored (direct) or published and acknowledged (MQTT)
    rejected: int = 0  # refused by the ingester, or not acknowledged by the broker
    commands: int = 0  # commands received over MQTT and applied
    rooms: set[str] = field(default_factory=set)


class Simulator:
    """Runs the simulated rooms (see the module docstring). `step()` is one step; `run()`
    steps every `interval` seconds until stopped, `steps` were made or `seconds` passed."""

    def __init__(
        self,
        rooms: Iterable[str] = (),
        *,
        step_seconds: float = 10.0,
        start: dt.datetime | None = None,
        mqtt: bool = False,
        config=None,
        root: str | None = None,
        publish_timeout: float = 10.0,
    ):
        self.room_codes = list(rooms)
        self.step_seconds = float(step_seconds)
        if self.step_seconds <= 0:
            raise ValueError("step_seconds must be positive")
        self.clock = start or timezone.now()
        self.mqtt = mqtt
        self.config = config
        self.root = root
        self.publish_timeout = publish_timeout
        self.models: dict[str, RoomModel] = {}  # by room code
        self.stats = SimulatorStats()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._remote: dict[str, ActuatorState] = {}  # MQTT actuators: the last command received
        self._client = None

    # --- database ---------------------------------------------------------------------------

    def rooms(self) -> list:
        """The active rooms with active simulated sensors (only `rooms` when given)."""
        from metrolab.environment.models import Room, Sensor

        rooms = Room.objects.filter(
            active=True, sensors__active=True, sensors__protocol=Sensor.Protocol.SIMULATED
        ).distinct()
        if self.room_codes:
            rooms = rooms.filter(code__in=self.room_codes)
        return list(rooms.order_by("code"))

    def model(self, room) -> RoomModel:
        model = self.models.get(room.code)
        if model is None:
            model = self.models[room.code] = RoomModel(room.simulation)
        return model

    def _state(self, actuator) -> ActuatorState:
        if not (self.mqtt and actuator.protocol == "mqtt"):
            return ActuatorState.of(actuator)
        with self._lock:
            state = self._remote.get(actuator.code)
            if state is None:  # a device starts as it was last commanded
                state = self._remote[actuator.code] = ActuatorState.of(actuator)
            return ActuatorState(state.kind, state.on, state.setpoint)

    def step(self) -> int:
        """Advance every room by `step_seconds` and report its sensors at the simulated time;
        returns the readings reported."""
        from metrolab.environment.models import Actuator, Sensor

        moment = self.clock
        items = []
        for room in self.rooms():
            sensors = list(
                Sensor.objects.filter(
                    room=room, active=True, protocol=Sensor.Protocol.SIMULATED
                ).order_by("code")
            )
            actuators = Actuator.objects.filter(room=room, active=True).order_by("code")
            states = [self._state(a) for a in actuators]
            values = self.model(room).step(self.step_seconds, states, moment)
            self.stats.rooms.add(room.code)
            for sensor in sensors:
                if sensor.quantity not in values:
                    continue
                raw = values[sensor.quantity] - float(sensor.correction)
                raw = round(raw, RESOLUTION.get(sensor.quantity, 4))
                items.append({"sensor": sensor.code, "time": moment, "value": raw})
        reported = self._publish(items) if self.mqtt else self._ingest(items)
        self.stats.steps += 1
        self.clock = moment + dt.timedelta(seconds=self.step_seconds)
        return reported

    def _ingest(self, items) -> int:
        from metrolab.environment.ingest import ingest_readings

        if not items:
            return 0
        result = ingest_readings(items, channel="simulated")
        self.stats.readings += result.stored
        self.stats.rejected += len(result.rejected)
        for rejection in result.rejected:
            logger.warning(
                "simulated reading of %s refused (%s): %s",
                rejection.sensor,
                rejection.code,
                rejection.message,
            )
        return result.stored

    # --- MQTT -------------------------------------------------------------------------------

    def connect(self, timeout: float = 30.0) -> bool:
        """MQTT mode: connect to the broker and subscribe to the command topics."""

        from metrolab.environment.mqtt import BrokerConfig, topic_root

        cfg = self.config or BrokerConfig.from_settings()
        self.root = (self.root or topic_root()).strip("/")
        client = cfg.new_client(f"metrolab-simulator-{uuid.uuid4().hex[:8]}", clean_session=True)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        client.connect_async(cfg.host, cfg.port, keepalive=cfg.keepalive)
        client.loop_start()
        return self.subscribed.wait(timeout)

    def disconnect(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            logger.error("simulator: the MQTT broker refused the connection: %s", reason_code)
            return
        client.subscribe(f"{self.root}/cmd/+", qos=1)
        self.connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        if any(code.is_failure for code in reason_codes):
            logger.error("simulator: the MQTT broker refused the command subscription")
        else:
            self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        self.subscribed.clear()

    def _on_message(self, client, userdata, message):
        """A command for an actuator (paho's thread: no database here)."""
        code = message.topic.rsplit("/", 1)[-1]
        try:
            body = json.loads(message.payload)
            action = body["action"]
            value = body.get("value")
            if action not in ("on", "off", "set") or (action == "set" and value is None):
                raise ValueError(action)
        except (ValueError, KeyError, TypeError):
            logger.warning("simulator: unreadable command on %s", message.topic)
            return
        with self._lock:
            state = self._remote.get(code) or ActuatorState(HVAC if action == "set" else "")
            state.on = action != "off"
            if action == "set":
                state.setpoint = float(value)
            self._remote[code] = state
            self.stats.commands += 1
        logger.info("simulator: %s %s %s", code, action, "" if value is None else value)

    def _publish(self, items) -> int:
        from metrolab.environment.mqtt import reading_topic

        if self._client is None:
            self.connect()
        infos = []
        for item in items:
            payload = json.dumps({"time": item["time"].isoformat(), "value": item["value"]})
            infos.append(
                self._client.publish(reading_topic(item["sensor"], self.root), payload, qos=1)
            )
        published = 0
        for info in infos:
            with contextlib.suppress(RuntimeError, ValueError):  # not queued: not published
                info.wait_for_publish(self.publish_timeout)
            if info.is_published():
                published += 1
        self.stats.readings += published
        self.stats.rejected += len(infos) - published
        if published < len(infos):
            logger.warning("simulator: %d reading(s) not acknowledged", len(infos) - published)
        return published

    # --- the loop ---------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    def run(
        self,
        *,
        interval: float = 10.0,
        steps: int | None = None,
        seconds: float | None = None,
    ) -> SimulatorStats:
        """Step every `interval` seconds (of the clock) until stopped. Simulated time never runs
        ahead of the clock: when it would, the loop waits."""
        deadline = None if seconds is None else time.monotonic() + seconds
        try:
            if self.mqtt and self._client is None and not self.connect():
                logger.warning("simulator: not subscribed to the command topics yet")
            while not self._stop.is_set():
                if steps is not None and self.stats.steps >= steps:
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    break
                began = time.monotonic()
                ahead = (self.clock - timezone.now()).total_seconds()
                if ahead > 1.0:
                    self._stop.wait(min(ahead, interval))
                    continue
                close_old_connections()
                try:
                    self.step()
                except Exception:
                    # The database went away, or a bug: log, wait, try again.
                    logger.exception("simulator step failed")
                    close_old_connections()
                pause = interval - (time.monotonic() - began)
                if deadline is not None:
                    pause = min(pause, deadline - time.monotonic())
                if pause > 0:
                    self._stop.wait(pause)
        finally:
            self.disconnect()
            connection.close()
        return self.stats


def accelerated_start(
    step_seconds: float, interval: float, steps: int, now: dt.datetime | None = None
) -> dt.datetime:
    """Where simulated time starts so that `steps` steps of `step_seconds` end at about `now`
    (accelerated runs: the readings are in the past, never refused as future)."""
    now = now or timezone.now()
    return now - dt.timedelta(seconds=max(step_seconds - interval, 0.0) * max(steps, 0))
