"""What every driver shares: identity checks, refusals of what the family cannot do, and the
parsing of identities and numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from metrolab.instruments.drivers.base import (
    Identity,
    IdentityChanged,
    InstrumentReportedError,
    Reading,
    UnsupportedFunction,
)

UNIT_PREFIXES = {"": Decimal(1), "m": Decimal("1e-3"), "u": Decimal("1e-6"), "µ": Decimal("1e-6")}
UNIT_PREFIXES |= {"k": Decimal("1e3"), "M": Decimal("1e6"), "n": Decimal("1e-9")}


def parse_identity(text: str) -> Identity:
    """ "MANUFACTURER,MODEL,SERIAL,FIRMWARE" (the *IDN? answer) as an Identity."""
    parts = [part.strip() for part in text.strip().split(",")]
    parts += [""] * (4 - len(parts))
    return Identity(parts[0], parts[1], parts[2], ",".join(parts[3:]).strip(","))


def parse_decimal(text: str, what: str = "reading") -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation as error:
        raise InstrumentReportedError([f"unreadable {what}: {text!r}"]) from error
    if not value.is_finite():
        raise InstrumentReportedError([f"unreadable {what}: {text!r}"])
    return value


def base_unit(unit: str, bases: tuple[str, ...]) -> tuple[str, Decimal]:
    """("mV", ("V",)) → ("V", 0.001): the base unit and the factor a value in `unit` takes."""
    for base in bases:
        if unit == base:
            return base, Decimal(1)
        if unit.endswith(base) and unit[: -len(base)] in UNIT_PREFIXES:
            return base, UNIT_PREFIXES[unit[: -len(base)]]
    raise UnsupportedFunction(f"unit {unit!r} is not one of {', '.join(bases)} (with a prefix)")


def now() -> datetime:
    return datetime.now(UTC)


class BaseDriver:
    """Defaults: a family refuses what it cannot do with UnsupportedFunction."""

    family = ""
    functions: frozenset[str] = frozenset()
    transports: frozenset[str] = frozenset()
    connected_identity: Identity | None = None

    def __init__(self, transport):
        self.transport = transport

    def check_function(self, function: str) -> None:
        if function not in self.functions:
            raise UnsupportedFunction(
                f"{self.family} has no function {function!r}; "
                f"it has {', '.join(sorted(self.functions))}"
            )

    def verify_identity(self, expected: Identity | None = None) -> Identity:
        """Reads the identity again; raises IdentityChanged when it differs from `expected`
        (by default the identity read at connect)."""
        expected = expected or self.connected_identity
        actual = self.identify()
        if expected is not None and actual != expected:
            raise IdentityChanged(expected, actual)
        return actual

    def set_output(self, function: str, value: Decimal, unit: str) -> None:
        raise UnsupportedFunction(f"{self.family} is not a source")

    def operate(self) -> None:
        raise UnsupportedFunction(f"{self.family} is not a source")

    def standby(self) -> None:
        raise UnsupportedFunction(f"{self.family} is not a source")

    def configure(self, function: str, range_: Decimal | None, unit: str) -> None:
        raise UnsupportedFunction(f"{self.family} is not a meter")

    def reading(self, text: str, unit: str) -> Reading:
        return Reading(parse_decimal(text), unit, now())

    def close(self) -> None:
        self.transport.close()


class ScpiDriver(BaseDriver):
    """SCPI families: *IDN?, *RST, *TST?, *OPC? and an error query (`error_query`,
    `no_error_code`). State-changing commands are followed by *OPC? and the error query; a
    non-empty queue raises InstrumentReportedError with every error it held."""

    transports = frozenset({"visa", "serial"})
    error_query = "SYST:ERR?"
    max_errors = 50

    def identify(self) -> Identity:
        return parse_identity(self.transport.query("*IDN?"))

    def reset(self) -> None:
        self.transport.write("*RST")
        self.complete()

    def self_test(self) -> list[str]:
        answer = self.transport.query("*TST?").strip()
        failures = [] if answer.lstrip("+") == "0" else [f"self-test failed: code {answer}"]
        return failures + self.errors()

    def complete(self) -> None:
        """Waits for the pending operations (*OPC?), then raises the queued errors if any."""
        self.transport.query("*OPC?")
        self.raise_errors()

    def raise_errors(self) -> None:
        errors = self.errors()
        if errors:
            raise InstrumentReportedError(errors)

    def errors(self) -> list[str]:
        errors = []
        for _ in range(self.max_errors):
            answer = self.transport.query(self.error_query).strip()
            code = answer.split(",", 1)[0].strip().lstrip("+")
            if code in ("0", "-0", ""):
                break
            errors.append(answer)
        return errors

    def command(self, command: str) -> None:
        self.transport.write(command)
        self.complete()
