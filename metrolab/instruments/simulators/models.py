"""The physics behind the simulated instruments: settling, noise, drift, and the faults.

Values are floats in base units (V, A, Ω, MPa, °C). Time is `time.monotonic()`.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class Faults:
    """Faults injectable into a simulator while it runs.

    - `silent`: commands are read but never answered (the driver times out);
    - `errors`: pushed into the instrument's error queue (`push_error`);
    - `serial`: when set, the serial number *IDN? reports (identity change);
    - `drift`: the output / reading drifts by `drift_rate` per second and never settles;
    - `self_test_code`: non-zero makes the self-test fail with that code.
    Closing the connection is a method of each simulator (`close_connections`).
    """

    silent: bool = False
    serial: str | None = None
    drift: bool = False
    drift_rate: float = 0.0
    self_test_code: int = 0
    errors: deque[str] = field(default_factory=deque)

    def push_error(self, text: str) -> None:
        self.errors.append(text)


class Settling:
    """A first-order approach from the previous value to a target with time constant `tau`."""

    def __init__(self, tau: float):
        self.tau = tau
        self.start = 0.0
        self.target = 0.0
        self.t0 = time.monotonic()

    def value(self, now: float) -> float:
        if self.tau <= 0:
            return self.target
        return self.target + (self.start - self.target) * math.exp(-(now - self.t0) / self.tau)

    def go(self, target: float, now: float) -> None:
        self.start = self.value(now)
        self.target = target
        self.t0 = now


class CalibratorModel:
    """A multifunction calibrator's output: settles exponentially (time constant `tau` s) to
    the set value while operating; 0 in standby. With `faults.drift` it adds
    `faults.drift_rate` × seconds since the drift began, so it never settles."""

    def __init__(self, tau: float = 0.0, faults: Faults | None = None):
        self.lock = threading.Lock()
        self.faults = faults or Faults()
        self.settling = Settling(tau)
        self.function = "dcv"
        self.unit = "V"
        self.setting = 0.0
        self.frequency = 0.0
        self.operating = False
        self.drift_since: float | None = None

    def set(self, function: str, unit: str, value: float, frequency: float = 0.0) -> None:
        with self.lock:
            self.function, self.unit, self.setting, self.frequency = (
                function,
                unit,
                value,
                frequency,
            )
            if self.operating:
                self.settling.go(value, time.monotonic())

    def operate(self, on: bool) -> None:
        with self.lock:
            self.operating = on
            self.settling.go(self.setting if on else 0.0, time.monotonic())

    def reset(self) -> None:
        with self.lock:
            self.function, self.unit, self.setting, self.frequency = "dcv", "V", 0.0, 0.0
            self.operating = False
            self.settling.go(0.0, time.monotonic())

    def output(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self.lock:
            value = self.settling.value(now)
            if self.faults.drift:
                if self.drift_since is None:
                    self.drift_since = now
                value += self.faults.drift_rate * (now - self.drift_since)
            else:
                self.drift_since = None
            return value


class DmmModel:
    """A DMM wired to a calibrator: reading = output × (1 + gain_error) + offset + N(0, σ),
    the noise from a seeded generator."""

    def __init__(
        self,
        source: CalibratorModel,
        *,
        gain_error: float = 0.0,
        offset: float = 0.0,
        sigma: float = 0.0,
        seed: int = 16,
        faults: Faults | None = None,
    ):
        self.source = source
        self.gain_error = gain_error
        self.offset = offset
        self.sigma = sigma
        self.random = random.Random(seed)  # noqa: S311 - simulated noise
        self.faults = faults or Faults()
        self.function = "dcv"
        self.range: float | None = None

    def expected(self) -> float:
        """The reading without noise, now."""
        return self.source.output() * (1 + self.gain_error) + self.offset

    def reading(self) -> float:
        noise = self.random.gauss(0.0, self.sigma) if self.sigma else 0.0
        return self.expected() + noise


class PressureModel:
    """A pressure controller: in control, the pressure settles to the set point (time
    constant `tau`); vented (standby) it settles to 0. Reading noise N(0, σ), seeded; drift
    as for the calibrator."""

    def __init__(
        self, tau: float = 0.0, sigma: float = 0.0, seed: int = 16, faults: Faults | None = None
    ):
        self.lock = threading.Lock()
        self.faults = faults or Faults()
        self.settling = Settling(tau)
        self.sigma = sigma
        self.random = random.Random(seed)  # noqa: S311 - simulated noise
        self.setpoint = 0.0
        self.controlling = False
        self.drift_since: float | None = None

    def set(self, setpoint: float) -> None:
        with self.lock:
            self.setpoint = setpoint
            if self.controlling:
                self.settling.go(setpoint, time.monotonic())

    def control(self, on: bool) -> None:
        with self.lock:
            self.controlling = on
            self.settling.go(self.setpoint if on else 0.0, time.monotonic())

    def reset(self) -> None:
        with self.lock:
            self.setpoint = 0.0
            self.controlling = False
            self.settling.go(0.0, time.monotonic())

    def expected(self) -> float:
        now = time.monotonic()
        with self.lock:
            value = self.settling.value(now)
            if self.faults.drift:
                if self.drift_since is None:
                    self.drift_since = now
                value += self.faults.drift_rate * (now - self.drift_since)
            else:
                self.drift_since = None
            return value

    def reading(self) -> float:
        noise = self.random.gauss(0.0, self.sigma) if self.sigma else 0.0
        return self.expected() + noise

    def stable(self, tolerance: float = 1e-4) -> bool:
        return abs(self.expected() - (self.setpoint if self.controlling else 0.0)) <= tolerance


class BathModel(PressureModel):
    """A temperature bath (same first-order physics, starting at `ambient` °C) with a
    thermometer bridge whose reading = bath temperature + `bridge_offset` + N(0, σ)."""

    def __init__(
        self,
        tau: float = 0.0,
        sigma: float = 0.0,
        seed: int = 16,
        ambient: float = 20.0,
        bridge_offset: float = 0.0,
        faults: Faults | None = None,
    ):
        super().__init__(tau=tau, sigma=sigma, seed=seed, faults=faults)
        self.ambient = ambient
        self.bridge_offset = bridge_offset
        self.setpoint = ambient
        self.settling.start = self.settling.target = ambient

    def control(self, on: bool) -> None:
        with self.lock:
            self.controlling = on
            self.settling.go(self.setpoint if on else self.ambient, time.monotonic())

    def reset(self) -> None:
        with self.lock:
            self.setpoint = self.ambient
            self.controlling = False
            self.settling.go(self.ambient, time.monotonic())

    def reading(self) -> float:
        return super().reading() + self.bridge_offset
