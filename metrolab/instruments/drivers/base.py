"""The driver interface every instrument family implements (R8a, R5.2, issue 16).

A driver maps a small command set (identify, reset, self-test, set output, operate/standby,
configure, read, error query) to one instrument family's language. The executor of a
procedure run only ever talks to this interface; the transport (VISA, Modbus, serial) is
chosen by `metrolab.instruments.connections.open_driver`.

Every fault a driver meets is raised as one of the `InstrumentError` subclasses below, so
that a run can pause with a precise reason (timeout, instrument error, lost connection,
identity changed) instead of leaving a half-written record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

Transcript = Callable[[str, str], None]
"""`transcript(direction, text)`: ">" for every command sent, "<" for every answer."""


@dataclass(frozen=True)
class Identity:
    """Who the instrument says it is (from *IDN? or the family's equivalent)."""

    manufacturer: str
    model: str
    serial: str
    firmware: str


@dataclass(frozen=True)
class Reading:
    """One reading, with the exact decimal value the instrument printed."""

    value: Decimal  # exact decimal as the instrument printed it
    unit: str  # "V", "MPa", "°C", ...
    at: datetime  # aware UTC, when it was read


class InstrumentError(Exception):
    """Base of every instrument fault."""


class InstrumentTimeout(InstrumentError):
    """The instrument did not answer in time."""


class InstrumentReportedError(InstrumentError):
    """The instrument's error queue (ERR? / SYST:ERR?) is not empty; `.errors` lists it."""

    def __init__(self, errors: list[str], message: str | None = None):
        self.errors = list(errors)
        super().__init__(message or "; ".join(self.errors))


class ConnectionLost(InstrumentError):
    """The connection is gone (socket closed, serial port gone)."""


class IdentityChanged(InstrumentError):
    """*IDN? now differs from the identity expected (the one seen at connect)."""

    def __init__(self, expected: Identity, actual: Identity):
        self.expected = expected
        self.actual = actual
        super().__init__(f"identity changed: expected {expected}, got {actual}")


class UnsupportedFunction(InstrumentError):
    """The driver's family cannot do what was asked (a meter asked to source, ...)."""


@runtime_checkable
class Driver(Protocol):
    family: str  # "fluke55xx", "dmm34401", "pressure", "bath"
    functions: frozenset[str]  # e.g. {"dcv", "acv", "resistance", "pressure", "temperature"}

    def identify(self) -> Identity: ...

    def reset(self) -> None: ...

    def self_test(self) -> list[str]:  # [] when it passes
        ...

    def set_output(self, function: str, value: Decimal, unit: str) -> None:  # sources
        ...

    def operate(self) -> None:  # output on (calibrator OPER)
        ...

    def standby(self) -> None:  # output off (STBY)
        ...

    def configure(self, function: str, range_: Decimal | None, unit: str) -> None:  # meters
        ...

    def read(self) -> Reading:  # one reading (READ? / MEAS?)
        ...

    def errors(self) -> list[str]:  # drains the error queue; [] when none
        ...

    def close(self) -> None: ...
