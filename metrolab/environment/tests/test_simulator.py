"""The simulated room (R6.11e): the model's physics is sane (the air conditioner pulls the room to
its set-point, without it the room drifts to its surroundings; dehumidifier, humidifier, lights
and ventilation act), it is stable and reproducible, and the simulator reports like a sensor
(through the ingester, at simulated times that never run into the future)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone

from metrolab.environment import ingest
from metrolab.environment.models import Actuator, IngestCounter, Reading
from metrolab.environment.simulator import (
    ActuatorState,
    RoomModel,
    Simulator,
    accelerated_start,
    clean_parameters,
)

QUIET = {"jitter": 0}


def run(model, hours, actuators=(), step=60.0):
    values = {}
    for _ in range(int(hours * 3600 / step)):
        values = model.step(step, actuators)
    return values


# --- the model --------------------------------------------------------------------------------


def test_the_air_conditioner_pulls_the_room_to_its_setpoint():
    model = RoomModel({**QUIET, "ambient": 30, "temperature": 27, "load": 0})
    hvac = {"hvac": {"on": True, "setpoint": 20}}
    temperatures = [run(model, 0.25, hvac)["temperature"] for _ in range(8)]
    assert temperatures == sorted(temperatures, reverse=True)  # cooling, monotonically
    # Equilibrium of the walls (6 h to 30 ℃) against the unit (0.25 h to 20 ℃): 20.4 ℃.
    expected = (30 / 6 + 20 / 0.25) / (1 / 6 + 1 / 0.25)
    assert temperatures[-1] == pytest.approx(expected, abs=0.05)


def test_without_the_air_conditioner_the_room_drifts_to_its_surroundings():
    model = RoomModel({**QUIET, "ambient": 30, "temperature": 20, "load": 0})
    after_one_leak_time = run(model, 6)["temperature"]
    # First order: 1 − e⁻¹ of the way after one time constant.
    assert after_one_leak_time == pytest.approx(30 - 10 * 0.36788, abs=0.01)
    assert run(model, 48)["temperature"] == pytest.approx(30, abs=0.01)


def test_a_heat_load_pushes_the_room_up_and_the_setpoint_holds_it():
    model = RoomModel({**QUIET, "ambient": 24, "temperature": 21, "load": 0})
    model.heat_load = 6.0  # ℃/h
    hot = run(model, 2)["temperature"]
    assert hot > 25
    held = run(model, 2, {"hvac": {"on": True, "setpoint": 20}})["temperature"]
    assert 20 < held < 22


def test_one_large_step_equals_many_small_ones_and_is_stable():
    a = RoomModel({**QUIET, "hvac_hours": 0.01})
    b = RoomModel({**QUIET, "hvac_hours": 0.01})
    hvac = [ActuatorState("hvac", True, 18.0)]
    big = a.step(3600, hvac)
    small = run(b, 1, hvac, step=30)
    assert big["temperature"] == pytest.approx(small["temperature"], abs=1e-9)
    assert 18 <= big["temperature"] <= 20


def test_humidity_follows_the_building_and_the_dryers():
    params = {**QUIET, "humidity": 50, "outside_humidity": 70}
    assert run(RoomModel(params), 24)["humidity"] == pytest.approx(70, abs=0.1)
    dried = run(RoomModel(params), 24, {"dehumidifier": {"on": True}})["humidity"]
    # Towards 35 %RH (1 h) against 70 %RH (3 h): 43.75 %RH.
    assert dried == pytest.approx((70 / 3 + 35 / 1) / (1 / 3 + 1), abs=0.1)
    wetted = RoomModel({**QUIET, "humidity": 30, "outside_humidity": 30})
    assert run(wetted, 24, {"humidifier": {"on": True}})["humidity"] > 45
    # The air conditioner dries the air a little.
    cooled = run(RoomModel(params), 24, {"hvac": {"on": True, "setpoint": 20}})
    assert cooled["humidity"] == pytest.approx(65, abs=0.1)


def test_lights_ventilation_and_the_constant_quantities():
    model = RoomModel(QUIET)
    assert model.step(60)["illumination"] == 500  # no lights actuator: lit
    off = model.step(60, {"lights": {"on": False}, "ventilation": {"on": False}})
    on = model.step(60, {"lights": {"on": True}, "ventilation": {"on": True}})
    assert (off["illumination"], on["illumination"]) == (5, 500)
    assert (off["air_speed"], on["air_speed"]) == (0.1, 0.4)
    assert on["pressure"] == 101.3 and on["voltage"] == 220 and on["frequency"] == 50


def test_noise_is_small_seeded_and_reproducible():
    a, b, c = RoomModel(), RoomModel(), RoomModel({"seed": 7})
    first = [a.step(60)["temperature"] for _ in range(50)]
    assert first == [b.step(60)["temperature"] for _ in range(50)]
    assert first != [c.step(60)["temperature"] for _ in range(50)]
    quiet = RoomModel(QUIET)
    exact = [quiet.step(60)["temperature"] for _ in range(50)]
    assert max(abs(x - y) for x, y in zip(first, exact, strict=True)) < 0.1


def test_the_daily_swing_needs_a_time():
    model = RoomModel({**QUIET, "ambient_swing": 3, "leak_hours": 0.01, "load": 0})
    moment = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)  # 15:00 in Asia/Shanghai
    warm = model.step(3600, (), moment)["temperature"]
    cool = model.step(3600, (), moment + dt.timedelta(hours=12))["temperature"]
    if timezone.get_current_timezone_name() == "Asia/Shanghai":
        assert warm == pytest.approx(27, abs=0.01)
        assert cool == pytest.approx(21, abs=0.01)
    assert warm != cool
    assert model.step(3600)["temperature"] == pytest.approx(24, abs=0.01)  # no time: no swing


def test_parameters_have_defaults_and_bad_ones_are_ignored():
    params = clean_parameters(
        {"outside": 31, "humidity": 44, "leak_hours": "slow", "jitter": True, "whatever": 1}
    )
    assert params["ambient"] == 31
    assert params["humidity"] == params["outside_humidity"] == 44
    assert params["leak_hours"] == 6.0 and params["jitter"] == 1.0
    assert "whatever" not in params
    assert clean_parameters(None)["temperature"] == 20.0


# --- the simulator ----------------------------------------------------------------------------


@pytest.fixture
def simulated_room(room, make_sensor):
    room.simulation = {"jitter": 0, "ambient": 30, "temperature": 24, "load": 0}
    room.save()
    make_sensor("SIM-T", room, protocol="simulated", period_seconds=60, correction=Decimal("0.5"))
    make_sensor(
        "SIM-H", room, quantity="humidity", unit="%RH", protocol="simulated", period_seconds=60
    )
    make_sensor("MQ-T", room)  # a real sensor of the same room: not simulated
    hvac = Actuator.objects.create(
        code="SIM-AC", name="AC", room=room, kind="hvac", protocol="simulated"
    )
    return room, hvac


@pytest.fixture(autouse=True)
def no_listeners(monkeypatch):
    monkeypatch.setattr(ingest, "ingest_listeners", [])


@pytest.mark.django_db
def test_the_simulator_reports_through_the_ingester_at_simulated_times(simulated_room):
    room, _hvac = simulated_room
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    simulator = Simulator(step_seconds=60, start=start)
    for _ in range(3):
        assert simulator.step() == 2
    rows = list(
        Reading.objects.order_by("time", "sensor__code").values_list("sensor__code", "time")
    )
    assert rows == [
        (code, start + dt.timedelta(minutes=minute))
        for minute in range(3)
        for code in ("SIM-H", "SIM-T")
    ]
    counter = IngestCounter.objects.get(channel="simulated")
    assert (counter.accepted, counter.rejected) == (6, 0)
    # The sensor reports its raw value: the room's value minus its correction, at the
    # resolution of a temperature transmitter (0.01 ℃).
    model = RoomModel(room.simulation)
    expected = [model.step(60)["temperature"] for _ in range(3)][-1]
    latest = Reading.objects.filter(sensor__code="SIM-T").latest("time").value
    assert latest == round(expected - 0.5, 2)


@pytest.mark.django_db
def test_the_simulator_follows_the_actuators_in_the_database(simulated_room):
    _room, hvac = simulated_room
    start = timezone.now() - dt.timedelta(hours=5)
    simulator = Simulator(step_seconds=1800, start=start)
    for _ in range(4):
        simulator.step()
    # Two hours towards 30 ℃ through the walls (6 h): 24 + 6 (1 − e^(−1/3)) = 25.7 ℃.
    assert simulator.models["TL-1"].temperature == pytest.approx(25.70, abs=0.01)
    hvac.on, hvac.setpoint = True, Decimal("20")
    hvac.save()
    for _ in range(4):
        simulator.step()
    assert simulator.models["TL-1"].temperature == pytest.approx(20.4, abs=0.05)


def test_commands_received_over_mqtt_drive_the_mqtt_actuators():
    simulator = Simulator(mqtt=True, root="metrolab/test")
    actuator = SimpleNamespace(code="AC-9", kind="hvac", on=False, setpoint=None, protocol="mqtt")
    assert simulator._state(actuator) == ActuatorState("hvac", False, None)

    def receive(payload, topic="metrolab/test/cmd/AC-9"):
        simulator._on_message(None, None, SimpleNamespace(topic=topic, payload=payload))

    receive(json.dumps({"command": 1, "action": "set", "value": 21.5, "reason": "r"}))
    assert simulator._state(actuator) == ActuatorState("hvac", True, 21.5)
    receive(b"not json")
    receive(json.dumps({"action": "set"}))  # no value: ignored
    receive(json.dumps({"action": "off", "value": None}))
    assert simulator._state(actuator) == ActuatorState("hvac", False, 21.5)
    assert simulator.stats.commands == 2
    # A simulated actuator is read from the database, not from commands.
    simulated = SimpleNamespace(**{**vars(actuator), "protocol": "simulated", "on": True})
    assert simulator._state(simulated).on is True


def test_accelerated_time_ends_at_the_clock():
    now = timezone.now()
    assert accelerated_start(60, 0.1, 100, now) == now - dt.timedelta(seconds=5990)
    assert accelerated_start(10, 10, 100, now) == now


@pytest.mark.django_db(transaction=True)
def test_the_command_steps_once_or_for_a_while(simulated_room):
    out = StringIO()
    call_command("environment_simulate", once=True, stdout=out)
    assert Reading.objects.count() == 2
    assert "1 step(s), 2 reading(s) reported, 0 refused" in out.getvalue()
    out = StringIO()
    call_command(
        "environment_simulate",
        interval=0.1,
        step_seconds=60,
        seconds=1.0,
        room=["TL-1"],
        stdout=out,
    )
    times = sorted(Reading.objects.filter(sensor__code="SIM-T").values_list("time", flat=True))
    assert len(times) >= 4
    assert times[-1] <= timezone.now()
    assert times[-2] - times[-3] == dt.timedelta(seconds=60)
    assert IngestCounter.objects.get(channel="simulated").rejected == 0
    out = StringIO()
    call_command("environment_simulate", once=True, room=["NOPE"], stdout=out)
    assert "No active room has active simulated sensors." in out.getvalue()
