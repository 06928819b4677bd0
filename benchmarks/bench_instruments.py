"""Readings per second through the instrument driver stack (issue 16, goal: the stack adds
≤ 1 ms per reading beyond the instrument's own time), printed beside a baseline measured in
the same run against the same simulated instrument (never asserted in tests: machines here
are shared and noisy).

    uv run python benchmarks/bench_instruments.py

The instrument is the TCP SCPI DMM simulator (`metrolab.instruments.simulators.scpi`, on a
free loopback port, zero simulated delay, wired to the simulated calibrator at 10 V with
noise). Each round takes READINGS readings; the median of ROUNDS rounds is printed, the
baseline and the stacks interleaved round by round.

1. Baseline: the bare PyVISA call, `resource.query("READ?")` on a pyvisa-py
   `TCPIP0::127.0.0.1::<port>::SOCKET` resource (TCP_NODELAY set, as the stack sets it),
   the answer left as text.
2. The driver stack: `open_driver(...)` once, then `driver.read()` (transport with fault
   mapping, the READ? query, the exact Decimal, the overload check, the UTC time stamp).
3. The same with a transcript callback that keeps every command and answer (as a run does).
4. The stack's own cost without any I/O: `driver.read()` of the same driver class over a
   transport that answers READ? with a canned reading at once (what the stack adds, free of
   the loopback's jitter, which is larger than the stack's cost).
"""

from __future__ import annotations

import socket
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyvisa

from metrolab.instruments.connections import (
    LineTransport,
    open_driver,
)
from metrolab.instruments.drivers.dmm34401 import Dmm34401
from metrolab.instruments.simulators.scpi import ScpiBench

READINGS = 2000
ROUNDS = 11


class CannedTransport(LineTransport):
    def __init__(self, answer: str):
        super().__init__(None)
        self.answer = answer

    def _write(self, command: str) -> None:
        pass

    def _read(self) -> str:
        return self.answer

    def close(self) -> None:
        pass


def per_reading(call) -> float:
    started = time.perf_counter()
    for _ in range(READINGS):
        call()
    return (time.perf_counter() - started) / READINGS


def main() -> None:
    bench = ScpiBench(sigma=2e-6, gain_error=1e-5, seed=1).start()
    try:
        calibrator = open_driver(bench.calibrator.connection("fluke55xx"))
        calibrator.set_output("dcv", Decimal("10"), "V")
        calibrator.operate()

        manager = pyvisa.ResourceManager("@py")
        bare = manager.open_resource(
            bench.dmm.resource, read_termination="\n", write_termination="\n", timeout=2000
        )
        # the same socket option as the stack's transport, so that only the stack differs
        interface = bare.visalib.sessions[bare.session].interface
        interface.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        driver = open_driver(bench.dmm.connection("dmm34401"))
        driver.configure("dcv", Decimal("10"), "V")
        lines: list[tuple[str, str]] = []
        logged = open_driver(
            bench.dmm.connection("dmm34401"), transcript=lambda d, t: lines.append((d, t))
        )
        for call in (lambda: bare.query("READ?"), driver.read, logged.read):
            per_reading(call)  # warm-up
        times: dict[str, list[float]] = {"bare": [], "stack": [], "logged": []}
        for _ in range(ROUNDS):
            times["bare"].append(per_reading(lambda: bare.query("READ?")))
            times["stack"].append(per_reading(driver.read))
            lines.clear()
            times["logged"].append(per_reading(logged.read))
        canned = Dmm34401(CannedTransport("+1.00001016E+01"))
        times["canned"] = [per_reading(canned.read) for _ in range(ROUNDS)]
        sample = driver.read()
        for resource in (bare, driver, logged, calibrator):
            resource.close()
    finally:
        bench.stop()

    median = {name: statistics.median(values) for name, values in times.items()}
    base = median["bare"]
    print(
        f"Instrument readings, TCP SCPI DMM simulator on loopback (zero simulated delay), "
        f"{ROUNDS} rounds × {READINGS} readings, median\n"
        "   (goal: the stack adds ≤ 1 ms per reading)"
    )
    rows = (
        ("bare PyVISA query('READ?') (baseline)", "bare"),
        ("open_driver + driver.read()", "stack"),
        ("driver.read() with a transcript", "logged"),
        ("driver.read(), canned answer, no I/O", "canned"),
    )
    for label, name in rows:
        seconds = median[name]
        print(
            f"   {label:<40} {1 / seconds:>8,.0f} readings/s   {seconds * 1e6:7.1f} µs/reading"
            f"   ratio {seconds / base:4.2f}"
            + (f"   overhead {(seconds - base) * 1e6:+6.1f} µs" if name != "canned" else "")
        )
    print(f"   a reading: {sample.value} {sample.unit} at {sample.at.isoformat()}")


if __name__ == "__main__":
    main()
