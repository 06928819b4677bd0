"""Pressure controller / digital gauge over Modbus registers (issue 16).

Modbus (TCP or RTU) is the transport this driver uses; the register map (Druck PACE-like,
the simulator `simulators/modbus.py` implements it, docs/instruments.md documents it):

Holding: 0–1 set point (float32 MPa, high word first) · 2 mode (0 standby/vent, 1 control)
         · 3 command (1 reset, 2 self-test, 3 acknowledge the oldest error)
Input:   0–1 pressure (float32 MPa) · 2 status bits (controlling, stable, error queued,
         self-test failed) · 3 oldest error code (0 none) · 4 self-test code (0 passed)
         · 10–41 identity, ASCII "MANUFACTURER,MODEL,SERIAL,FIRMWARE"

A float32 register value is given as the shortest decimal that reads back as the same float32
(what the instrument's own display would print).
"""

from __future__ import annotations

import struct
from decimal import Decimal

from metrolab.instruments.drivers.base import Identity, InstrumentReportedError, Reading
from metrolab.instruments.drivers.common import BaseDriver, base_unit, now, parse_identity

IDENTITY_START, IDENTITY_REGISTERS = 10, 32
ERROR_TEXTS = {2: "Set point out of range", 3: "Supply pressure low", 4: "Over-pressure"}
UNIT_FACTORS = {"MPa": Decimal(1), "kPa": Decimal("1e-3"), "Pa": Decimal("1e-6")}
UNIT_FACTORS |= {"bar": Decimal("0.1"), "mbar": Decimal("1e-4")}


def float_registers(value: float) -> list[int]:
    return list(struct.unpack(">HH", struct.pack(">f", value)))


def registers_decimal(registers: list[int]) -> Decimal:
    """The shortest decimal that is the same float32 as the two registers."""
    packed = struct.pack(">HH", *registers)
    value = struct.unpack(">f", packed)[0]
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if struct.pack(">f", float(text)) == packed:
            return Decimal(text)
    return Decimal(repr(value))


class PressureModbus(BaseDriver):
    family = "pressure"
    functions = frozenset({"pressure"})
    transports = frozenset({"modbus"})

    def identify(self) -> Identity:
        registers = self.transport.read_input(IDENTITY_START, IDENTITY_REGISTERS)
        data = b"".join(struct.pack(">H", register) for register in registers)
        return parse_identity(data.rstrip(b"\0").decode("ascii", "replace"))

    def _command(self, code: int) -> None:
        self.transport.write(3, [code])

    def reset(self) -> None:
        self._command(1)
        self.raise_errors()

    def self_test(self) -> list[str]:
        self._command(2)
        code = self.transport.read_input(4, 1)[0]
        return ([f"self-test failed: code {code}"] if code else []) + self.errors()

    def errors(self) -> list[str]:
        errors = []
        for _ in range(50):
            code = self.transport.read_input(3, 1)[0]
            if not code:
                break
            errors.append(f"{code},{ERROR_TEXTS.get(code, 'Error')}")
            self._command(3)
        return errors

    def raise_errors(self) -> None:
        errors = self.errors()
        if errors:
            raise InstrumentReportedError(errors)

    def set_output(self, function: str, value: Decimal, unit: str) -> None:
        self.check_function(function)
        megapascal = value * self._factor(unit)
        self.transport.write(0, float_registers(float(megapascal)))
        self.raise_errors()

    def _factor(self, unit: str) -> Decimal:
        if unit in UNIT_FACTORS:
            return UNIT_FACTORS[unit]
        return base_unit(unit, ("MPa",))[1]

    def operate(self) -> None:
        self.transport.write(2, [1])
        self.raise_errors()

    def standby(self) -> None:
        self.transport.write(2, [0])
        self.raise_errors()

    def configure(self, function: str, range_: Decimal | None, unit: str) -> None:
        self.check_function(function)
        self._factor(unit)  # refuses a unit that is not a pressure

    def status(self) -> dict[str, bool]:
        bits = self.transport.read_input(2, 1)[0]
        names = ("controlling", "stable", "error_queued", "self_test_failed")
        return {name: bool(bits >> i & 1) for i, name in enumerate(names)}

    def read(self) -> Reading:
        return Reading(registers_decimal(self.transport.read_input(0, 2)), "MPa", now())


__all__ = ["InstrumentReportedError", "PressureModbus"]
