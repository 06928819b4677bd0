"""Connections to instruments and `open_driver` (R5.2, R8a, issue 16).

A connection is JSON (stored with the equipment):

    {"kind": "visa", "resource": "TCPIP0::127.0.0.1::5025::SOCKET", "driver": "fluke55xx",
     "timeout_ms": 2000, "read_termination": "\\n", "write_termination": "\\n",
     "backend": "@py"}
    {"kind": "modbus", "host": "10.0.0.7", "port": 502, "unit": 1, "driver": "pressure_modbus",
     "timeout_ms": 2000}                     # Modbus TCP
    {"kind": "modbus", "method": "rtu", "port": "/dev/ttyUSB0", "baudrate": 19200,
     "unit": 1, "driver": "pressure_modbus"} # Modbus RTU
    {"kind": "serial", "port": "/dev/ttyUSB1", "baudrate": 9600, "driver": "bath",
     "timeout_ms": 2000, "read_termination": "\\r\\n", "write_termination": "\\r"}
    {"kind": "serial", "port": "socket://10.0.0.8:4001", "driver": "bath"}
                                             # a serial device server (pyserial URL)

VISA goes through PyVISA with the pure-Python pyvisa-py backend ("@py"); "backend" may name
a pyvisa-sim file ("path/sim.yaml@sim"). No vendor VISA library is needed.

Every transport calls `transcript(">", command)` for each command sent and
`transcript("<", answer)` for each answer, and turns its library's failures into the
`InstrumentError` subclasses of `drivers.base`.
"""

from __future__ import annotations

import abc
import contextlib
import socket
import termios
import threading
from collections.abc import Mapping

from metrolab.instruments.drivers.base import (
    ConnectionLost,
    InstrumentError,
    InstrumentTimeout,
    Transcript,
)

DEFAULT_TIMEOUT_MS = 2000


class LineTransport(abc.ABC):
    """A line-based ASCII conversation (SCPI or a serial protocol)."""

    def __init__(self, transcript: Transcript | None):
        self.transcript = transcript

    def write(self, command: str) -> None:
        if self.transcript is not None:
            self.transcript(">", command)
        self._write(command)

    def read(self) -> str:
        answer = self._read()
        if self.transcript is not None:
            self.transcript("<", answer)
        return answer

    def query(self, command: str) -> str:
        self.write(command)
        return self.read()

    @abc.abstractmethod
    def _write(self, command: str) -> None:
        """Each transport's own (_write)."""

    @abc.abstractmethod
    def _read(self) -> str:
        """Each transport's own (_read)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Each transport's own (close)."""


_managers: dict[str, object] = {}
_managers_lock = threading.Lock()


def resource_manager(backend: str):
    """One PyVISA ResourceManager per backend ("@py", or "file.yaml@sim"), shared."""
    import pyvisa

    with _managers_lock:
        if backend not in _managers:
            _managers[backend] = pyvisa.ResourceManager(backend)
        return _managers[backend]


