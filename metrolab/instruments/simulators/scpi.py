"""A TCP SCPI server (one instrument per port, newline-terminated lines) and the command
sets of the simulated calibrator (Fluke 5522A-style) and DMM (34401A-style).

    bench = ScpiBench(tau=0.05, sigma=2e-6).start()   # calibrator + DMM wired together
    bench.calibrator.resource  # "TCPIP0::127.0.0.1::<port>::SOCKET"
    bench.dmm.faults.silent = True; bench.dmm.close_connections(); bench.stop()
"""

from __future__ import annotations

import abc
import contextlib
import re
import socket
import socketserver
import threading
import time

from metrolab.instruments.simulators.models import CalibratorModel, DmmModel, Faults

UNITS = {
    "V": ("V", 1.0),
    "MV": ("V", 1e-3),
    "UV": ("V", 1e-6),
    "A": ("A", 1.0),
    "MA": ("A", 1e-3),
    "UA": ("A", 1e-6),
    "OHM": ("OHM", 1.0),
    "KOHM": ("OHM", 1e3),
    "MOHM": ("OHM", 1e6),
}
FREQUENCY_UNITS = {"HZ": 1.0, "KHZ": 1e3, "MHZ": 1e6}
NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
OUT = re.compile(rf"^OUT\s+({NUMBER})\s*([A-Z]+)(?:\s*,\s*({NUMBER})\s*([A-Z]+))?$", re.IGNORECASE)


class SimulatedScpiInstrument(abc.ABC):
    """Common SCPI behaviour: *IDN?, *RST, *CLS, *TST?, *OPC? and the error queue."""

    manufacturer = "SIM"
    model = "0"
    serial = "0"
    firmware = "0"
    no_error = "0,No Error"
    undefined_header = "-113,Undefined header"

    def __init__(self, faults: Faults):
        self.faults = faults

    def identify_as(self, **identity: str) -> SimulatedScpiInstrument:
        """Report another identity (manufacturer, model, serial, firmware) to *IDN?: e.g. the
        serial number of the lab's register."""
        for key, value in identity.items():
            if key not in ("manufacturer", "model", "serial", "firmware"):
                raise ValueError(f"unknown identity field {key!r}")
            setattr(self, key, value)
        return self

    def idn(self) -> str:
        serial = self.faults.serial or self.serial
        return f"{self.manufacturer},{self.model},{serial},{self.firmware}"

    def handle(self, line: str) -> str | None:
        command = line.strip()
        upper = command.upper()
        if upper == "*IDN?":
            return self.idn()
        if upper == "*RST":
            self.reset()
            return None
        if upper == "*CLS":
            self.faults.errors.clear()
            return None
        if upper == "*OPC?":
            return "1"
        if upper == "*TST?":
            return self.self_test()
        answer = self.command(command, upper)
        if answer is False:
            self.faults.push_error(self.undefined_header)
            return None
        return answer

    def next_error(self) -> str:
        return self.faults.errors.popleft() if self.faults.errors else self.no_error

    def self_test(self) -> str:
        return str(self.faults.self_test_code)

    @abc.abstractmethod
    def reset(self) -> None:
        """*RST: the instrument's power-on state."""

    @abc.abstractmethod
    def command(self, command: str, upper: str) -> str | bool | None:
        """The answer (None: no answer), or False for an unknown command."""


class CalibratorSim(SimulatedScpiInstrument):
    """Fluke 5522A-style: OUT <value> <unit>[, <f> HZ], OUT?, OPER, STBY, OPER?, ERR?."""

    manufacturer = "FLUKE"
    model = "5522A"
    serial = "9876543"
    firmware = "2.1"

    def __init__(self, model: CalibratorModel):
        super().__init__(model.faults)
        self.state = model

    def reset(self) -> None:
        self.state.reset()

    def command(self, command: str, upper: str) -> str | bool | None:
        if upper == "ERR?":
            return self.next_error()
        if upper == "OPER":
            self.state.operate(True)
            return None
        if upper == "STBY":
            self.state.operate(False)
            return None
        if upper == "OPER?":
            return "1" if self.state.operating else "0"
        if upper == "OUT?":
            return f"{self.state.setting:+.6E},{self.state.unit},{self.state.frequency:+.6E}"
        match = OUT.match(command)
        if not match:
            return False
        value, unit, frequency, frequency_unit = match.groups()
        if unit.upper() not in UNITS or (
            frequency_unit and frequency_unit.upper() not in FREQUENCY_UNITS
        ):
            self.faults.push_error("-131,Invalid suffix")
            return None
        base, factor = UNITS[unit.upper()]
        hertz = float(frequency) * FREQUENCY_UNITS[frequency_unit.upper()] if frequency else 0.0
        kind = {"V": "v", "A": "i", "OHM": "resistance"}[base]
        function = kind if kind == "resistance" else ("ac" if hertz else "dc") + kind
        amount = float(value) * factor
        if abs(amount) > {"V": 1020.0, "A": 20.5, "OHM": 1.1e9}[base]:
            self.faults.push_error("-222,Data out of range")
            return None
        self.state.set(function, base, amount, hertz)
        return None


DMM_FUNCTION = re.compile(
    r"^(CONF(?:IGURE)?|MEAS(?:URE)?)(?::(VOLT(?:AGE)?|CURR(?:ENT)?)(?::(DC|AC))?"
    r"|:(F?RES(?:ISTANCE)?))(\?)?(?:\s+(.*))?$",
    re.IGNORECASE,
)


