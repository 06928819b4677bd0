"""Multifunction calibrator, Fluke 5522A-style SCPI (R8a, issue 16).

    *IDN?  *RST  *TST? ("0" = passed)  *OPC?
    OUT 10 V | OUT 1 MA | OUT 1 V, 1000 HZ | OUT 100 OHM    set the output
    OUT?   -> "+1.000000E+01,V,+0.000000E+00"               the output setting
    OPER / STBY                                              output on / off
    ERR?   -> "0,No Error" when the queue is empty

Every setting is followed by *OPC? and ERR?; an error raises InstrumentReportedError.
`read()` reads the output setting (OUT?): a calibrator is not a meter.
"""

from __future__ import annotations

from decimal import Decimal

from metrolab.instruments.drivers.base import Reading
from metrolab.instruments.drivers.common import ScpiDriver, base_unit, now, parse_decimal

UNITS = {"dcv": ("V",), "acv": ("V",), "dci": ("A",), "aci": ("A",), "resistance": ("Ω", "ohm")}
TOKENS = {
    ("V", Decimal(1)): "V",
    ("V", Decimal("1e-3")): "MV",
    ("V", Decimal("1e-6")): "UV",
    ("A", Decimal(1)): "A",
    ("A", Decimal("1e-3")): "MA",
    ("A", Decimal("1e-6")): "UA",
    ("Ω", Decimal(1)): "OHM",
    ("Ω", Decimal("1e3")): "KOHM",
    ("Ω", Decimal("1e6")): "MOHM",
}


class Fluke55xx(ScpiDriver):
    family = "fluke55xx"
    functions = frozenset(UNITS)
    error_query = "ERR?"
    frequency = Decimal(1000)  # Hz, for the AC functions

    def set_output(self, function: str, value: Decimal, unit: str) -> None:
        self.check_function(function)
        base, factor = base_unit(unit, UNITS[function])
        base = "Ω" if base == "ohm" else base
        token = TOKENS.get((base, factor))
        if token is None:
            token, value = TOKENS[(base, Decimal(1))], value * factor
        command = f"OUT {value:f} {token}"
        if function in ("acv", "aci"):
            command += f", {self.frequency:f} HZ"
        self.command(command)

    def operate(self) -> None:
        self.command("OPER")

    def standby(self) -> None:
        self.command("STBY")

    def read(self) -> Reading:
        value, unit = self.transport.query("OUT?").split(",")[:2]
        return Reading(parse_decimal(value), "Ω" if unit.strip() == "OHM" else unit.strip(), now())