class VisaTransport(LineTransport):
    """A VISA resource through PyVISA, with read/write terminations and a timeout."""

    def __init__(self, connection: Mapping, transcript: Transcript | None):
        super().__init__(transcript)
        import pyvisa

        self.errors = pyvisa.errors
        self.timeout_code = pyvisa.constants.StatusCode.error_timeout
        try:
            self.resource = resource_manager(connection.get("backend", "@py")).open_resource(
                connection["resource"],
                read_termination=connection.get("read_termination", "\n"),
                write_termination=connection.get("write_termination", "\n"),
                timeout=int(connection.get("timeout_ms", DEFAULT_TIMEOUT_MS)),
                open_timeout=int(connection.get("timeout_ms", DEFAULT_TIMEOUT_MS)),
            )
        except Exception as error:  # pyvisa-py raises bare Exceptions on a refused socket
            raise ConnectionLost(f"cannot open {connection['resource']}: {error}") from error

        if (sock := self._socket()) is not None:
            # commands without an answer are followed at once by the next one: without
            # TCP_NODELAY each would wait for the delayed ACK (~40 ms)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _socket(self) -> socket.socket | None:
        """The TCP socket under a pyvisa-py TCPIP SOCKET resource, if that is what it is."""
        try:
            interface = self.resource.visalib.sessions[self.resource.session].interface
        except (AttributeError, KeyError, TypeError):
            return None
        return interface if isinstance(interface, socket.socket) else None

    def _peer_closed(self) -> bool:
        """Whether the peer of a TCPIP SOCKET resource has closed the connection (pyvisa-py
        reports a closed socket as a timeout)."""
        if (interface := self._socket()) is None:
            return False
        try:
            return interface.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def _fault(self, error: Exception, doing: str) -> InstrumentError:
        if isinstance(error, self.errors.VisaIOError) and error.error_code == self.timeout_code:
            if self._peer_closed():
                return ConnectionLost(f"connection closed by the instrument ({doing})")
            return InstrumentTimeout(f"no answer within {self.resource.timeout:g} ms ({doing})")
        return ConnectionLost(f"{doing}: {error}")

    def _write(self, command: str) -> None:
        # a write to a socket the instrument has closed still "succeeds" and the read after
        # it would spin until the timeout: look first (one non-blocking peek)
        if self._peer_closed():
            raise ConnectionLost(f"connection closed by the instrument (before {command!r})")
        try:
            self.resource.write(command)
        except (self.errors.Error, OSError) as error:
            raise self._fault(error, f"writing {command!r}") from error

    def _read(self) -> str:
        try:
            return self.resource.read()
        except (self.errors.Error, OSError) as error:
            raise self._fault(error, "reading") from error

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.resource.close()


class SerialTransport(LineTransport):
    """A raw serial line through pyserial (ASCII lines, given terminations)."""

    def __init__(self, connection: Mapping, transcript: Transcript | None):
        super().__init__(transcript)
        import serial

        self.serial_errors = (serial.SerialException, OSError, termios.error)
        self.read_termination = connection.get("read_termination", "\r\n").encode("ascii")
        self.write_termination = connection.get("write_termination", "\r").encode("ascii")
        self.timeout = int(connection.get("timeout_ms", DEFAULT_TIMEOUT_MS)) / 1000
        try:
            # serial_for_url: a device ("/dev/ttyUSB1") or a pyserial URL, e.g. a serial
            # device server's "socket://host:port"
            self.port = serial.serial_for_url(
                connection["port"],
                baudrate=int(connection.get("baudrate", 9600)),
                bytesize=int(connection.get("bytesize", 8)),
                parity=connection.get("parity", "N"),
                stopbits=connection.get("stopbits", 1),
                timeout=self.timeout,
                write_timeout=self.timeout,
            )
        except self.serial_errors as error:
            raise ConnectionLost(f"cannot open {connection['port']}: {error}") from error

    def _write(self, command: str) -> None:
        try:
            self.port.reset_input_buffer()
            self.port.write(command.encode("ascii") + self.write_termination)
        except self.serial_errors as error:
            raise ConnectionLost(f"writing {command!r}: {error}") from error

    def _read(self) -> str:
        try:
            data = self.port.read_until(self.read_termination)
        except self.serial_errors as error:
            raise ConnectionLost(f"reading: {error}") from error
        if not data.endswith(self.read_termination):
            raise InstrumentTimeout(f"no answer within {self.timeout * 1000:g} ms")
        return data[: -len(self.read_termination)].decode("ascii", "replace")

    def close(self) -> None:
        with contextlib.suppress(self.serial_errors):
            self.port.close()


