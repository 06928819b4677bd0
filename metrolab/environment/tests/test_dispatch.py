"""Commands on the wire (R6.11e): published to a real Mosquitto on the actuator's command topic
(QoS 1, the documented JSON), written to a real pymodbus server (a coil, a set-point register in
every type and word order), and a delivery that fails (broker or device down) is recorded as
failed without raising, then re-delivered by the watch loop once the broker is back."""

from __future__ import annotations

import datetime as dt
import json
import queue
import struct
from decimal import Decimal

import paho.mqtt.client as mqtt
import pytest
from django.utils import timezone
from pymodbus.client import ModbusTcpClient

from metrolab.core.permissions import SYSTEM
from metrolab.environment import control, dispatch
from metrolab.environment.dispatch import ActuatorMap
from metrolab.environment.modbus import RegisterMap, RegisterMapError
from metrolab.environment.models import Actuator, Command
from metrolab.environment.tests.mqtt_fixtures import (
    GATEWAY,
    INGESTER,
    free_port,
    mqtt_broker,  # noqa: F401 - a fixture
)
from metrolab.environment.tests.test_modbus import ModbusServer

pytestmark = pytest.mark.django_db


def command_acl(root: str) -> str:
    """What regulation adds to the broker's ACL (docs/environment-protocols.md, "Commands to
    actuators"): MetroLab's account writes the command topics, the devices (here the gateway
    that the simulator signs in as) read them."""
    return (
        f"\nuser {INGESTER[0]}\ntopic write {root}/cmd/#\n"
        f"\nuser {GATEWAY[0]}\ntopic read {root}/cmd/#\n"
    )


@pytest.fixture
def command_broker(mqtt_broker, settings):  # noqa: F811
    """The test broker with the command topics in its ACL, MetroLab's settings pointing at it."""
    acl = mqtt_broker.directory / "acl"
    if mqtt_broker.auth and f"{mqtt_broker.root}/cmd/" not in acl.read_text():
        acl.write_text(acl.read_text() + command_acl(mqtt_broker.root))
        mqtt_broker.stop()
        mqtt_broker.start()
    mqtt_broker.configure(settings)
    settings.METROLAB_MQTT_COMMAND_TIMEOUT = 10
    return mqtt_broker


class Listener:
    """A device subscribed to the command topics (signed in as the gateway)."""

    def __init__(self, broker):
        self.messages: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.subscribed = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="")
        username, password = broker.credentials(GATEWAY)
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"{broker.root}/cmd/+", 1)
        self.client.on_subscribe = lambda c, u, mid, codes, p: self.subscribed.put(codes)
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, json.loads(m.payload)))
        self.client.connect(broker.host, broker.port, keepalive=30)
        self.client.loop_start()
        codes = self.subscribed.get(timeout=30)
        assert not any(code.is_failure for code in codes), codes

    def next(self, timeout: float = 30.0) -> tuple[str, dict]:
        return self.messages.get(timeout=timeout)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def listener(command_broker):
    device = Listener(command_broker)
    try:
        yield device
    finally:
        device.close()


@pytest.fixture
def mqtt_hvac(room):
    return Actuator.objects.create(
        code="AC-MQ",
        name="Air conditioner",
        room=room,
        kind=Actuator.Kind.HVAC,
        protocol=Actuator.Protocol.MQTT,
        setpoint_min=Decimal("16"),
        setpoint_max=Decimal("30"),
        unit="℃",
    )


def send(actuator, capture, **kwargs) -> Command:
    kwargs.setdefault("reason", "test")
    kwargs.setdefault("actor", SYSTEM)
    with capture(execute=True):
        command = control.command_send(actuator, **kwargs)
    command.refresh_from_db()
    return command


# --- MQTT -------------------------------------------------------------------------------------


