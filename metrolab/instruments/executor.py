"""The executor of a procedure run (R8b, R6.2a, R6.4e; issue 16): runs a planned procedure's
steps against connected drivers, one role each, synchronously (the worker runs it in the
background and persists its `RunState`).

    executor = Executor(plan, {"source": calibrator, "uut": dmm}, on_reading=write_cell)
    state = executor.run()           # returns when done, paused, waiting for a prompt, aborted
    executor.confirm(); executor.run()          # after an operator prompt
    executor.resume()                           # after a fault or a pause: from that step
    executor.abort("operator: wrong leads")

Faults are first-class. Any `InstrumentError` (timeout, an error in the instrument's queue
after a command, connection lost, identity changed), a reading that never settles, a reading
in another unit, or a refusal of `check_before_step` leaves the run PAUSED at the step with
the reason. The readings of a step reach `on_reading` only once the whole step has succeeded:
a failed step's readings are discarded and re-taken when the run resumes from that step, so
the record never holds a half-measured point. Sources are put to standby when a run pauses
(on a fault or by the operator) or is aborted; a measuring step sets its output again.

Pure Python: no Django. Numbers are Decimal; times aware UTC from the injectable clock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from metrolab.instruments.drivers.base import (
    ConnectionLost,
    Driver,
    Identity,
    IdentityChanged,
    InstrumentError,
    InstrumentReportedError,
    InstrumentTimeout,
    Reading,
)
from metrolab.instruments.procedure import (
    CompiledProcedure,
    MeasureStep,
    Plan,
    PromptStep,
    SetupStep,
    StandbyStep,
)
from metrolab.metrology.units import same_unit

__all__ = [
    "FAULT_KINDS",
    "STATUSES",
    "Executor",
    "NeverSettled",
    "RunState",
    "StepRefused",
]

STATE_FORMAT = "metrolab-run-state/1"
#: ready: not started; running; paused: by a person or a fault (see `fault`); waiting_prompt:
#: an operator prompt awaits confirmation; aborted (see `abort_reason`); done.
STATUSES = ("ready", "running", "paused", "waiting_prompt", "aborted", "done")
#: The kinds of fault a paused run names.
FAULT_KINDS = (
    "timeout",
    "instrument_error",
    "connection_lost",
    "identity_changed",
    "never_settled",
    "unit",
    "refused",
    "missing_driver",
    "self_test",
    "instrument",
)


class NeverSettled(Exception):
    """The read role's readings did not settle within the step's max settle time."""


class StepRefused(Exception):
    """`check_before_step` refused the step (eligibility of the equipment or the person)."""


class _PauseRequested(Exception):
    pass


class _AbortRequested(Exception):
    pass


@dataclass
class RunState:
    """Everything needed to continue a run after a restart (JSON via `to_json`)."""

    status: str = "ready"
    step: int = 0  # index of the current step in the plan
    readings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # step → readings
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # step → the step report
    settle: dict[str, Any] | None = None  # the current step's settle readings and elapsed time
    fault: dict[str, Any] | None = None  # {"step", "kind", "message", "role", "at"}
    abort_reason: str | None = None
    identities: dict[str, dict[str, str]] = field(default_factory=dict)  # role → identity
    prompt_confirmed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"format": STATE_FORMAT, **asdict(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunState:
        values = {k: v for k, v in data.items() if k != "format"}
        return cls(**values)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_FAULTS: tuple[tuple[type[BaseException], str], ...] = (
    (InstrumentTimeout, "timeout"),
    (InstrumentReportedError, "instrument_error"),
    (ConnectionLost, "connection_lost"),
    (IdentityChanged, "identity_changed"),
    (NeverSettled, "never_settled"),
    (StepRefused, "refused"),
)


class _Fault(Exception):
    def __init__(self, kind: str, message: str, role: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.role = role


class Executor:
    """Runs `plan` (a `Plan`, or a `CompiledProcedure` whose points are listed) with
    `drivers` {role: Driver}.

    - `on_reading(cell_id, reading, role, identity)`: each reading of a step that succeeded;
    - `on_readings([(cell_id, reading), ...], role, identity)`: a step's readings at once
      (one write of the whole point: all of them or none reach the record);
    - `on_prompt(step, message)`: an operator prompt is waiting (`confirm()` answers it);
    - `check_before_step(step, state)`: None to go on, or the reason (text) for refusing;
      asked before every step (the eligibility service: equipment status, qualification);
    - `on_event(kind, data)`: progress ("step", "settle", "reading", "result", "prompt",
      "paused", "resumed", "aborted", "done");
    - `clock()` → aware UTC datetime, `sleep(seconds)`: injectable (tests run fast).
    """

    def __init__(
        self,
        procedure: Plan | CompiledProcedure,
        drivers: Mapping[str, Driver],
        *,
        state: RunState | None = None,
        on_reading: Callable[[str, Reading, str, Identity], None] | None = None,
        on_readings: Callable[[list[tuple[str, Reading]], str, Identity], None] | None = None,
        on_prompt: Callable[[PromptStep, Mapping[str, str]], None] | None = None,
        check_before_step: Callable[[Any, RunState], str | None] | None = None,
        on_event: Callable[[str, Mapping[str, Any]], None] | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.plan = procedure.plan() if isinstance(procedure, CompiledProcedure) else procedure
        self.drivers = dict(drivers)
        self.state = state or RunState()
        self.on_reading = on_reading
        self.on_readings = on_readings
        self.on_prompt = on_prompt
        self.check_before_step = check_before_step
        self.on_event = on_event
        self.clock = clock
        self.sleep = sleep
        self._pause_requested = False
        self._abort_reason: str | None = None

    # -- control (safe to call from another thread while `run` works) --

    def pause(self) -> None:
        """Pause at the next opportunity; the current step is discarded and re-taken."""
        if self.state.status == "running":
            self._pause_requested = True
        elif self.state.status in ("ready", "waiting_prompt"):
            self._set_paused(None)

    def abort(self, reason: str) -> RunState:
        """End the run for good with `reason` (required); sources go to standby."""
        reason = (reason or "").strip()
        if not reason:
            raise ValueError("an abort needs a reason")
        if self.state.status in ("done", "aborted"):
            return self.state
        if self.state.status == "running":
            self._abort_reason = reason
            return self.state
        self._do_abort(reason)
        return self.state

    def confirm(self) -> None:
        """The operator confirmed the waiting prompt; `run()` continues after it."""
        if self.state.status != "waiting_prompt":
            raise ValueError("no prompt is waiting")
        self.state.prompt_confirmed = True
        self.state.status = "running"

    def resume(self) -> RunState:
        """Continue a paused run FROM the step it paused at (its readings re-taken)."""
        if self.state.status != "paused":
            raise ValueError(f"a {self.state.status} run cannot be resumed")
        self.state.fault = None
        self.state.status = "running"
        self._emit("resumed", {"step": self.state.step})
        return self.run()

    # -- running --

    def run(self) -> RunState:
        """Run steps from the current one until done, paused, waiting_prompt or aborted."""
        state = self.state
        if state.status in ("done", "aborted", "paused"):
            return state
        if state.status == "waiting_prompt" and not state.prompt_confirmed:
            return state
        state.status = "running"
        try:
            if not state.identities:
                self._identify_all()
            while state.step < len(self.plan.steps):
                step = self.plan.steps[state.step]
                self._check_control()
                self._before_step(step)
                self._emit("step", {"step": step.index, "name": step.name, "kind": step.kind})
                if isinstance(step, PromptStep):
                    if not state.prompt_confirmed:
                        state.status = "waiting_prompt"
                        self._emit("prompt", {"step": step.index, "message": dict(step.message)})
                        if self.on_prompt:
                            self.on_prompt(step, step.message)
                        return state
                    state.prompt_confirmed = False
                elif isinstance(step, SetupStep):
                    self._setup(step)
                elif isinstance(step, MeasureStep):
                    self._measure(step)
                elif isinstance(step, StandbyStep):
                    for role in step.roles:
                        self._command(role, lambda d: d.standby())
                state.step += 1
        except _PauseRequested:
            self._discard_current()
            self._safe_standby()
            self._set_paused(None)
            return state
        except _AbortRequested:
            self._discard_current()
            self._do_abort(self._abort_reason or "")
            return state
        except _Fault as fault:
            self._discard_current()
            self._safe_standby()
            self._set_paused(fault)
            return state
        state.status = "done"
        state.settle = None
        self._emit("done", {"results": state.results})
        return state

    # -- steps --

    def _identify_all(self) -> None:
        for role in self.plan.roles:
            driver = self._driver(role)
            identity = self._guard(role, driver.identify)
            self.state.identities[role] = asdict(identity)

    def _before_step(self, step) -> None:
        for role, expected in self.state.identities.items():
            driver = self._driver(role)
            actual = self._guard(role, driver.identify)
            if asdict(actual) != expected:
                exc = IdentityChanged(Identity(**expected), actual)
                raise _Fault("identity_changed", str(exc), role)
        if self.check_before_step is not None:
            reason = self.check_before_step(step, self.state)
            if reason:
                raise _Fault("refused", str(reason))

    def _setup(self, step: SetupStep) -> None:
        if step.reset:
            self._command(step.role, lambda d: d.reset())
        if step.self_test:
            failures = self._guard(step.role, self._driver(step.role).self_test)
            if failures:
                raise _Fault("self_test", "; ".join(failures), step.role)
        if step.function:
            self._command(
                step.role, lambda d: d.configure(step.function, step.range, step.unit or "")
            )

    def _measure(self, step: MeasureStep) -> None:
        state = self.state
        key = str(step.index)
        state.readings.pop(key, None)
        state.results.pop(key, None)
        self._command(step.read, lambda d: d.configure(step.function, step.range, step.unit))
        if step.source:
            self._command(
                step.source, lambda d: d.set_output(step.function, step.nominal, step.unit)
            )
            self._command(step.source, lambda d: d.operate())
        self._settle(step)
        taken: list[tuple[str, Reading]] = []
        for n, cell in enumerate(step.cells):
            if n and step.interval:
                self.sleep(float(step.interval))
            self._check_control()
            reading = self._read(step)
            taken.append((cell, reading))
            self._emit("reading", {"step": step.index, "cell": cell, "value": str(reading.value)})
        # the whole step succeeded: now, and only now, the readings reach the record
        identity = Identity(**state.identities[step.read])
        state.readings[key] = [
            {"cell": c, "value": str(r.value), "unit": r.unit, "at": r.at.isoformat()}
            for c, r in taken
        ]
        if self.on_reading:
            for cell, reading in taken:
                self.on_reading(cell, reading, step.read, identity)
        if self.on_readings:
            self.on_readings(list(taken), step.read, identity)
        state.results[key] = report = step_report(step, [r.value for _c, r in taken])
        state.settle = None
        self._emit("result", {"step": step.index, **report})

    def _settle(self, step: MeasureStep) -> None:
        rule = step.settle
        state = self.state
        if rule["rule"] == "wait":
            state.settle = {"step": step.index, "rule": "wait", "seconds": str(rule["seconds"])}
            self._emit("settle", dict(state.settle))
            self.sleep(float(rule["seconds"]))
            return
        last, below = int(rule["last"]), rule["below"]
        limit = rule["max_seconds"]
        interval = float(rule.get("interval") or 0)
        started = self.clock()
        values: list[Decimal] = []
        while True:
            self._check_control()
            values.append(self._read(step).value)
            values = values[-last:]
            elapsed = Decimal(str((self.clock() - started).total_seconds()))
            spread = _stdev(values) if len(values) >= last else None
            state.settle = {
                "step": step.index,
                "rule": "stdev",
                "readings": [str(v) for v in values],
                "stdev": None if spread is None else str(spread),
                "elapsed": str(elapsed),
            }
            self._emit("settle", dict(state.settle))
            if spread is not None and spread < below:
                return
            if elapsed >= limit:
                raise _Fault(
                    "never_settled",
                    f"the readings did not settle in {limit} s (standard deviation of the "
                    f"last {last}: {spread if spread is not None else 'n/a'}, wanted < {below})",
                    step.read,
                )
            self.sleep(interval)

    def _read(self, step: MeasureStep) -> Reading:
        reading = self._command(step.read, lambda d: d.read())
        if not same_unit(reading.unit, step.unit):
            message = f"the reading is in {reading.unit!r}, the step wants {step.unit!r}"
            raise _Fault("unit", message, step.read)
        return reading

    # -- plumbing --

    def _driver(self, role: str) -> Driver:
        driver = self.drivers.get(role)
        if driver is None:
            message = f"no instrument is connected for the role {role!r}"
            raise _Fault("missing_driver", message, role)
        return driver

    def _guard(self, role: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except InstrumentError as exc:
            raise _fault_of(exc, role) from exc

    def _command(self, role: str, call: Callable[[Driver], Any]) -> Any:
        """One command, then the instrument's error queue: a non-empty queue is a fault."""
        driver = self._driver(role)
        result = self._guard(role, lambda: call(driver))
        queue = self._guard(role, driver.errors)
        if queue:
            raise _fault_of(InstrumentReportedError(queue), role)
        return result

    def _check_control(self) -> None:
        if self._abort_reason is not None:
            raise _AbortRequested
        if self._pause_requested:
            raise _PauseRequested

    def _discard_current(self) -> None:
        key = str(self.state.step)
        self.state.readings.pop(key, None)
        self.state.results.pop(key, None)
        self.state.settle = None

    def _safe_standby(self) -> None:
        for role in self.plan.source_roles():
            driver = self.drivers.get(role)
            if driver is None:
                continue
            with contextlib.suppress(InstrumentError):
                driver.standby()

    def _set_paused(self, fault: _Fault | None) -> None:
        self._pause_requested = False
        self.state.status = "paused"
        if fault is not None:
            steps = self.plan.steps
            step = steps[self.state.step] if self.state.step < len(steps) else None
            self.state.fault = {
                "step": self.state.step,
                "name": step.name if step else None,
                "kind": fault.kind,
                "message": fault.message,
                "role": fault.role,
                "at": self.clock().isoformat(),
            }
        self._emit("paused", {"step": self.state.step, "fault": self.state.fault})

    def _do_abort(self, reason: str) -> None:
        self._safe_standby()
        self.state.status = "aborted"
        self.state.abort_reason = reason
        self.state.settle = None
        self._abort_reason = None
        self._emit("aborted", {"step": self.state.step, "reason": reason})

    def _emit(self, kind: str, data: Mapping[str, Any]) -> None:
        if self.on_event:
            self.on_event(kind, data)