class ModbusTransport:
    """Modbus TCP or RTU through pymodbus, for register-mapped instruments."""

    def __init__(self, connection: Mapping, transcript: Transcript | None):
        from pymodbus.client import ModbusSerialClient, ModbusTcpClient

        self.transcript = transcript
        self.unit = int(connection.get("unit", 1))
        timeout = int(connection.get("timeout_ms", DEFAULT_TIMEOUT_MS)) / 1000
        if connection.get("method", "tcp") == "rtu":
            self.client = ModbusSerialClient(
                connection["port"],
                baudrate=int(connection.get("baudrate", 19200)),
                parity=connection.get("parity", "N"),
                timeout=timeout,
                retries=0,
            )
            where = connection["port"]
        else:
            self.client = ModbusTcpClient(
                connection["host"],
                port=int(connection.get("port", 502)),
                timeout=timeout,
                retries=0,
            )
            where = f"{connection['host']}:{connection.get('port', 502)}"
        self.where = where
        if not self.client.connect():
            raise ConnectionLost(f"cannot connect to {where}")

    def _call(self, description: str, call):
        from pymodbus.exceptions import ConnectionException, ModbusIOException

        from metrolab.instruments.drivers.base import InstrumentReportedError

        if self.transcript is not None:
            self.transcript(">", description)
        try:
            response = call()
        except ConnectionException as error:
            raise ConnectionLost(f"{self.where}: {error}") from error
        except ModbusIOException as error:
            if not self.client.connected:
                raise ConnectionLost(f"{self.where}: {error}") from error
            raise InstrumentTimeout(f"{self.where}: no answer ({description})") from error
        if response.isError():
            code = getattr(response, "exception_code", "?")
            if self.transcript is not None:
                self.transcript("<", f"exception {code}")
            raise InstrumentReportedError([f"Modbus exception {code} ({description})"])
        return response

    def read_holding(self, address: int, count: int) -> list[int]:
        response = self._call(
            f"read holding {address} ×{count}",
            lambda: self.client.read_holding_registers(address, count=count, device_id=self.unit),
        )
        return self._answer(response.registers)

    def read_input(self, address: int, count: int) -> list[int]:
        response = self._call(
            f"read input {address} ×{count}",
            lambda: self.client.read_input_registers(address, count=count, device_id=self.unit),
        )
        return self._answer(response.registers)

    def write(self, address: int, registers: list[int]) -> None:
        text = " ".join(f"{r:04X}" for r in registers)
        self._call(
            f"write holding {address} {text}",
            lambda: self.client.write_registers(address, registers, device_id=self.unit),
        )
        if self.transcript is not None:
            self.transcript("<", "ok")

    def _answer(self, registers: list[int]) -> list[int]:
        if self.transcript is not None:
            self.transcript("<", " ".join(f"{r:04X}" for r in registers))
        return list(registers)

    def close(self) -> None:
        self.client.close()


def driver_classes() -> dict:
    from metrolab.instruments.drivers.bath import Bath
    from metrolab.instruments.drivers.dmm34401 import Dmm34401
    from metrolab.instruments.drivers.fluke55xx import Fluke55xx
    from metrolab.instruments.drivers.pressure import PressureModbus

    return {
        "fluke55xx": Fluke55xx,
        "dmm34401": Dmm34401,
        "pressure_modbus": PressureModbus,
        "bath": Bath,
    }


TRANSPORTS = {"visa": VisaTransport, "serial": SerialTransport, "modbus": ModbusTransport}


def open_driver(connection: Mapping, *, transcript: Transcript | None = None):
    """A connected driver for `connection` (see the module docstring), its identity read.

    Raises ValueError for an unknown kind / driver or a transport the driver cannot use, and
    an `InstrumentError` (ConnectionLost, InstrumentTimeout, ...) when the instrument cannot
    be reached or does not answer *IDN?."""
    kind = connection.get("kind")
    if kind not in TRANSPORTS:
        raise ValueError(f"unknown connection kind {kind!r}; one of {', '.join(TRANSPORTS)}")
    classes = driver_classes()
    name = connection.get("driver")
    if name not in classes:
        raise ValueError(f"unknown driver {name!r}; one of {', '.join(classes)}")
    driver_class = classes[name]
    if kind not in driver_class.transports:
        raise ValueError(f"driver {name!r} cannot use a {kind!r} connection")
    transport = TRANSPORTS[kind](connection, transcript)
    driver = driver_class(transport)
    try:
        driver.connected_identity = driver.identify()
    except BaseException:
        driver.close()
        raise
    return driver
