"""The demo's simulated bench (`metrolab instruments-simulate`, which `metrolab demo` starts):
every simulated instrument on fixed ports from one base port, so that the connections stored
with the demo's equipment stay valid from one start to the next.

    port + 0   the multifunction calibrator (Fluke 5522A-style SCPI, VISA TCPIP SOCKET)
    port + 1   the DMM wired to it (34401A-style SCPI)
    port + 2   the pressure controller (Modbus TCP, unit 1)
    port + 3   the temperature bath + readout (its serial protocol over TCP: "socket://")

The instruments behave like good ones: first-order settling of a few hundred milliseconds,
a little noise (the DMM 2 µV, the pressure 20 Pa, the readout 0.2 mK), a few milliseconds to
answer, no faults. The calibrator reports the serial number of the demo register's 5522A
(metrolab.equipment.demo, YQ-2019-013) so that identifying it matches the register.
"""

from __future__ import annotations

from metrolab.instruments.simulators.modbus import PressureSimulator
from metrolab.instruments.simulators.models import BathModel, PressureModel
from metrolab.instruments.simulators.scpi import ScpiBench
from metrolab.instruments.simulators.serial_bath import BathSimulator

#: The instruments in port order (port + index).
INSTRUMENTS = ("calibrator", "dmm", "pressure", "bath")
#: The demo register's multifunction calibrator (model and serial number).
CALIBRATOR_IDENTITY = {"model": "5522A", "serial": "3354109"}
#: The DMM under test's identity (the simulator's own): the demo item's model and serial no.
DMM_IDENTITY = {"manufacturer": "HEWLETT-PACKARD", "model": "34401A", "serial": "MY41012345"}
DRIVERS = {
    "calibrator": "fluke55xx",
    "dmm": "dmm34401",
    "pressure": "pressure_modbus",
    "bath": "bath",
}


def demo_ports(port: int) -> dict[str, int]:
    """Each instrument's port from the base port."""
    return {name: port + offset for offset, name in enumerate(INSTRUMENTS)}


def demo_connections(host: str, port: int, timeout_ms: int = 2000) -> dict[str, dict]:
    """The connection JSON (`open_driver`) of each instrument of the bench at host:port."""
    ports = demo_ports(port)
    return {
        "calibrator": {
            "kind": "visa",
            "resource": f"TCPIP0::{host}::{ports['calibrator']}::SOCKET",
            "driver": DRIVERS["calibrator"],
            "timeout_ms": timeout_ms,
        },
        "dmm": {
            "kind": "visa",
            "resource": f"TCPIP0::{host}::{ports['dmm']}::SOCKET",
            "driver": DRIVERS["dmm"],
            "timeout_ms": timeout_ms,
        },
        "pressure": {
            "kind": "modbus",
            "host": host,
            "port": ports["pressure"],
            "unit": 1,
            "driver": DRIVERS["pressure"],
            "timeout_ms": timeout_ms,
        },
        "bath": {
            "kind": "serial",
            "port": f"socket://{host}:{ports['bath']}",
            "baudrate": 9600,
            "driver": DRIVERS["bath"],
            "timeout_ms": timeout_ms,
        },
    }


class DemoBench:
    """The four simulated instruments on `host`, ports `port` … `port + 3`. `tau` (s) is the
    calibrator's settling time constant; the pressure controller and the bath settle a little
    slower. `delay` (s) is each instrument's time to answer."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 15025,
        *,
        tau: float = 0.3,
        delay: float = 0.003,
    ):
        self.host, self.port = host, port
        ports = demo_ports(port)
        self.scpi = ScpiBench(
            tau=tau,
            gain_error=1.2e-5,
            offset=3e-6,
            sigma=2e-6,
            seed=16,
            delay=delay,
            host=host,
            calibrator_port=ports["calibrator"],
            dmm_port=ports["dmm"],
        )
        self.scpi.calibrator.instrument.identify_as(**CALIBRATOR_IDENTITY)
        self.scpi.dmm.instrument.identify_as(**DMM_IDENTITY)
        self.pressure = PressureSimulator(
            PressureModel(tau=tau * 2, sigma=2e-5, seed=16), host=host, port=ports["pressure"]
        )
        try:
            self.bath = BathSimulator(
                BathModel(tau=tau * 3, sigma=2e-4, seed=16, ambient=20.0, bridge_offset=1.5e-3),
                delay=delay,
                tcp=(host, ports["bath"]),
            )
        except OSError:
            for server in (self.scpi.calibrator, self.scpi.dmm):
                server.server.server_close()
            raise
        self.started: list = []

    def start(self) -> DemoBench:
        try:
            for simulator in (self.scpi, self.pressure, self.bath):
                simulator.start()
                self.started.append(simulator)
        except BaseException:
            started = list(self.started)
            self.stop()
            if self.scpi not in started:  # bound, never served
                for server in (self.scpi.calibrator, self.scpi.dmm):
                    server.server.server_close()
            if self.bath not in started and self.bath.tcp is not None:
                self.bath.tcp.server.server_close()
            raise
        return self

    def connections(self, timeout_ms: int = 2000) -> dict[str, dict]:
        return demo_connections(self.host, self.port, timeout_ms)

    def stop(self) -> None:
        while self.started:
            self.started.pop().stop()
