"""The closed loop of issue 6 (R6.11e), end to end over a real Mosquitto: the simulated room
publishes its temperature like a real sensor, the MQTT ingester stores it, a heat load pushes it
above the requirement, the control rule commands the air conditioner on its MQTT command topic,
the simulated room's air conditioner obeys, and the room comes back within the requirement.

Simulated time runs 600 × faster than the clock (a minute per 0.1 s step), starting in the past,
so the whole story is about 10 s of wall time."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from metrolab.environment import control, ingest
from metrolab.environment.models import Actuator, Command, ControlRule, Reading
from metrolab.environment.mqtt import BrokerConfig
from metrolab.environment.simulator import Simulator, accelerated_start
from metrolab.environment.tests.mqtt_fixtures import (
    GATEWAY,
    mqtt_broker,  # noqa: F401 - a fixture
    run_ingester,  # noqa: F401 - a fixture
    wait_for,
)
from metrolab.environment.tests.test_dispatch import command_broker  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)

STEP = 60.0  # simulated seconds per step
INTERVAL = 0.1  # wall seconds between steps
STEPS = 150  # at most 2.5 simulated hours, 15 s of wall time
HIGH = 25.0  # the room's requirement: 15–25 ℃ (conftest)


@pytest.fixture
def listeners(monkeypatch):
    """The listeners apps.py registers: alarms first (when present), then the rules."""
    registered = []
    try:
        from metrolab.environment import alarms

        registered.append(alarms.on_readings)
    except ImportError:  # pragma: no cover - the alarms slice not installed
        pass
    registered.append(control.on_readings)
    monkeypatch.setattr(ingest, "ingest_listeners", registered)
    return registered


@pytest.fixture
def hot_room(room, make_sensor):
    """The temperature lab on a hot day, with a heat load (the disturbance): without its air
    conditioner it climbs from 23 ℃ past 25 ℃ in about 15 minutes."""
    room.simulation = {
        "ambient": 30,
        "temperature": 23,
        "load": 0,
        "heat_load": 6,
        "leak_hours": 6,
        "hvac_hours": 0.25,
        "jitter": 0.5,
        "seed": 1,
    }
    room.save()
    make_sensor("SIM-T1", room, protocol="simulated", period_seconds=60)
    hvac = Actuator.objects.create(
        code="TL1-AC",
        name="Air conditioner",
        room=room,
        kind=Actuator.Kind.HVAC,
        protocol=Actuator.Protocol.MQTT,
        setpoint_min=Decimal("16"),
        setpoint_max=Decimal("30"),
        unit="℃",
    )
    rule = ControlRule.objects.create(
        room=room,
        quantity="temperature",
        actuator=hvac,
        mode=ControlRule.Mode.SETPOINT,
        low=Decimal("18"),
        high=Decimal("25"),
        setpoint=Decimal("20"),
    )
    return room, hvac, rule


def test_a_rule_brings_the_room_back_within_its_requirement(
    hot_room,
    command_broker,  # noqa: F811 - the imported fixture
    run_ingester,  # noqa: F811 - the imported fixture
    listeners,
    settings,
):
    settings.LANGUAGE_CODE = "en"  # rule reasons are written in the lab's language
    room, hvac, rule = hot_room
    run_ingester()
    username, password = command_broker.credentials(GATEWAY)
    simulator = Simulator(
        [room.code],
        step_seconds=STEP,
        start=accelerated_start(STEP, INTERVAL, STEPS),
        mqtt=True,
        config=BrokerConfig(
            host=command_broker.host,
            port=command_broker.port,
            username=username,
            password=password,
        ),
        root=command_broker.root,
    )
    assert simulator.connect(), "the simulator did not subscribe to the command topics"

    def simulate():
        try:
            simulator.run(interval=INTERVAL, steps=STEPS)
        finally:
            connection.close()

    thread = threading.Thread(target=simulate, name="simulator", daemon=True)
    thread.start()
    try:

        def settled():
            command = Command.objects.filter(rule=rule).first()
            if command is None or command.status != "sent":
                return False
            outside = Reading.objects.filter(sensor__code="SIM-T1", value__gt=HIGH)
            last_outside = outside.order_by("-time").first()
            if last_outside is None:
                return False
            # Five minutes of simulated readings within the requirement after the excursion.
            return (
                Reading.objects.filter(
                    sensor__code="SIM-T1", time__gt=last_outside.time, value__lte=HIGH
                ).count()
                >= 5
            )

        wait_for(settled, timeout=60)
    finally:
        simulator.stop()
        thread.join(30)

    readings = list(
        Reading.objects.filter(sensor__code="SIM-T1").order_by("time").values_list("time", "value")
    )
    # 1. The temperature was pushed above the requirement.
    first_outside = next(at for at, value in readings if value > HIGH)
    # 2. The rule commanded the air conditioner once, over MQTT, and it was sent.
    [command] = Command.objects.filter(actuator=hvac)
    assert (command.source, command.rule, command.action) == ("rule", rule, "set")
    assert command.value == Decimal("20") and command.status == "sent"
    assert command.reason.startswith(f"rule {rule.pk}: ")
    assert simulator.stats.commands == 1  # the simulated air conditioner received it
    hvac.refresh_from_db()
    assert (hvac.on, hvac.setpoint) == (True, Decimal("20"))
    # 3. The room came back within the requirement and stayed there.
    last_outside = max(at for at, value in readings if value > HIGH)
    assert last_outside >= first_outside
    after = [value for at, value in readings if at > last_outside]
    assert len(after) >= 5 and all(15 <= value <= HIGH for value in after)
    assert max(value for _, value in readings) < HIGH + 2  # the rule caught it early
    # The excursion lasted minutes of simulated time, not the whole run.
    assert last_outside - first_outside < dt.timedelta(minutes=30)
    assert readings[-1][0] <= timezone.now()
