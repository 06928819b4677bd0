"""A simulated pressure controller on Modbus TCP (pymodbus server on 127.0.0.1, free port).

The register map (also in docs/instruments.md; the driver `drivers/pressure.py` uses it):

Holding registers (read/write, function 3 / 6 / 16):
    0–1   set point, IEEE-754 float32, MPa, high word first
    2     mode: 0 = standby (vented), 1 = control (operate)
    3     command (write only): 1 = reset, 2 = run the self-test, 3 = acknowledge (drop) the
          oldest error in the queue
Input registers (read only, function 4):
    0–1   pressure reading, float32, MPa, high word first
    2     status bits: 0 = controlling, 1 = stable at the set point, 2 = error queued,
          3 = self-test failed
    3     oldest error code in the queue (0 = none)
    4     self-test result code (0 = passed)
    10–41 identity: ASCII "MANUFACTURER,MODEL,SERIAL,FIRMWARE", two characters a register
          (high byte first), NUL-padded (64 characters)

Errors are pushed as "<code>,<text>" (e.g. "3,Supply pressure low"); the code goes in input
register 3. Faults: `faults.silent` (no answer: the client times out), `push_error`,
`faults.serial`, `faults.drift`, `close_connections()` (the server stops listening and drops
its connections: the port is gone).
"""

from __future__ import annotations

import asyncio
import os
import select
import socket
import struct
import threading
import tty

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from metrolab.instruments.simulators.models import PressureModel

IDENTITY_START = 10
IDENTITY_REGISTERS = 32
MAX_SETPOINT = 70.0  # MPa
ERROR_TEXTS = {2: "Set point out of range", 3: "Supply pressure low", 4: "Over-pressure"}


def float_registers(value: float) -> list[int]:
    high, low = struct.unpack(">HH", struct.pack(">f", value))
    return [high, low]


def registers_float(registers: list[int]) -> float:
    return struct.unpack(">f", struct.pack(">HH", *registers))[0]


def text_registers(text: str, count: int) -> list[int]:
    data = text.encode("ascii")[: count * 2].ljust(count * 2, b"\0")
    return [data[i] << 8 | data[i + 1] for i in range(0, len(data), 2)]


class PressureDevice:
    """The datastore the pymodbus server asks (it replaces the server's context)."""

    manufacturer = "DRUCK"
    model = "PACE5000"
    serial = "PC5-12345"
    firmware = "3.04"

    def __init__(self, model: PressureModel):
        self.state = model
        self.faults = model.faults
        self.mode = 0

    def device_ids(self) -> list[int]:
        return [0]

    def identity(self) -> str:
        serial = self.faults.serial or self.serial
        return f"{self.manufacturer},{self.model},{serial},{self.firmware}"

    def holding(self) -> list[int]:
        return [*float_registers(self.state.setpoint), 1 if self.state.controlling else 0, 0]

    def inputs(self) -> list[int]:
        faults = self.faults
        error_code = int(faults.errors[0].split(",")[0]) if faults.errors else 0
        status = (
            (1 if self.state.controlling else 0)
            | (2 if self.state.controlling and self.state.stable() else 0)
            | (4 if faults.errors else 0)
            | (8 if faults.self_test_code else 0)
        )
        registers = [*float_registers(self.state.reading()), status, error_code]
        registers += [faults.self_test_code] + [0] * (IDENTITY_START - 5)
        return registers + text_registers(self.identity(), IDENTITY_REGISTERS)

    async def _wait_if_silent(self) -> None:
        if self.faults.silent:  # the server then drops the request: the client times out
            raise NoSuchIdException("silent")

    async def async_getValues(self, device_id: int, func_code: int, address: int, count: int = 1):
        await self._wait_if_silent()
        if func_code in (3, 6, 16, 23):
            registers = self.holding()
        elif func_code == 4:
            registers = self.inputs()
        else:
            return ExcCodes.ILLEGAL_FUNCTION
        if address + count > len(registers):
            return ExcCodes.ILLEGAL_ADDRESS
        return registers[address : address + count]

    async def async_setValues(self, device_id: int, func_code: int, address: int, values):
        await self._wait_if_silent()
        if func_code not in (6, 16) or address + len(values) > 4:
            return ExcCodes.ILLEGAL_ADDRESS
        registers = self.holding()
        registers[address : address + len(values)] = list(values)
        if address <= 1 < address + len(values):
            setpoint = registers_float(registers[0:2])
            if not 0 <= setpoint <= MAX_SETPOINT:
                self.faults.push_error(f"2,{ERROR_TEXTS[2]}")
            else:
                self.state.set(setpoint)
        if address <= 2 < address + len(values) and bool(registers[2]) != self.state.controlling:
            self.state.control(bool(registers[2]))
        if address <= 3 < address + len(values):
            command = registers[3]
            if command == 1:
                self.state.reset()
            elif command == 3 and self.faults.errors:
                self.faults.errors.popleft()
        return None