def test_a_command_is_published_on_the_actuator_topic(
    mqtt_hvac, listener, command_broker, cast, django_capture_on_commit_callbacks
):
    command = send(
        mqtt_hvac,
        django_capture_on_commit_callbacks,
        action="set",
        value="21.5",
        reason="Calibration at 21.5 ℃",
        actor=cast["equipment_manager"],
    )
    topic, payload = listener.next()
    assert topic == f"{command_broker.root}/cmd/AC-MQ"
    assert payload == {
        "command": command.pk,
        "action": "set",
        "value": 21.5,
        "reason": "Calibration at 21.5 ℃",
        "time": command.issued_at.isoformat(),
    }
    assert (command.status, command.error) == ("sent", "")
    assert command.sent_at is not None


def test_a_broker_that_is_down_fails_the_command_and_it_is_sent_again_later(
    mqtt_hvac, command_broker, django_capture_on_commit_callbacks
):
    command_broker.stop()
    command = send(mqtt_hvac, django_capture_on_commit_callbacks, action="on")
    assert command.status == "failed"
    assert "unreachable" in command.error
    assert mqtt_hvac.__class__.objects.get(pk=mqtt_hvac.pk).on is True  # the commanded state
    # Not yet due for a retry.
    assert control.redeliver_failed(timezone.now()) == []
    command_broker.start()
    device = Listener(command_broker)
    try:
        later = timezone.now() + dt.timedelta(seconds=control.retry_seconds() + 1)
        [retried] = control.redeliver_failed(later)
        assert (retried.pk, retried.status, retried.error) == (command.pk, "sent", "")
        _topic, payload = device.next()
        assert (payload["command"], payload["action"]) == (command.pk, "on")
    finally:
        device.close()


def test_delivery_never_raises(mqtt_hvac, settings, room):
    settings.METROLAB_MQTT_HOST = "127.0.0.1"
    settings.METROLAB_MQTT_PORT = free_port()
    command = control.command_send(mqtt_hvac, action="off", reason="test", actor=SYSTEM)
    assert dispatch.deliver(command)[0] is False
    settings.METROLAB_MQTT_PORT = 70000  # not a port at all
    ok, error = dispatch.deliver(command)
    assert not ok and error
    command.actuator.protocol = "carrier-pigeon"
    assert dispatch.deliver(command) == (False, "unknown protocol 'carrier-pigeon'")


def test_a_simulated_actuator_needs_no_delivery(room, django_capture_on_commit_callbacks):
    fan = Actuator.objects.create(
        code="FAN-S", name="Fan", room=room, kind="ventilation", protocol="simulated"
    )
    command = send(fan, django_capture_on_commit_callbacks, action="on")
    assert command.status == "sent"


# --- Modbus TCP -------------------------------------------------------------------------------


@pytest.fixture
def modbus_server():
    server = ModbusServer(free_port()).start()
    try:
        yield server
    finally:
        server.stop()


def read_back(port: int, register: int, count: int) -> tuple[list[int], list[bool]]:
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=10)
    try:
        assert client.connect()
        registers = client.read_holding_registers(register, count=count, device_id=1).registers
        coils = client.read_coils(0, count=8, device_id=1).bits[:8]
        return registers, coils
    finally:
        client.close()