class DmmSim(SimulatedScpiInstrument):
    """34401A-style: CONF:<function> [range], CONF?, READ?, MEAS:<function>? [range],
    SYST:ERR?. A range too small for the signal reads +9.90000000E+37 (overload)."""

    manufacturer = "HEWLETT-PACKARD"
    model = "34401A"
    serial = "MY41012345"
    firmware = "11-5-2"
    no_error = '+0,"No error"'
    undefined_header = '-113,"Undefined header"'

    def __init__(self, model: DmmModel):
        super().__init__(model.faults)
        self.state = model

    def reset(self) -> None:
        self.state.function, self.state.range = "dcv", None

    def self_test(self) -> str:
        return f"{self.faults.self_test_code:+d}"

    def configure(self, match: re.Match) -> bool:
        _, quantity, coupling, resistance, _, argument = match.groups()
        if resistance:
            function = "fresistance" if resistance.upper().startswith("F") else "resistance"
        else:
            function = ("ac" if (coupling or "DC").upper() == "AC" else "dc") + (
                "v" if quantity.upper().startswith("VOLT") else "i"
            )
        range_ = None
        if argument:
            first = argument.split(",")[0].strip().upper()
            if first not in ("AUTO", "DEF", "MIN", "MAX"):
                try:
                    range_ = float(first)
                except ValueError:
                    self.faults.push_error('-131,"Invalid suffix"')
                    return False
        self.state.function, self.state.range = function, range_
        return True

    def read(self) -> str:
        value = self.state.reading()
        if self.state.range is not None and abs(value) > self.state.range * 1.2:
            return "+9.90000000E+37"
        return f"{value:+.8E}"

    def command(self, command: str, upper: str) -> str | bool | None:
        if upper in ("SYST:ERR?", "SYSTEM:ERROR?"):
            return self.next_error()
        if upper == "READ?":
            return self.read()
        if upper == "CONF?":
            names = {"dcv": "VOLT", "acv": "VOLT:AC", "dci": "CURR", "aci": "CURR:AC"}
            name = names.get(self.state.function, self.state.function.upper()[:4])
            range_ = self.state.range if self.state.range is not None else 10.0
            return f'"{name} {range_:+.6E},{range_ * 1e-6:+.6E}"'
        match = DMM_FUNCTION.match(command)
        if not match:
            return False
        is_measure = match.group(1).upper().startswith("MEAS")
        if is_measure != bool(match.group(5)):
            return False
        if not self.configure(match):
            return None
        return self.read() if is_measure else None


class ScpiServer:
    """Serves one simulated instrument on 127.0.0.1:<free port>, in a thread.

    `delay` seconds are waited before each answer (the instrument's own time).
    `close_connections()` drops every open connection (the driver sees ConnectionLost).
    """

    def __init__(
        self,
        instrument: SimulatedScpiInstrument,
        *,
        delay: float = 0.0,
        port: int = 0,
        host: str = "127.0.0.1",
    ):
        self.instrument = instrument
        self.faults = instrument.faults
        self.delay = delay
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with owner.lock:
                    owner.connections.add(self.request)
                try:
                    for raw in self.rfile:
                        line = raw.decode("ascii", "replace").strip()
                        if not line or owner.faults.silent:
                            continue
                        answer = owner.instrument.handle(line)
                        if answer is not None:
                            if owner.delay:
                                time.sleep(owner.delay)
                            self.wfile.write(answer.encode("ascii") + b"\n")
                except OSError:
                    pass
                finally:
                    with owner.lock:
                        owner.connections.discard(self.request)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server((host, port), Handler)
        self.host = host
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def resource(self) -> str:
        return f"TCPIP0::{self.host}::{self.port}::SOCKET"

    def connection(self, driver: str, timeout_ms: int = 2000) -> dict:
        """The connection JSON `open_driver` takes for this simulator."""
        return {
            "kind": "visa",
            "resource": self.resource,
            "driver": driver,
            "timeout_ms": timeout_ms,
        }

    def start(self) -> ScpiServer:
        self.thread.start()
        return self

    def close_connections(self) -> None:
        with self.lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def stop(self) -> None:
        self.server.shutdown()
        self.close_connections()
        self.server.server_close()
        self.thread.join(5)


class ScpiBench:
    """A calibrator and a DMM wired to it, each on its own port (the demo's and tests' bench;
    free loopback ports unless given).

    DMM reading = calibrator output × (1 + gain_error) + offset + N(0, sigma) (seeded)."""

    def __init__(
        self,
        *,
        tau: float = 0.0,
        gain_error: float = 0.0,
        offset: float = 0.0,
        sigma: float = 0.0,
        seed: int = 16,
        delay: float = 0.0,
        host: str = "127.0.0.1",
        calibrator_port: int = 0,
        dmm_port: int = 0,
    ):
        self.calibrator_model = CalibratorModel(tau=tau)
        self.dmm_model = DmmModel(
            self.calibrator_model, gain_error=gain_error, offset=offset, sigma=sigma, seed=seed
        )
        self.calibrator = ScpiServer(
            CalibratorSim(self.calibrator_model), delay=delay, host=host, port=calibrator_port
        )
        try:
            self.dmm = ScpiServer(DmmSim(self.dmm_model), delay=delay, host=host, port=dmm_port)
        except OSError:
            self.calibrator.server.server_close()
            raise

    def start(self) -> ScpiBench:
        self.calibrator.start()
        self.dmm.start()
        return self

    def stop(self) -> None:
        self.calibrator.stop()
        self.dmm.stop()
