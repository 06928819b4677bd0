"""Simulated instruments for the demo and the tests (issue 16).

- `scpi.ScpiServer`: a TCP SCPI server hosting a `CalibratorSim` (Fluke 5522A-style) or a
  `DmmSim` (34401A-style); the DMM reads the calibrator it is wired to through shared models.
- `modbus.PressureSimulator`: a pymodbus TCP server with a pressure controller's registers.
- `serial_bath.BathSimulator`: a temperature bath + readout on a pty (its slave is the port).
- `sim.yaml`: pyvisa-sim devices (identity and fixed answers) for the drivers' command strings.

Every simulator runs in a thread, listens on a free loopback port / a new pty, can be stopped,
and has injectable faults (see `models.Faults`).
"""

from metrolab.instruments.simulators.models import (
    BathModel,
    CalibratorModel,
    DmmModel,
    Faults,
    PressureModel,
)

__all__ = ["BathModel", "CalibratorModel", "DmmModel", "Faults", "PressureModel"]