def words(fmt: str, value) -> list[int]:
    raw = struct.pack(">" + fmt, value)
    return list(struct.unpack(">" + "H" * (len(raw) // 2), raw))


@pytest.mark.django_db(transaction=True)
def test_modbus_coil_and_setpoint_register_are_written(room, modbus_server):
    address = f"127.0.0.1:{modbus_server.port}"
    hvac = Actuator.objects.create(
        code="AC-MB",
        name="Air conditioner",
        room=room,
        kind="hvac",
        protocol="modbus",
        address=address,
        register_map={"unit": 1, "coil": 3, "register": 12, "type": "int16", "scale": 0.1},
        setpoint_min=Decimal("10"),
        setpoint_max=Decimal("35"),
    )
    command = control.command_send(hvac, action="set", value="22.5", reason="test", actor=SYSTEM)
    command.refresh_from_db()
    assert (command.status, command.error) == ("sent", "")
    registers, coils = read_back(modbus_server.port, 12, 1)
    assert registers == words("h", 225)
    assert coils[3] is True  # a set-point also switches it on
    off = control.command_send(hvac, action="off", reason="test", actor=SYSTEM)
    off.refresh_from_db()
    assert off.status == "sent"
    assert read_back(modbus_server.port, 12, 1)[1][3] is False

    dryer = Actuator.objects.create(
        code="DH-MB",
        name="Dehumidifier",
        room=room,
        kind="dehumidifier",
        protocol="modbus",
        address=address,
        register_map={"coil": 5},
    )
    control.command_send(dryer, action="on", reason="test", actor=SYSTEM)
    assert read_back(modbus_server.port, 0, 1)[1][5] is True
    assert Command.objects.filter(status="sent").count() == 3


@pytest.mark.django_db(transaction=True)
def test_float_setpoint_little_word_order(room, modbus_server):
    hvac = Actuator.objects.create(
        code="AC-F",
        name="Air conditioner",
        room=room,
        kind="hvac",
        protocol="modbus",
        address=f"127.0.0.1:{modbus_server.port}",
        register_map={"register": 6, "type": "float32", "word_order": "little"},
    )
    control.command_send(hvac, action="set", value="19.75", reason="test", actor=SYSTEM)
    registers, _ = read_back(modbus_server.port, 6, 2)
    assert registers == list(reversed(words("f", 19.75)))
    # No coil in the map: on / off cannot be delivered, and say so.
    off = control.command_send(hvac, action="off", reason="test", actor=SYSTEM)
    off.refresh_from_db()
    assert off.status == "failed"
    assert off.error == "configuration: the register map has no 'coil' for on / off"


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_modbus_device_fails_the_command(room):
    fan = Actuator.objects.create(
        code="FAN-MB",
        name="Fan",
        room=room,
        kind="ventilation",
        protocol="modbus",
        address=f"127.0.0.1:{free_port()}",
        register_map={"coil": 0},
    )
    command = control.command_send(fan, action="on", reason="test", actor=SYSTEM)
    command.refresh_from_db()
    assert command.status == "failed"
    assert "unreachable" in command.error


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        ({"register": 0, "type": "int16", "scale": 0.1}, -12.3),
        ({"register": 0, "type": "uint16", "scale": 0.01, "offset": 2.5}, 652.5),
        ({"register": 0, "type": "int32", "scale": 0.001}, -123.456),
        ({"register": 0, "type": "uint32", "word_order": "little"}, 100_000),
        ({"register": 0, "type": "float32"}, 21.25),
        ({"register": 0, "type": "float32", "word_order": "little"}, -0.5),
    ],
)
def test_encode_is_the_inverse_of_the_sensors_decode(spec, value):
    registers = ActuatorMap.parse(spec).encode(value)
    assert RegisterMap.parse(spec).decode(registers) == pytest.approx(value, abs=1e-9)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"coil": -1}, "'coil' must be an integer from 0 to 65535"),
        ({"register": 1, "type": "float64"}, "'type' must be one of"),
        ({"register": 1, "scale": 0}, "'scale' must not be 0"),
        ({"register": 1, "colour": "red"}, "unknown keys: colour"),
        ({"register": 65535, "type": "float32"}, "cannot start at register 65535"),
    ],
)
def test_unusable_actuator_maps_are_refused(spec, problem):
    with pytest.raises(RegisterMapError, match=problem):
        ActuatorMap.parse(spec)


def test_a_setpoint_that_does_not_fit_its_register_is_refused():
    with pytest.raises(RegisterMapError, match="does not fit a int16 register"):
        ActuatorMap.parse({"register": 0, "scale": 0.001}).encode(40.0)