class PtyLink:
    """Two ptys joined like a null-modem cable: what is written to one slave is read from
    the other (for Modbus RTU, whose server and client each open a serial port)."""

    def __init__(self):
        self.masters, self.slaves = [], []
        for _ in range(2):
            master, slave = os.openpty()
            tty.setraw(slave)
            self.masters.append(master)
            self.slaves.append(slave)
        self.names = [os.ttyname(slave) for slave in self.slaves]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="pty-link", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        a, b = self.masters
        while not self.stopping.is_set():
            ready, _, _ = select.select([a, b], [], [], 0.05)
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                os.write(b if fd == a else a, data)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(2)
        for fd in self.masters + self.slaves:
            os.close(fd)


class PressureSimulator:
    """A pymodbus server for one `PressureModel`, run by an event loop in a thread: Modbus
    TCP on a free loopback port, or (`rtu=True`) Modbus RTU on one end of a pty link whose
    other end is the client's serial port."""

    def __init__(
        self,
        model: PressureModel | None = None,
        *,
        unit: int = 1,
        rtu: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.model = model or PressureModel()
        self.faults = self.model.faults
        self.device = PressureDevice(self.model)
        self.unit = unit
        self.link = PtyLink() if rtu else None
        self.host = host
        self.port = port
        if not port:
            with socket.socket() as probe:
                probe.bind((host, 0))
                self.port = probe.getsockname()[1]
        self.loop = asyncio.new_event_loop()
        self.server: ModbusTcpServer | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="pressure-sim", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def serve():
            bits = [SimData(0, count=1, values=False, datatype=DataType.BITS)]
            registers = [SimData(0, count=1, values=0, datatype=DataType.REGISTERS)]
            # pymodbus's servers are built with a simulated device; the pressure controller's
            # own register context (self.device) takes its place at once below.
            startup_device = SimDevice(id=0, simdata=(bits, bits, registers, registers))
            if self.link is not None:
                self.server = ModbusSerialServer(
                    startup_device, port=self.link.names[0], baudrate=19200
                )
            else:
                self.server = ModbusTcpServer(startup_device, address=(self.host, self.port))
            self.server.context = self.device
            self.server.ignore_missing_devices = True
            await self.server.serve_forever(background=True)
            self.ready.set()
            await self.server.serving

        try:
            self.loop.run_until_complete(serve())
        finally:
            self.ready.set()

    def connection(self, timeout_ms: int = 2000) -> dict:
        if self.link is not None:
            return {
                "kind": "modbus",
                "method": "rtu",
                "port": self.link.names[1],
                "baudrate": 19200,
                "unit": self.unit,
                "driver": "pressure_modbus",
                "timeout_ms": timeout_ms,
            }
        return {
            "kind": "modbus",
            "host": self.host,
            "port": self.port,
            "unit": self.unit,
            "driver": "pressure_modbus",
            "timeout_ms": timeout_ms,
        }

    def start(self) -> PressureSimulator:
        self.thread.start()
        self.ready.wait(10)
        if self.server is None or not self.thread.is_alive():
            raise RuntimeError("the Modbus pressure simulator did not start")
        return self

    def close_connections(self) -> None:
        """The port goes away: stop listening and drop every connection."""
        self.stop()

    def stop(self) -> None:
        if self.server is not None and self.thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop).result(10)
        self.thread.join(10)
        if self.link is not None:
            self.link.close()
            self.link = None
