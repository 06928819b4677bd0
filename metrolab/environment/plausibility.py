"""What a reading may be (R6.11b "sense and record continuously", R7.1b): the physical limits
of each quantity, in one table, narrowed by a sensor's own plausible range (its measuring
range, say) when one is configured.

The ingester refuses a value outside them (`implausible_value`), so that a broken probe or a
garbled payload never reaches the plots, the alarms, the rules or the conditions stored with
a record. The limits are physical, not the room's requirements: a temperature of 40 ℃ in a
20 ± 2 ℃ lab is implausible for nobody, it is an alarm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _

from metrolab.environment.models import Quantity, Sensor


@dataclass(frozen=True)
class Limits:
    """An interval of values; an open end is no limit on that side. `low_strict`: the value
    must be above `low` (absolute zero, a pressure of 0), not merely at least `low`."""

    low: float | None = None
    high: float | None = None
    low_strict: bool = False

    def admits(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_strict else value < self.low):
            return False
        return self.high is None or value <= self.high

    def text(self, unit: str) -> str:
        """The limits as people write them, in the active language: "0–100 %RH",
        "above -273.15 ℃", "at least 0 lx"."""
        unit = f" {unit}" if unit else ""
        low, high = self.low, self.high
        if low is not None and high is not None:
            return f"{number(low)}–{number(high)}{unit}"
        if low is not None:
            if self.low_strict:
                return _("above %(low)s") % {"low": f"{number(low)}{unit}"}
            return _("at least %(low)s") % {"low": f"{number(low)}{unit}"}
        if high is not None:
            return _("at most %(high)s") % {"high": f"{number(high)}{unit}"}
        return _("any value")


NO_LIMITS = Limits()


def _above(low: float) -> Limits:
    return Limits(low=low, low_strict=True)


def _at_least(low: float) -> Limits:
    return Limits(low=low)


def _between(low: float, high: float) -> Limits:
    return Limits(low=low, high=high)


# The physical limits of each quantity, by the sensor's unit; the key None applies to every
# other unit. A unit not listed for a quantity without a None entry has no physical limit
# (a temperature in an unknown scale: its absolute zero is unknown).
PHYSICAL_LIMITS: dict[str, dict[str | None, Limits]] = {
    # Absolute zero, on each scale.
    Quantity.TEMPERATURE: {
        "℃": _above(-273.15),
        "°C": _above(-273.15),
        "K": _above(0),
        "℉": _above(-459.67),
        "°F": _above(-459.67),
    },
    # Relative humidity is a percentage, whatever the unit is written as.
    Quantity.HUMIDITY: {None: _between(0, 100)},
    # Atmospheric (absolute) pressure.
    Quantity.PRESSURE: {None: _above(0)},
    Quantity.ILLUMINATION: {None: _at_least(0)},
    # A sound level in dB(A) of a room: the ingester refuses what no lab meter reports.
    Quantity.NOISE: {None: _at_least(0)},
    # Vibration velocity (RMS), air speed, supply voltage (RMS) and frequency: magnitudes.
    Quantity.VIBRATION: {None: _at_least(0)},
    Quantity.AIR_SPEED: {None: _at_least(0)},
    Quantity.VOLTAGE: {None: _at_least(0)},
    Quantity.FREQUENCY: {None: _at_least(0)},
    # A concentration: a part of the whole.
    Quantity.GAS: {
        "ppm": _between(0, 1_000_000),
        "%": _between(0, 100),
        "%VOL": _between(0, 100),
        None: _at_least(0),
    },
}


def physical_limits(quantity: str, unit: str) -> Limits:
    """The physical limits of `quantity` measured in `unit` (PHYSICAL_LIMITS)."""
    by_unit = PHYSICAL_LIMITS.get(quantity, {})
    return by_unit.get((unit or "").strip(), by_unit.get(None, NO_LIMITS))


def configured_limits(sensor: Sensor) -> Limits:
    """The sensor's own plausible range (an open end where none is configured)."""
    return Limits(low=sensor.plausible_low, high=sensor.plausible_high)


def number(value: float | Decimal) -> str:
    """A value in a message: 20.5, -273.15, 1e+06 only when it is huge (never 309 digits)."""
    value = float(value)
    if math.isfinite(value) and abs(value) < 1e15:
        text = format(Decimal(f"{value:.10g}").normalize(), "f")
        return "0" if text in ("-0", "") else text
    return f"{value:.6g}"


@dataclass(frozen=True)
class ValueCheck:
    """The plausibility check of one sensor's values, built once per sensor and batch:
    `problem(value)` is None for a plausible value, else the reason it is refused (in English,
    like the ingester's other reasons: devices read them, not people)."""

    physical: Limits
    configured: Limits
    physical_reason: str  # "... for relative humidity (0–100 %RH)"
    configured_reason: str  # "... plausible range (0–50 %RH)"

    @classmethod
    def of(cls, sensor: Sensor) -> ValueCheck:
        physical = physical_limits(sensor.quantity, sensor.unit)
        configured = configured_limits(sensor)
        with translation.override("en"):
            quantity = (
                str(Quantity(sensor.quantity).label)
                if sensor.quantity in Quantity.values
                else sensor.quantity
            )
            return cls(
                physical,
                configured,
                f"is physically impossible for {quantity} ({physical.text(sensor.unit)})",
                f"is outside this sensor's plausible range ({configured.text(sensor.unit)})",
            )

    def problem(self, value: float) -> str | None:
        if not self.physical.admits(value):
            return f"The value {number(value)} {self.physical_reason}."
        if not self.configured.admits(value):
            return f"The value {number(value)} {self.configured_reason}."
        return None
