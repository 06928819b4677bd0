"""The procedure executor (issue 16: R8b, R6.2a, R6.4e) against in-test drivers that
implement the driver Protocol over one shared model of the bench: a calibrator whose output a
DMM reads with a known gain and offset, a settling transient and a small repeating noise.

The model (`Bench`): the DMM indicates gain × output + offset with gain = 1 + 20 ppm and
offset = +20 µV, quantized to its 10 µV resolution, plus
- a transient after each change of output: +500 µV on the first reading, +50 µV on the second;
- a noise pattern (0, +10, 0, −10, 0) µV repeating with the number of readings since the
  change.
With the settle rule "standard deviation of the last 3 below 20 µV": readings 0-2 (+500,
+60, 0 µV) and 1-3 (+60, 0, −10) do not settle (s = 37.8 µV), readings 2-4 (0, −10, 0) do
(s = 5.77 µV); readings 5-9 are recorded: base + (0, +10, 0, −10, 0) µV, mean = base.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from metrolab.instruments.drivers.base import (
    ConnectionLost,
    Driver,
    Identity,
    InstrumentTimeout,
    Reading,
)
from metrolab.instruments.executor import Executor, RunState
from metrolab.instruments.procedure import builtin_procedures, compile_procedure
from metrolab.metrology.record_template import builtin_templates, compile_template

D = Decimal
UV = D("0.000001")
GAIN = D("1.000020")
OFFSET = D("0.000020")
TRANSIENT = (D("0.000500"), D("0.000050"))
NOISE = (0, 10, 0, -10, 0)  # µV


class Clock:
    """A fake clock: `sleep` advances it; every reading takes 0.1 s."""

    def __init__(self):
        self.now = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@dataclass
class Bench:
    clock: Clock
    output: Decimal = Decimal(0)
    operating: bool = False
    reads_since_change: int = 0
    noise: tuple[int, ...] = NOISE
    history: list[str] = field(default_factory=list)

    def indication(self) -> Decimal:
        n = self.reads_since_change
        self.reads_since_change += 1
        value = (GAIN * self.output + OFFSET) if self.operating else OFFSET
        if n < len(TRANSIENT):
            value += TRANSIENT[n]
        value += self.noise[n % len(self.noise)] * UV
        return value.quantize(D("0.00001"))


class FakeInstrument:
    """The driver Protocol over the bench; `fail(method, call, exc)` makes the `call`-th call
    of `method` raise `exc`, `queue(method, call, msg)` puts an error in the queue instead."""

    family = "fake"

    def __init__(self, bench: Bench, identity: Identity):
        self.bench = bench
        self.identity = identity
        self.calls: dict[str, int] = {}
        self.failures: dict[tuple[str, int], Exception] = {}
        self.queued: dict[tuple[str, int], str] = {}
        self.error_queue: list[str] = []
        self.swaps: dict[int, Identity] = {}  # identify call → the identity it reports from then

    def fail(self, method: str, call: int, exc: Exception) -> None:
        self.failures[(method, call)] = exc

    def queue(self, method: str, call: int, message: str) -> None:
        self.queued[(method, call)] = message

    def _call(self, method: str) -> None:
        n = self.calls[method] = self.calls.get(method, 0) + 1
        self.bench.history.append(f"{self.family}.{method}")
        if (method, n) in self.failures:
            raise self.failures.pop((method, n))
        if (method, n) in self.queued:
            self.error_queue.append(self.queued.pop((method, n)))

    def identify(self) -> Identity:
        self._call("identify")
        self.identity = self.swaps.pop(self.calls["identify"], self.identity)
        return self.identity

    def reset(self) -> None:
        self._call("reset")

    def self_test(self) -> list[str]:
        self._call("self_test")
        return []

    def errors(self) -> list[str]:
        found, self.error_queue = self.error_queue, []
        return found

    def close(self) -> None:
        pass


class FakeCalibrator(FakeInstrument):
    family = "calibrator"
    functions = frozenset({"dcv"})

    def set_output(self, function: str, value: Decimal, unit: str) -> None:
        self._call("set_output")
        assert (function, unit) == ("dcv", "V")
        self.bench.output = value
        self.bench.reads_since_change = 0

    def operate(self) -> None:
        self._call("operate")
        if not self.bench.operating:
            self.bench.reads_since_change = 0
        self.bench.operating = True

    def standby(self) -> None:
        self._call("standby")
        self.bench.operating = False

    def reset(self) -> None:
        super().reset()
        self.bench.output, self.bench.operating = D(0), False

    def configure(self, function, range_, unit) -> None:
        raise AssertionError("a calibrator is not configured as a meter")

    def read(self) -> Reading:
        raise AssertionError("a calibrator is not read")


class FakeDMM(FakeInstrument):
    family = "dmm"
    functions = frozenset({"dcv"})

    def __init__(self, bench, identity):
        super().__init__(bench, identity)
        self.configured = None

    def configure(self, function, range_, unit) -> None:
        self._call("configure")
        self.configured = (function, range_, unit)

    def read(self) -> Reading:
        self._call("read")
        value = self.bench.indication()
        self.bench.clock.sleep(0.1)
        return Reading(value, "V", self.bench.clock())

    def set_output(self, function, value, unit) -> None:
        raise AssertionError("a DMM has no output")

    def operate(self) -> None:
        raise AssertionError("a DMM has no output")

    def standby(self) -> None:
        raise AssertionError("a DMM has no output")


CAL_ID = Identity("FLUKE", "5522A", "9876543", "2.1")
DMM_ID = Identity("KEYSIGHT", "34401A", "MY41000123", "11-5-2")


@pytest.fixture
def template():
    return builtin_templates()["dmm-dc-voltage"]


@pytest.fixture
def plan(template):
    compiled = compile_procedure(builtin_procedures()["dmm-dc-voltage"], template=template)
    return compiled.plan({}, template=template)


@pytest.fixture
def rig():
    clock = Clock()
    bench = Bench(clock)
    return {
        "clock": clock,
        "bench": bench,
        "source": FakeCalibrator(bench, CAL_ID),
        "uut": FakeDMM(bench, DMM_ID),
    }


class Record:
    """Collects what reaches the record through on_reading, and the events."""

    def __init__(self):
        self.cells: dict[str, str] = {}
        self.writes: list[str] = []
        self.meta: dict[str, tuple] = {}
        self.events: list[tuple[str, dict]] = []
        self.prompts: list[str] = []

    def on_reading(self, cell_id, reading, role, identity):
        self.cells[cell_id] = str(reading.value)
        self.writes.append(cell_id)
        self.meta[cell_id] = (reading.unit, reading.at, role, identity)

    def on_event(self, kind, data):
        self.events.append((kind, dict(data)))

    def on_prompt(self, step, message):
        self.prompts.append(message["en"])


def make(plan, rig, record, **kwargs):
    drivers: dict[str, Driver] = {"source": rig["source"], "uut": rig["uut"]}
    return Executor(
        plan,
        drivers,
        on_reading=record.on_reading,
        on_prompt=record.on_prompt,
        on_event=record.on_event,
        clock=rig["clock"],
        sleep=rig["clock"].sleep,
        **kwargs,
    )


def run_to_end(executor):
    state = executor.run()
    if state.status == "waiting_prompt":
        executor.confirm()
        state = executor.run()
    return state


EXPECTED = {
    # point: the recorded readings = base + (0, +10, 0, −10, 0) µV
    1: ["1.00004", "1.00005", "1.00004", "1.00003", "1.00004"],
    2: ["5.00012", "5.00013", "5.00012", "5.00011", "5.00012"],
    3: ["10.00022", "10.00023", "10.00022", "10.00021", "10.00022"],
    4: ["-10.00018", "-10.00017", "-10.00018", "-10.00019", "-10.00018"],
}
EXPECTED_CELLS = {
    f"reading.{p}.{j}": v for p, values in EXPECTED.items() for j, v in enumerate(values, 1)
}


def test_the_builtin_procedure_fills_every_cell_and_the_record_evaluates_as_computed_by_hand(
    plan, rig, template
):
    """The bench's DMM indicates 1.00002 × output + 20 µV (exact in 10 µV steps):
    1 V → 1.00004 V, 5 V → 5.00012 V, 10 V → 10.00022 V, −10 V → −10.00018 V (the mean of each
    point's five readings; noise (0, +10, 0, −10, 0) µV averages to 0).

    Errors Δ = mean − nominal: +40, +120, +220, −180 µV.
    Repeatability: s = √((0 + 100 + 0 + 100 + 0)/4) µV = 7.0711 µV at every point, u_rep =
    s/√5 = 3.1623 µV (u_rep² = 10 µV²). Resolution: u_res = 5/√3 µV (u_res² = 8.3333 µV²).
    Calibrator ±(12 ppm of output + 2 ppm of 10 V): a = 32, 80, 140, 140 µV, u_cal² = a²/3 =
    341.333, 2133.333, 6533.333, 6533.333 µV².
    u_c = √(10 + u_cal² + 8.3333): 18.9648, 46.3861, 80.9424, 80.9424 µV;
    U = 2 u_c = 37.93 → 38 µV, 92.77 → 93 µV, 161.88 → 160 µV, 160 µV.
    MPE = 35 ppm of reading + 5 ppm of range: 85, 225, 400, 400 µV. U > MPE/3 everywhere, so
    JJF 1094: pass when |Δ| ≤ MPE − U: 40 ≤ 47, 120 ≤ 132, 220 ≤ 240, 180 ≤ 240 → all pass.

    MET/CAL-style report: tolerance = MPE; % of tolerance = |Δ|/T: 47.06, 53.33, 55.00,
    45.00 %; TUR = T / calibrator accuracy: 85/32 = 2.66, 225/80 = 2.81, 400/140 = 2.86.
    """
    record = Record()
    executor = make(plan, rig, record)
    state = run_to_end(executor)
    assert state.status == "done", state.fault
    assert record.cells == EXPECTED_CELLS
    assert record.writes == list(EXPECTED_CELLS)  # each cell written once, in order
    unit, at, role, identity = record.meta["reading.3.2"]
    assert (unit, role, identity) == ("V", "uut", DMM_ID)
    assert at.tzinfo is not None
    assert rig["bench"].operating is False  # the standby step ran
    assert rig["uut"].configured == ("dcv", D("10"), "V")

    reports = [state.results[str(i)] for i in range(3, 7)]
    assert [r["error"] for r in reports] == ["0.00004", "0.00012", "0.00022", "-0.00018"]
    assert [r["tolerance"] for r in reports] == ["0.000085", "0.000225", "0.00040", "0.00040"]
    assert [r["percent_of_tolerance"] for r in reports] == ["47.06", "53.33", "55.00", "45.00"]
    assert [r["tur"] for r in reports] == ["2.66", "2.81", "2.86", "2.86"]
    assert all(r["passed"] is True for r in reports)

    cells = {"param.range": "10", **record.cells}
    result = compile_template(template).evaluate(cells, context={"cmc": None})
    assert result.problems == []
    assert result.complete is True
    points = result.points
    assert [p["mean_reading"].raw for p in points] == [
        D("1.00004"), D("5.00012"), D("10.00022"), D("-10.00018"),
    ]  # fmt: skip
    assert [p["error"].text for p in points] == ["0.000040", "0.000120", "0.00022", "-0.00018"]
    for p in points:
        assert float(p["u_rep"].raw) == pytest.approx(
            math.sqrt(200e-12 / 4) / math.sqrt(5), rel=1e-12
        )
    for p, u_cal2 in zip(points, (341.3333333, 2133.333333, 6533.333333, 6533.333333), strict=True):
        assert float(p["uc"].raw) == pytest.approx(
            math.sqrt((10 + u_cal2 + 25 / 3) * 1e-12), rel=1e-8
        )
    assert [p["U"].text for p in points] == ["0.000038", "0.000093", "0.00016", "0.00016"]
    assert [p["mpe"].raw for p in points] == [
        D("0.000085"),
        D("0.000225"),
        D("0.000400"),
        D("0.000400"),
    ]
    assert [p["decision"].raw for p in points] == ["pass"] * 4
    assert result.decision == "pass"


def _cells_before(step: int) -> dict[str, str]:
    """The cells of the points measured before plan step `step` (points are steps 3-6)."""
    return {k: v for k, v in EXPECTED_CELLS.items() if int(k.split(".")[1]) + 2 < step}


def _refuse_step_5_once():
    asked = []

    def check(step, state):
        asked.append(step.index)
        if step.index == 5 and asked.count(5) == 1:
            return "the calibrator's calibration has expired"
        return None

    return check


FAULTS = {
    # kind: (arrange(rig) → executor kwargs, the step it pauses at, words of the message, role)
    "timeout": (
        lambda rig: rig["uut"].fail("read", 17, InstrumentTimeout("no answer in 2000 ms")),
        4, "no answer in 2000 ms", "uut",
    ),
    "instrument_error": (
        lambda rig: rig["source"].queue("set_output", 3, "-222,Data out of range"),
        5, "-222,Data out of range", "source",
    ),
    "connection_lost": (
        lambda rig: rig["source"].fail("operate", 2, ConnectionLost("socket closed")),
        4, "socket closed", "source",
    ),
    "identity_changed": (
        # identify: once at the start, then before each step (the prompt's twice: before it
        # waits and when it is confirmed): call 9 is before step 6
        lambda rig: rig["uut"].swaps.update({9: Identity("KEYSIGHT", "34401A", "MY4199", "1")}),
        6, "MY4199", "uut",
    ),
    "refused": (
        lambda rig: {"check_before_step": _refuse_step_5_once()},
        5, "the calibrator's calibration has expired", None,
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(FAULTS))
def test_each_fault_pauses_at_its_step_with_the_reason_and_resume_continues_from_it(
    kind, plan, rig
):
    arrange, at_step, words, role = FAULTS[kind]
    kwargs = arrange(rig) or {}
    record = Record()
    executor = make(plan, rig, record, **kwargs)
    state = run_to_end(executor)
    assert state.status == "paused"
    assert (state.fault["kind"], state.fault["step"], state.fault["role"]) == (kind, at_step, role)
    assert words in state.fault["message"]
    assert state.fault["name"] == plan.steps[at_step].name
    assert state.step == at_step
    # never half a point: the record has exactly the points before the failed step
    assert record.cells == _cells_before(at_step)
    assert str(at_step) not in state.readings and str(at_step) not in state.results
    assert state.settle is None
    assert rig["bench"].operating is False  # the calibrator was put to standby
    assert ("paused", {"step": at_step, "fault": state.fault}) in record.events
    assert executor.run().status == "paused"  # run() does not skip a fault

    if kind == "identity_changed":
        rig["uut"].identity = DMM_ID  # the right DMM is back on the bus
    reads_before = rig["uut"].calls["read"]
    state = executor.resume()
    assert state.status == "done", state.fault
    assert state.fault is None
    assert record.cells == EXPECTED_CELLS
    assert record.writes == list(EXPECTED_CELLS)  # the failed point's cells written once
    # resumed FROM the failed step: the points before it were not measured again
    points_left = 7 - at_step
    assert rig["uut"].calls["read"] - reads_before == 10 * points_left
    assert ("resumed", {"step": at_step}) in record.events


def test_an_operator_prompt_waits_until_confirmed(plan, rig):
    record = Record()
    executor = make(plan, rig, record)
    state = executor.run()
    assert (state.status, state.step) == ("waiting_prompt", 2)
    assert record.prompts == [plan.steps[2].message["en"]]
    assert "read" not in rig["uut"].calls and rig["bench"].operating is False
    assert executor.run().status == "waiting_prompt"  # nothing moves without a confirmation
    assert "read" not in rig["uut"].calls
    executor.confirm()
    with pytest.raises(ValueError):
        executor.confirm()
    state = executor.run()
    assert state.status == "done"
    assert record.cells == EXPECTED_CELLS


def test_a_reading_that_never_settles_faults_after_the_max_settle_time(plan, rig):
    """Noise (0, +60) µV alternating: the last three readings always have s = 34.6 µV > 20 µV.
    A reading takes 0.1 s and the settle interval is 0.5 s; max settle time 30 s."""
    rig["bench"].noise = (0, 60)
    record = Record()
    executor = make(plan, rig, record)
    executor.run()
    executor.confirm()
    started = rig["clock"]()
    state = executor.run()
    assert state.status == "paused"
    assert (state.fault["kind"], state.fault["step"]) == ("never_settled", 3)
    assert "did not settle in 30 s" in state.fault["message"]
    waited = (rig["clock"]() - started).total_seconds()
    assert 30 <= waited < 31
    # reading n ends at 0.6 n − 0.5 s: the 51st, at 30.1 s, is the first past 30 s
    assert rig["uut"].calls["read"] == 51
    assert record.cells == {}
    settles = [data for kind, data in record.events if kind == "settle"]
    assert settles[-1]["stdev"] is not None and D(settles[-1]["stdev"]) > D("0.00002")
    rig["bench"].noise = NOISE  # the connection is fixed; the readings settle again
    assert executor.resume().status == "done"
    assert record.cells == EXPECTED_CELLS


def test_abort_needs_a_reason_and_ends_the_run(plan, rig):
    record = Record()
    executor = make(plan, rig, record)
    executor.run()
    with pytest.raises(ValueError):
        executor.abort("  ")
    state = executor.abort("the wrong DMM is on the bench")
    assert (state.status, state.abort_reason, state.step) == (
        "aborted", "the wrong DMM is on the bench", 2,
    )  # fmt: skip
    assert executor.run().status == "aborted"
    with pytest.raises(ValueError):
        executor.resume()
    assert record.cells == {}


def test_abort_during_a_step_discards_its_readings_and_puts_the_source_to_standby(plan, rig):
    record = Record()
    executor = make(plan, rig, record)

    def on_event(kind, data):
        record.on_event(kind, data)
        if kind == "reading" and data["cell"] == "reading.3.3":
            executor.abort("operator: the leads came loose")

    executor.on_event = on_event
    state = run_to_end(executor)
    assert (state.status, state.step) == ("aborted", 5)
    assert state.abort_reason == "operator: the leads came loose"
    assert record.cells == _cells_before(5)
    assert rig["bench"].operating is False


def test_pause_during_a_step_and_resume_retakes_it(plan, rig):
    record = Record()
    executor = make(plan, rig, record)

    def on_event(kind, data):
        record.on_event(kind, data)
        if kind == "reading" and data["cell"] == "reading.1.4":
            executor.pause()

    executor.on_event = on_event
    state = run_to_end(executor)
    assert (state.status, state.step, state.fault) == ("paused", 3, None)
    assert record.cells == {}
    # no output is left on while the run waits (the step sets it again on resume)
    assert rig["bench"].operating is False
    executor.on_event = record.on_event
    assert executor.resume().status == "done"
    assert record.writes == list(EXPECTED_CELLS)


def test_the_state_is_saved_and_restored_and_the_identity_is_checked_after_a_restart(plan, rig):
    record = Record()
    rig["uut"].fail("read", 17, InstrumentTimeout("no answer in 2000 ms"))
    executor = make(plan, rig, record)
    state = run_to_end(executor)
    saved = json.dumps(state.to_json())
    data = json.loads(saved)
    assert data["format"] == "metrolab-run-state/1"
    assert data["status"] == "paused" and data["step"] == 4
    first = data["readings"]["3"][0]
    assert first == {"cell": "reading.1.1", "value": "1.00004", "unit": "V", "at": first["at"]}
    assert data["results"]["3"]["percent_of_tolerance"] == "47.06"
    assert data["identities"]["uut"] == {
        "manufacturer": "KEYSIGHT", "model": "34401A", "serial": "MY41000123", "firmware": "11-5-2",
    }  # fmt: skip

    # the worker restarts: new connections, another DMM on the bus → refused at the same step
    other = dict(rig, uut=FakeDMM(rig["bench"], Identity("KEYSIGHT", "34401A", "OTHER", "1")))
    restored = make(plan, other, record, state=RunState.from_json(json.loads(saved)))
    state = restored.resume()
    assert (state.status, state.fault["kind"], state.step) == ("paused", "identity_changed", 4)

    again = dict(
        rig, uut=FakeDMM(rig["bench"], DMM_ID), source=FakeCalibrator(rig["bench"], CAL_ID)
    )
    restored = make(plan, again, record, state=RunState.from_json(json.loads(saved)))
    state = restored.resume()
    assert state.status == "done"
    assert record.writes == list(EXPECTED_CELLS)
    assert set(state.results) == {"3", "4", "5", "6"}


def test_the_wait_settle_rule_and_a_reading_in_another_unit(template, rig):
    definition = copy.deepcopy(builtin_procedures()["dmm-dc-voltage"])
    definition["steps"][3]["settle"] = {"rule": "wait", "seconds": "2"}
    definition["steps"][3]["interval"] = "0"
    definition["steps"].pop(2)  # no prompt
    plan = compile_procedure(definition, template=template).plan(
        {"points": "10", "repeats": "2"}, template=template
    )
    record = Record()
    executor = make(plan, rig, record)
    started = rig["clock"]()
    state = executor.run()
    assert state.status == "done"
    # 2 s wait, then two readings of 0.1 s; the transient is still in them
    assert (rig["clock"]() - started).total_seconds() == pytest.approx(2.2)
    # 10.00022 V + the transient (500, 50 µV) + the noise (0, 10 µV)
    assert record.cells == {"reading.1.1": "10.00072", "reading.1.2": "10.00028"}
    assert state.results["2"]["passed"] is False  # error 500 µV > tolerance 400 µV: a result
    assert state.results["2"]["percent_of_tolerance"] == "125.00"

    class MillivoltDMM(FakeDMM):
        def read(self):
            reading = super().read()
            return Reading(reading.value * 1000, "mV", reading.at)

    rig2 = dict(rig, uut=MillivoltDMM(rig["bench"], DMM_ID))
    state = make(plan, rig2, Record()).run()
    assert (state.status, state.fault["kind"]) == ("paused", "unit")
    assert "'mV'" in state.fault["message"]


def test_the_builtin_procedure_runs_end_to_end_against_the_tcp_simulators(plan, template):
    """The SCPI simulators on real sockets (a Fluke 55xx-style calibrator and a 34401A-style
    DMM reading it), noise-free and settling at once: the DMM indicates 1.00002 × output +
    20 µV, so the readings are 1.00004, 5.00012, 10.00022 and −10.00018 V, all five equal.

    u_rep = 0; u_res² = 25/3 µV²; u_cal² = 341.333, 2133.333, 6533.333, 6533.333 µV²;
    u_c = √(349.667), √(2141.667), √(6541.667), √(6541.667) µV = 18.6994, 46.2781, 80.8806,
    80.8806 µV; U = 37.40 → 37 µV, 92.56 → 93 µV, 161.76 → 160 µV, 160 µV.
    JJF 1094 (U > MPE/3): |Δ| ≤ MPE − U: 40 ≤ 48, 120 ≤ 132, 220 ≤ 240, 180 ≤ 240 → pass.
    """
    from metrolab.instruments.connections import open_driver
    from metrolab.instruments.simulators.scpi import ScpiBench

    bench = ScpiBench(tau=0.0, gain_error=2e-5, offset=2e-5, sigma=0.0).start()
    sent: list[tuple[str, str]] = []
    drivers = {}
    try:
        drivers["source"] = open_driver(
            bench.calibrator.connection("fluke55xx", 2000),
            transcript=lambda direction, text: sent.append((direction, text)),
        )
        drivers["uut"] = open_driver(bench.dmm.connection("dmm34401", 2000))
        record = Record()
        executor = Executor(
            plan,
            drivers,
            on_reading=record.on_reading,
            on_prompt=record.on_prompt,
            on_event=record.on_event,
            sleep=lambda seconds: None,  # the simulators settle at once
        )
        state = run_to_end(executor)
        assert state.status == "done", state.fault
        assert bench.calibrator_model.operating is False  # standby at the end
    finally:
        for driver in drivers.values():
            driver.close()
        bench.stop()

    readings = {cell: D(value) for cell, value in record.cells.items()}
    assert readings == {cell: D(base) for cell, base in _noise_free().items()}
    assert record.meta["reading.1.1"][3].model == "34401A"
    commands = [text for direction, text in sent if direction == ">"]
    assert any(c.upper().startswith("OUT") and "10" in c for c in commands)
    assert any(c.upper().startswith("OPER") for c in commands)
    assert any(c.upper().startswith("STBY") for c in commands)

    result = compile_template(template).evaluate(record.cells, context={"cmc": None})
    assert result.problems == [] and result.complete is True
    points = result.points
    assert [p["error"].text for p in points] == ["0.000040", "0.000120", "0.00022", "-0.00018"]
    assert [p["u_rep"].raw for p in points] == [D(0)] * 4
    for p, u_cal2 in zip(points, (341.3333333, 2133.333333, 6533.333333, 6533.333333), strict=True):
        assert float(p["uc"].raw) == pytest.approx(math.sqrt((u_cal2 + 25 / 3) * 1e-12), rel=1e-8)
    assert [p["U"].text for p in points] == ["0.000037", "0.000093", "0.00016", "0.00016"]
    assert [p["decision"].raw for p in points] == ["pass"] * 4
    assert result.decision == "pass"
    reports = [state.results[str(i)] for i in range(3, 7)]
    assert [r["percent_of_tolerance"] for r in reports] == ["47.06", "53.33", "55.00", "45.00"]


def _noise_free() -> dict[str, str]:
    bases = {1: "1.00004", 2: "5.00012", 3: "10.00022", 4: "-10.00018"}
    return {f"reading.{p}.{j}": v for p, v in bases.items() for j in range(1, 6)}


def test_faults_over_the_tcp_simulators_pause_the_run_and_it_resumes_on_a_new_connection(
    plan, template
):
    """An error pushed into the DMM's queue (SYST:ERR?) during point 2 pauses the run there;
    resumed, it goes on; then the calibrator's connection drops during point 3 (only the DMM
    is read there): the identity check before point 4 finds it, the run pauses at point 4
    with connection_lost and continues from there on new connections (a new executor from
    the saved state, as the worker does after a restart)."""
    from metrolab.instruments.connections import open_driver
    from metrolab.instruments.simulators.scpi import ScpiBench

    bench = ScpiBench(tau=0.0, gain_error=2e-5, offset=2e-5, sigma=0.0).start()
    opened = []

    def connect():
        drivers = {
            "source": open_driver(bench.calibrator.connection("fluke55xx", 500)),
            "uut": open_driver(bench.dmm.connection("dmm34401", 500)),
        }
        opened.extend(drivers.values())
        return drivers

    record = Record()

    def on_event(kind, data):
        record.on_event(kind, data)
        if kind == "reading" and data["cell"] == "reading.2.2" and "error" not in done:
            done.add("error")
            bench.dmm.faults.push_error('-222,"Data out of range"')
        if kind == "reading" and data["cell"] == "reading.3.4" and "drop" not in done:
            done.add("drop")
            bench.calibrator.close_connections()

    done: set[str] = set()
    try:
        executor = Executor(
            plan, connect(), on_reading=record.on_reading, on_event=on_event, sleep=lambda s: 0
        )
        state = run_to_end(executor)
        assert (state.status, state.step, state.fault["kind"]) == ("paused", 4, "instrument_error")
        assert "Data out of range" in state.fault["message"]
        assert set(record.cells) == {f"reading.1.{j}" for j in range(1, 6)}
        state = executor.resume()
        assert (state.status, state.step, state.fault["kind"]) == ("paused", 6, "connection_lost")
        assert len(record.cells) == 15
        saved = json.dumps(state.to_json())
        executor = Executor(
            plan,
            connect(),
            state=RunState.from_json(json.loads(saved)),
            on_reading=record.on_reading,
            sleep=lambda s: 0,
        )
        state = executor.resume()
        assert state.status == "done", state.fault
    finally:
        for driver in opened:
            driver.close()
        bench.stop()
    assert {cell: D(v) for cell, v in record.cells.items()} == {
        cell: D(v) for cell, v in _noise_free().items()
    }
    assert compile_template(template).evaluate(record.cells, context={}).decision == "pass"
