"""Temperature bath with a thermometer readout, serial ASCII (Fluke/Hart-style, issue 16).

The protocol (one answer line per command; CR to the bath, CR LF back; see
`simulators/serial_bath.py` and docs/instruments.md):

    *IDN? -> HART,7341,B23456,1.20     s=50.000 -> set: 50.000 C     s -> set: 50.000 C
    r -> r: 50.00123 C (reference thermometer)   t -> t: 49.998 C (bath control sensor)
    o=1 / o=0 -> o: 1 / o: 0           *tst? -> 0      err? -> 0,No Error      *rst -> ok

Set point and operate/standby are checked against their echo and followed by err?.
"""

from __future__ import annotations

from decimal import Decimal

from metrolab.instruments.drivers.base import (
    Identity,
    InstrumentReportedError,
    Reading,
    UnsupportedFunction,
)
from metrolab.instruments.drivers.common import (
    BaseDriver,
    now,
    parse_decimal,
    parse_identity,
)

UNITS = ("°C", "℃", "C")


class Bath(BaseDriver):
    family = "bath"
    functions = frozenset({"temperature"})
    transports = frozenset({"serial", "visa"})

    def _answer(self, command: str, prefix: str) -> str:
        answer = self.transport.query(command).strip()
        if not answer.startswith(prefix):
            self.raise_errors([f"unexpected answer to {command!r}: {answer!r}"])
        return answer[len(prefix) :].strip()

    def identify(self) -> Identity:
        return parse_identity(self.transport.query("*IDN?"))

    def reset(self) -> None:
        self._answer("*rst", "ok")
        self.raise_errors()

    def self_test(self) -> list[str]:
        answer = self.transport.query("*tst?").strip()
        failures = [] if answer == "0" else [f"self-test failed: code {answer}"]
        return failures + self.errors()

    def errors(self) -> list[str]:
        errors = []
        for _ in range(50):
            answer = self.transport.query("err?").strip()
            if answer.split(",", 1)[0].strip() in ("0", ""):
                break
            errors.append(answer)
        return errors

    def raise_errors(self, extra: list[str] | None = None) -> None:
        errors = (extra or []) + self.errors()
        if errors:
            raise InstrumentReportedError(errors)

    def set_output(self, function: str, value: Decimal, unit: str) -> None:
        self.check_function(function)
        if unit not in UNITS:
            raise UnsupportedFunction(f"the bath is set in °C, not {unit!r}")
        answer = self._answer(f"s={value:.3f}", "set:")
        self.raise_errors()
        echoed = parse_decimal(answer.split()[0], "set point")
        if echoed != value.quantize(Decimal("0.001")):
            raise InstrumentReportedError([f"set point not taken: {answer}"])

    def operate(self) -> None:
        self._switch(1)

    def standby(self) -> None:
        self._switch(0)

    def _switch(self, on: int) -> None:
        answer = self._answer(f"o={on}", "o:")
        self.raise_errors()
        if answer != str(on):
            raise InstrumentReportedError([f"control not switched: o: {answer}"])

    def configure(self, function: str, range_: Decimal | None, unit: str) -> None:
        self.check_function(function)
        if unit not in UNITS:
            raise UnsupportedFunction(f"the readout reads °C, not {unit!r}")

    def read(self) -> Reading:
        """The reference thermometer on the readout (r)."""
        return Reading(parse_decimal(self._answer("r", "r:").split()[0]), "°C", now())

    def bath_temperature(self) -> Reading:
        """The bath's own control sensor (t)."""
        return Reading(parse_decimal(self._answer("t", "t:").split()[0]), "°C", now())
