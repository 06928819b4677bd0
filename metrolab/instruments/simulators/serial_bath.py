"""A simulated temperature bath with a thermometer readout on a pty (the slave is the port).

The ASCII protocol (modelled on Fluke/Hart baths; documented in docs/instruments.md): a
command ends with CR ("\\r"), every command gets exactly one answer line ending CR LF.

    *IDN?        -> HART,7341,B23456,1.20
    s=50.000     -> set: 50.000 C        (set point, °C; echoes the new set point)
    s            -> set: 50.000 C
    t            -> t: 49.998 C          (the bath's own control temperature, 3 decimals)
    r            -> r: 50.00123 C        (the reference thermometer on the readout, 5 decimals)
    o=1 / o=0    -> o: 1 / o: 0          (control on = operate / off = standby)
    o            -> o: 1
    *tst?        -> 0                    (self-test code; 0 = passed)
    err?         -> 0,No Error           (oldest queued error, e.g. "12,Cutout tripped")
    *rst         -> ok                   (control off, set point back to ambient)
    anything else-> ?                    (and "1,Unknown command" is queued)

Faults: `faults.silent`, `push_error`, `faults.serial`, `faults.drift`, and
`close_connections()` (the pty's master closes: the port is gone).
"""

from __future__ import annotations

import os
import re
import select
import threading
import tty

from metrolab.instruments.simulators.models import BathModel

SET = re.compile(r"^s\s*=\s*([-+]?\d+(?:\.\d*)?)$", re.IGNORECASE)
MAX_SETPOINT = 300.0


class BathSimulator:
    manufacturer = "HART"
    model_name = "7341"
    serial = "B23456"
    firmware = "1.20"

    def __init__(self, model: BathModel | None = None, *, delay: float = 0.0):
        self.model = model or BathModel()
        self.faults = self.model.faults
        self.delay = delay
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.port = os.ttyname(self.slave)
        self.stopping = threading.Event()
        self.closed = False
        self.thread = threading.Thread(target=self._run, name="bath-sim", daemon=True)

    def connection(self, timeout_ms: int = 2000) -> dict:
        return {
            "kind": "serial",
            "port": self.port,
            "baudrate": 9600,
            "driver": "bath",
            "timeout_ms": timeout_ms,
        }

    def start(self) -> BathSimulator:
        self.thread.start()
        return self

    def answer(self, command: str) -> str:
        model, faults = self.model, self.faults
        lower = command.lower()
        if lower == "*idn?":
            serial = faults.serial or self.serial
            return f"{self.manufacturer},{self.model_name},{serial},{self.firmware}"
        if lower == "s":
            return f"set: {model.setpoint:.3f} C"
        if match := SET.match(command):
            value = float(match.group(1))
            if not -40.0 <= value <= MAX_SETPOINT:
                faults.push_error("5,Set point out of range")
            else:
                model.set(value)
            return f"set: {model.setpoint:.3f} C"
        if lower == "t":
            return f"t: {model.expected():.3f} C"
        if lower == "r":
            return f"r: {model.reading():.5f} C"
        if lower in ("o=1", "o=0"):
            model.control(lower.endswith("1"))
        if lower in ("o", "o=1", "o=0"):
            return f"o: {1 if model.controlling else 0}"
        if lower == "*tst?":
            return str(faults.self_test_code)
        if lower == "err?":
            return faults.errors.popleft() if faults.errors else "0,No Error"
        if lower == "*rst":
            model.reset()
            return "ok"
        faults.push_error("1,Unknown command")
        return "?"

    def _run(self) -> None:
        buffer = b""
        while not self.stopping.is_set() and not self.closed:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready or self.closed:
                continue
            try:
                data = os.read(self.master, 1024)
            except OSError:
                continue  # nobody has the port open yet
            buffer += data
            while b"\r" in buffer:
                line, buffer = buffer.split(b"\r", 1)
                command = line.decode("ascii", "replace").strip()
                if not command or self.faults.silent:
                    continue
                if self.delay:
                    self.stopping.wait(self.delay)
                try:
                    os.write(self.master, self.answer(command).encode("ascii") + b"\r\n")
                except OSError:
                    return

    def close_connections(self) -> None:
        """The port goes away: the pty's master side closes."""
        if not self.closed:
            self.closed = True
            self.thread.join(2)
            os.close(self.master)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(2)
        if not self.closed:
            self.closed = True
            os.close(self.master)
        os.close(self.slave)
