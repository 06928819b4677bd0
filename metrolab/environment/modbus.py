"""Modbus TCP polling of environment sensors (R6.11a, issue 6): `metrolab modbus_poll`.

Every active sensor with protocol `modbus` has an `address` "host:port" (port 502 when left
out) and a `register_map` (documented in `docs/environment-protocols.md`):

    {"unit": 1, "register": 0, "type": "int16", "scale": 0.1, "offset": 0,
     "function": "input", "word_order": "big"}

The poller reads each sensor every `period_seconds` (or every `--interval`), decodes the
registers (int16, uint16: one register; int32, uint32, float32: two, high word first unless
`word_order` is "little"), computes `raw × scale + offset` and stores it through
`ingest_readings(..., channel="modbus")`, one call per poll round and device. A device that
does not answer, or answers with a Modbus exception, is logged and tried again at the next
period; it never stops the poller or the other devices.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

logger = logging.getLogger(__name__)

DEFAULT_PORT = 502
TYPES = {
    "int16": ModbusTcpClient.DATATYPE.INT16,
    "uint16": ModbusTcpClient.DATATYPE.UINT16,
    "int32": ModbusTcpClient.DATATYPE.INT32,
    "uint32": ModbusTcpClient.DATATYPE.UINT32,
    "float32": ModbusTcpClient.DATATYPE.FLOAT32,
}
FUNCTIONS = ("holding", "input")
WORD_ORDERS = ("big", "little")


class RegisterMapError(ValueError):
    """A sensor's register map cannot be used (the message says why)."""


def value_format(raw: Mapping) -> tuple[str, str, dict[str, float]]:
    """The value's type, word order and scaling ({"scale", "offset"}) of a register map (a
    sensor's, read; or an actuator's set-point, written), checked."""
    kind = raw.get("type", "int16")
    if kind not in TYPES:
        raise RegisterMapError(f"'type' must be one of {', '.join(TYPES)}")
    word_order = raw.get("word_order", "big")
    if word_order not in WORD_ORDERS:
        raise RegisterMapError("'word_order' must be 'big' or 'little'")
    numbers = {}
    for name, default in (("scale", 1.0), ("offset", 0.0)):
        value = raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RegisterMapError(f"'{name}' must be a number")
        if not math.isfinite(value):
            raise RegisterMapError(f"'{name}' must be finite")
        if name == "scale" and value == 0:
            raise RegisterMapError("'scale' must not be 0")
        numbers[name] = float(value)
    return kind, word_order, numbers


def check_start(kind: str, register: int | None) -> None:
    """A two-register value must fit below register 65535."""
    if register is not None and TYPES[kind].value[1] == 2 and register == 65535:
        raise RegisterMapError("a two-register value cannot start at register 65535")


@dataclass(frozen=True)
class RegisterMap:
    """Where a sensor's value is in a Modbus device, and how to turn it into a value."""

    register: int
    unit: int = 1
    type: str = "int16"
    scale: float = 1.0
    offset: float = 0.0
    function: str = "holding"
    word_order: str = "big"

    @classmethod
    def parse(cls, raw: Mapping) -> RegisterMap:
        if not isinstance(raw, Mapping):
            raise RegisterMapError("the register map must be an object")
        unknown = (
            set(raw) - {"unit", "register", "type", "scale", "offset", "function"} - {"word_order"}
        )
        if unknown:
            raise RegisterMapError(f"unknown keys: {', '.join(sorted(unknown))}")
        if "register" not in raw:
            raise RegisterMapError("'register' is missing")
        register, unit = raw["register"], raw.get("unit", 1)
        for name, value, high in (("register", register, 65535), ("unit", unit, 255)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
                raise RegisterMapError(f"'{name}' must be an integer from 0 to {high}")
        kind, word_order, numbers = value_format(raw)
        function = raw.get("function", "holding")
        if function not in FUNCTIONS:
            raise RegisterMapError("'function' must be 'holding' or 'input'")
        check_start(kind, register)
        return cls(
            register=register,
            unit=unit,
            type=kind,
            function=function,
            word_order=word_order,
            **numbers,
        )

    @property
    def count(self) -> int:
        """Registers the value spans."""
        return TYPES[self.type].value[1]

    def decode(self, registers: list[int]) -> float:
        """`raw × scale + offset` from the registers read."""
        raw = ModbusTcpClient.convert_from_registers(
            registers[: self.count], TYPES[self.type], word_order=self.word_order
        )
        return float(raw) * self.scale + self.offset


def parse_address(address: str) -> tuple[str, int]:
    """("host", port) from "host:port" or "host" (port 502); ValueError when unusable."""
    address = (address or "").strip()
    host, sep, port = address.rpartition(":")
    if not sep:
        host, port = address, str(DEFAULT_PORT)
    host = host.strip("[]")  # [::1]:502
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"a Modbus address is host:port, not {address!r}")
    return host, int(port)


@dataclass
class PollReport:
    """One poll round: readings stored and refused, devices that did not answer."""

    read: int = 0
    stored: int = 0
    rejected: int = 0
    failures: dict[str, str] = field(default_factory=dict)  # sensor code -> why


