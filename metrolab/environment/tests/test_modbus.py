"""Modbus TCP polling against a real pymodbus server (issue 6, R6.11a): the register types are
decoded, scaled and stored; a device that does not answer is logged and retried, and never
stops the others."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from metrolab.environment.modbus import ModbusPoller, RegisterMap, RegisterMapError, parse_address
from metrolab.environment.models import IngestCounter, Reading
from metrolab.environment.tests.mqtt_fixtures import free_port, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def words(fmt: str, value) -> list[int]:
    """The 16-bit registers of a value packed big-endian (the Modbus convention)."""
    raw = struct.pack(">" + fmt, value)
    return list(struct.unpack(">" + "H" * (len(raw) // 2), raw))


# Known register contents, encoded here independently of the code under test.
HOLDING = [0] * 16
HOLDING[0:1] = words("h", 215)  # 21.5 ℃ as int16 × 0.1
HOLDING[1:2] = words("h", -50)  # -5.0 ℃ as int16 × 0.1
HOLDING[2:4] = words("f", 45.25)  # 45.25 %RH as float32, high word first
INPUT = [0] * 16
INPUT[4:6] = list(reversed(words("f", 101.25)))  # 101.25 kPa, float32, low word first
INPUT[6:8] = words("I", 100_000)  # 1000.00 lx as uint32 × 0.01
INPUT[8:10] = words("i", -123_456)  # -123.456 as int32 × 0.001
INPUT[10:11] = words("H", 65_000)  # 650.0 + 2.5 as uint16 × 0.01 + offset 2.5


class ModbusServer:
    """A pymodbus TCP server (unit 1) on 127.0.0.1:`port`, run by an event loop in a thread."""

    def __init__(self, port: int):
        self.port = port
        self.device = SimDevice(
            id=1,
            simdata=(
                [SimData(0, count=16, values=False, datatype=DataType.BITS)],
                [SimData(0, count=16, values=False, datatype=DataType.BITS)],
                [SimData(0, values=HOLDING, datatype=DataType.REGISTERS)],
                [SimData(0, values=INPUT, datatype=DataType.REGISTERS)],
            ),
        )
        self.loop = asyncio.new_event_loop()
        self.server: ModbusTcpServer | None = None
        self.thread = threading.Thread(target=self._run, name="modbus-server", daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)

        async def serve():
            self.server = ModbusTcpServer(self.device, address=("127.0.0.1", self.port))
            await self.server.serve_forever()

        self.loop.run_until_complete(serve())

    def start(self) -> ModbusServer:
        self.thread.start()

        def listening():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                return False

        wait_for(listening)
        return self

    def stop(self):
        if self.server is not None and self.thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop).result(30)
        self.thread.join(30)


@pytest.fixture
def modbus_server():
    server = ModbusServer(free_port()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def modbus_sensors(room, make_sensor, modbus_server):
    address = f"127.0.0.1:{modbus_server.port}"

    def sensor(code, register_map, quantity="temperature", unit="℃"):
        return make_sensor(
            code,
            room,
            quantity=quantity,
            unit=unit,
            protocol="modbus",
            address=address,
            register_map=register_map,
        )

    return [
        sensor("MB-T1", {"unit": 1, "register": 0, "type": "int16", "scale": 0.1}),
        sensor("MB-T2", {"register": 1, "type": "int16", "scale": 0.1, "function": "holding"}),
        sensor("MB-RH", {"register": 2, "type": "float32"}, "humidity", "%RH"),
        sensor(
            "MB-P",
            {"register": 4, "type": "float32", "function": "input", "word_order": "little"},
            "pressure",
            "kPa",
        ),
        sensor(
            "MB-LX",
            {"register": 6, "type": "uint32", "scale": 0.01, "function": "input"},
            "illumination",
            "lx",
        ),
        sensor("MB-I32", {"register": 8, "type": "int32", "scale": 0.001, "function": "input"}),
        sensor(
            "MB-U16",
            {"register": 10, "type": "uint16", "scale": 0.01, "offset": 2.5, "function": "input"},
        ),
    ]


EXPECTED = {
    "MB-T1": 21.5,
    "MB-T2": -5.0,
    "MB-RH": 45.25,
    "MB-P": 101.25,
    "MB-LX": 1000.0,
    "MB-I32": -123.456,
    "MB-U16": 652.5,
}


def latest_values() -> dict[str, float]:
    return dict(Reading.objects.order_by("time").values_list("sensor__code", "value"))


def test_modbus_poll_once_stores_the_decoded_values(modbus_sensors):
    out = StringIO()
    call_command("modbus_poll", once=True, timeout=10, stdout=out)
    values = latest_values()
    assert values.keys() == EXPECTED.keys()
    for code, expected in EXPECTED.items():
        assert values[code] == pytest.approx(expected, abs=1e-9), code
    assert "7 value(s) read, 7 stored, 0 rejected, 0 sensor(s) not read" in out.getvalue()
    counter = IngestCounter.objects.get(channel="modbus", device__isnull=True)
    assert (counter.accepted, counter.rejected) == (7, 0)


def test_an_unreachable_device_is_logged_and_the_others_are_still_polled(
    modbus_sensors, room, make_sensor, caplog
):
    dead_port = free_port()  # nothing listens there
    make_sensor(
        "MB-DEAD",
        room,
        protocol="modbus",
        address=f"127.0.0.1:{dead_port}",
        register_map={"register": 0},
    )
    make_sensor(
        "MB-BADMAP",
        room,
        protocol="modbus",
        address="127.0.0.1:1",
        register_map={"register": 0, "type": "float64"},
    )
    make_sensor(  # a unit the server does not have: a Modbus exception answer
        "MB-NOUNIT",
        room,
        protocol="modbus",
        address=modbus_sensors[0].address,
        register_map={"register": 0, "unit": 9},
    )
    out = StringIO()
    with caplog.at_level(logging.WARNING, logger="metrolab.environment.modbus"):
        call_command("modbus_poll", once=True, timeout=5, stdout=out)
    assert latest_values().keys() == EXPECTED.keys()
    messages = " | ".join(r.getMessage() for r in caplog.records)
    assert f"MB-DEAD: 127.0.0.1:{dead_port} unreachable" in messages
    assert "MB-BADMAP: configuration: 'type' must be one of" in messages
    assert "MB-NOUNIT: device answered" in messages
    assert "3 sensor(s) not read" in out.getvalue()


def test_the_poller_retries_a_device_until_it_answers(room, make_sensor):
    """The long-running loop: a device that is down at first is read once it comes up."""
    port = free_port()
    make_sensor(
        "MB-LATE",
        room,
        protocol="modbus",
        address=f"127.0.0.1:{port}",
        register_map={"register": 0, "type": "int16", "scale": 0.1},
    )
    poller = ModbusPoller(interval=0.2, timeout=2)
    thread = threading.Thread(target=poller.run, name="modbus-poller", daemon=True)
    thread.start()
    server = None
    try:
        time.sleep(0.5)  # a few failed rounds first
        assert not Reading.objects.exists()
        server = ModbusServer(port).start()
        wait_for(lambda: Reading.objects.filter(sensor__code="MB-LATE").count() >= 2)
        assert set(Reading.objects.values_list("value", flat=True)) == {21.5}
    finally:
        poller.stop()
        thread.join(30)
        if server is not None:
            server.stop()
    assert not thread.is_alive()


@pytest.mark.django_db(transaction=False)
def test_register_maps_are_checked():
    assert RegisterMap.parse({"register": 3}) == RegisterMap(register=3)
    assert RegisterMap.parse({"register": 3, "type": "float32"}).count == 2
    for raw, problem in [
        ({}, "'register' is missing"),
        ({"register": -1}, "'register' must be an integer"),
        ({"register": 1.5}, "'register' must be an integer"),
        ({"register": 1, "unit": 300}, "'unit' must be an integer"),
        ({"register": 1, "type": "double"}, "'type' must be one of"),
        ({"register": 1, "function": "coil"}, "'function' must be"),
        ({"register": 1, "word_order": "middle"}, "'word_order' must be"),
        ({"register": 1, "scale": "0.1"}, "'scale' must be a number"),
        ({"register": 1, "scale": float("nan")}, "'scale' must be finite"),
        ({"register": 1, "scale": 0}, "'scale' must not be 0"),
        ({"register": 1, "colour": "red"}, "unknown keys: colour"),
        ({"register": 65535, "type": "uint32"}, "cannot start at register 65535"),
        ([1, 2], "must be an object"),
    ]:
        with pytest.raises(RegisterMapError, match=problem.replace("(", r"\(")):
            RegisterMap.parse(raw)
    assert parse_address("10.0.0.5:5020") == ("10.0.0.5", 5020)
    assert parse_address("plc-1") == ("plc-1", 502)
    assert parse_address("[::1]:1502") == ("::1", 1502)
    for bad in ("", ":502", "host:port", "host:70000"):
        with pytest.raises(ValueError, match="host:port"):
            parse_address(bad)
