"""6½-digit DMM, 34401A-style SCPI (R8a, issue 16).

    *IDN?  *RST  *TST? ("+0" = passed)  *OPC?
    CONF:VOLT:DC 10 | CONF:VOLT:AC | CONF:CURR:DC | CONF:CURR:AC | CONF:RES | CONF:FRES
    READ?          -> "+1.00000123E+01"       one reading in the configured function
    MEAS:VOLT:DC? 10                          configure and read at once
    SYST:ERR?      -> '+0,"No error"' when the queue is empty

The range is given in the caller's unit ("100 mV") and sent in base units (0.1); readings
are in the base unit of the function (V, A, Ω). An overload (±9.9E37) raises
InstrumentReportedError. `read()` is one READ? (no error query: ask `errors()` after a step).
"""

from __future__ import annotations

from decimal import Decimal

from metrolab.instruments.drivers.base import InstrumentReportedError, Reading
from metrolab.instruments.drivers.common import ScpiDriver, base_unit, now, parse_decimal

FUNCTIONS = {
    "dcv": ("VOLT:DC", "V"),
    "acv": ("VOLT:AC", "V"),
    "dci": ("CURR:DC", "A"),
    "aci": ("CURR:AC", "A"),
    "resistance": ("RES", "Ω"),
    "fresistance": ("FRES", "Ω"),
}
OVERLOAD = Decimal("9.9E37")


class Dmm34401(ScpiDriver):
    family = "dmm34401"
    functions = frozenset(FUNCTIONS)

    def __init__(self, transport):
        super().__init__(transport)
        self.unit = "V"

    def reset(self) -> None:
        super().reset()
        self.unit = "V"

    def _function(self, function: str, range_: Decimal | None, unit: str) -> str:
        self.check_function(function)
        header, base = FUNCTIONS[function]
        if range_ is None:
            return f"{header} AUTO"
        _, factor = base_unit(unit, (base, "ohm") if base == "Ω" else (base,))
        return f"{header} {(range_ * factor).normalize():f}"

    def configure(self, function: str, range_: Decimal | None, unit: str) -> None:
        self.command(f"CONF:{self._function(function, range_, unit)}")
        self.unit = FUNCTIONS[function][1]

    def _reading(self, text: str) -> Reading:
        value = parse_decimal(text)
        if abs(value) >= OVERLOAD:
            raise InstrumentReportedError([f"overload: {text.strip()}"])
        return Reading(value, self.unit, now())

    def read(self) -> Reading:
        return self._reading(self.transport.query("READ?"))

    def measure(self, function: str, range_: Decimal | None, unit: str) -> Reading:
        header = self._function(function, range_, unit)
        name, _, argument = header.partition(" ")
        self.unit = FUNCTIONS[function][1]
        return self._reading(self.transport.query(f"MEAS:{name}? {argument}"))