class ModbusPoller:
    """Polls the Modbus sensors; `poll(due)` is one round, `run()` the long-running loop.
    All database work happens in the thread that calls them."""

    def __init__(self, *, interval: float | None = None, timeout: float | None = None):
        self.interval = interval
        self.timeout = (
            float(getattr(settings, "METROLAB_MODBUS_TIMEOUT", 3.0)) if timeout is None else timeout
        )
        self._stop = threading.Event()
        self._clients: dict[tuple[str, int], ModbusTcpClient] = {}
        self._failing: set[str] = set()  # sensors whose last read failed (log once per streak)

    def stop(self) -> None:
        self._stop.set()

    def sensors(self) -> list:
        from metrolab.environment.models import Sensor

        return list(
            Sensor.objects.filter(active=True, protocol=Sensor.Protocol.MODBUS)
            .select_related("device")
            .order_by("address", "code")
        )

    def poll(self, sensors=None) -> PollReport:
        """Read the sensors once and store what was read (all active Modbus sensors when
        `sensors` is None)."""
        from metrolab.environment.ingest import ingest_readings

        close_old_connections()
        report = PollReport()
        try:
            sensors = self.sensors() if sensors is None else sensors
            by_device: dict[int | None, tuple[object, list[dict]]] = {}
            for sensor in sensors:
                value = self._read(sensor, report)
                if value is None:
                    continue
                report.read += 1
                entry = by_device.setdefault(sensor.device_id, (sensor.device, []))
                entry[1].append({"sensor": sensor.code, "time": timezone.now(), "value": value})
            for device, items in by_device.values():
                result = ingest_readings(items, device=device, channel="modbus")
                report.stored += result.stored
                report.rejected += len(result.rejected)
                for rejection in result.rejected:
                    logger.warning(
                        "Modbus reading of %s refused (%s): %s",
                        rejection.sensor,
                        rejection.code,
                        rejection.message,
                    )
        finally:
            close_old_connections()
        return report

    def _read(self, sensor, report: PollReport) -> float | None:
        try:
            register_map = RegisterMap.parse(sensor.register_map)
            host, port = parse_address(sensor.address)
        except ValueError as exc:
            return self._failed(sensor, report, f"configuration: {exc}", level=logging.ERROR)
        client = self._client(host, port)
        try:
            read = (
                client.read_input_registers
                if register_map.function == "input"
                else client.read_holding_registers
            )
            response = read(
                register_map.register, count=register_map.count, device_id=register_map.unit
            )
            if response.isError():
                return self._failed(sensor, report, f"device answered {response}")
            value = register_map.decode(response.registers)
        except (ModbusException, OSError) as exc:
            client.close()  # reconnect next time
            return self._failed(sensor, report, f"{host}:{port} unreachable: {exc}")
        except (ValueError, IndexError, TypeError) as exc:
            return self._failed(sensor, report, f"cannot decode the registers: {exc}")
        if sensor.code in self._failing:
            self._failing.discard(sensor.code)
            logger.info("Modbus sensor %s answers again", sensor.code)
        return value

    def _failed(self, sensor, report: PollReport, why: str, level=logging.WARNING) -> None:
        report.failures[sensor.code] = why
        # Logged at the first failure of a streak, then quietly retried every period.
        if sensor.code not in self._failing:
            self._failing.add(sensor.code)
            logger.log(level, "Modbus sensor %s: %s (retrying every period)", sensor.code, why)
        else:
            logger.debug("Modbus sensor %s still failing: %s", sensor.code, why)
        return None

    def _client(self, host: str, port: int) -> ModbusTcpClient:
        client = self._clients.get((host, port))
        if client is None:
            client = ModbusTcpClient(host, port=port, timeout=self.timeout, retries=1)
            self._clients[(host, port)] = client
        return client

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def run(self, *, seconds: float | None = None) -> PollReport:
        """Poll each sensor when it is due (its period, or `interval`) until stopped; the
        sensor list is re-read every round, so new and retired sensors are picked up."""
        total = PollReport()
        deadline = None if seconds is None else time.monotonic() + seconds
        next_due: dict[int, float] = {}
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                try:
                    sensors = self.sensors()
                    due = [s for s in sensors if next_due.get(s.pk, 0.0) <= now]
                    for sensor in due:
                        period = self.interval or sensor.period_seconds or 60
                        next_due[sensor.pk] = now + max(0.1, period)
                    if due:
                        report = self.poll(due)
                        total.read += report.read
                        total.stored += report.stored
                        total.rejected += report.rejected
                        total.failures.update(report.failures)
                    known = {s.pk for s in sensors}
                    wait = min((t for pk, t in next_due.items() if pk in known), default=now + 5.0)
                except Exception:
                    # The database went away, or a bug: log, wait, try again.
                    logger.exception("Modbus poll round failed")
                    close_old_connections()
                    wait = time.monotonic() + 5.0
                pause = min(wait - time.monotonic(), 1.0)
                if deadline is not None:
                    pause = min(pause, deadline - time.monotonic())
                if pause > 0:
                    self._stop.wait(pause)
        finally:
            self.close()
            connection.close()
        return total