def _mean(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


def _stdev(values: list[Decimal]) -> Decimal:
    """Experimental standard deviation s (n − 1), exact to Decimal's 28 digits."""
    centre = _mean(values)
    return (sum(((v - centre) ** 2 for v in values), Decimal(0)) / (len(values) - 1)).sqrt()


def _fault_of(exc: BaseException, role: str | None) -> _Fault:
    for cls, kind in _FAULTS:
        if isinstance(exc, cls):
            return _Fault(kind, str(exc) or cls.__name__, role)
    return _Fault("instrument", str(exc) or type(exc).__name__, role)


def step_report(step: MeasureStep, values: list[Decimal]) -> dict[str, Any]:
    """The MET/CAL-style report of a measure step: nominal, mean, error = mean − nominal,
    tolerance ±T, % of tolerance = |error| / T × 100, pass when |error| ≤ T, and TUR = T /
    the standard's accuracy at the point (when the step gives `standard_accuracy`)."""
    mean = _mean(values)
    error = mean - step.nominal
    report: dict[str, Any] = {
        "nominal": str(step.nominal),
        "unit": step.unit,
        "mean": str(mean),
        "error": str(error),
        "tolerance": None,
        "percent_of_tolerance": None,
        "passed": None,
        "tur": None,
    }
    limit = step.tolerance_limit()
    if limit is not None and limit > 0:
        report["tolerance"] = str(limit)
        report["percent_of_tolerance"] = str((abs(error) / limit * 100).quantize(Decimal("0.01")))
        report["passed"] = abs(error) <= limit
        standard = step.standard_limit()
        if standard:
            report["tur"] = str((limit / standard).quantize(Decimal("0.01")))
    return report
