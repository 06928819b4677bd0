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

With `tcp=(host, port)` the same instrument answers on a TCP port instead of a pty (a serial
device server, as a serial-to-Ethernet converter gives): its port is the pyserial URL
"socket://host:port", which stays the same from one start to the next (a pty's name does not).
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import socket
import socketserver
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

    def __init__(
        self,
        model: BathModel | None = None,
        *,
        delay: float = 0.0,
        tcp: tuple[str, int] | None = None,
    ):
        self.model = model or BathModel()
        self.faults = self.model.faults
        self.delay = delay
        self.stopping = threading.Event()
        self.closed = False
        self.tcp: _TcpLines | None = None
        if tcp is not None:
            self.master = self.slave = None
            self.tcp = _TcpLines(self, tcp)
            host, port = self.tcp.server.server_address[:2]
            self.port = f"socket://{host}:{port}"
            self.thread = threading.Thread(
                target=self.tcp.server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="bath-sim",
                daemon=True,
            )
            return
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.port = os.ttyname(self.slave)
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
                answer = self.reply(line)
                if answer is None:
                    continue
                try:
                    os.write(self.master, answer)
                except OSError:
                    return

    def reply(self, line: bytes) -> bytes | None:
        """The answer line to one received command line (None: no answer)."""
        command = line.decode("ascii", "replace").strip()
        if not command or self.faults.silent:
            return None
        if self.delay:
            self.stopping.wait(self.delay)
        return self.answer(command).encode("ascii") + b"\r\n"

    def close_connections(self) -> None:
        """The port goes away: the pty's master side closes (TCP: the connections drop)."""
        if self.tcp is not None:
            self.tcp.close_connections()
            return
        if not self.closed:
            self.closed = True
            self.thread.join(2)
            os.close(self.master)

    def stop(self) -> None:
        self.stopping.set()
        if self.tcp is not None:
            self.tcp.stop()
            self.thread.join(5)
            return
        self.thread.join(2)
        if not self.closed:
            self.closed = True
            os.close(self.master)
        os.close(self.slave)


class _TcpLines:
    """The bath's conversation on a TCP port: CR-terminated commands in, one answer line out
    per command, any number of clients (a serial device server)."""

    def __init__(self, bath: BathSimulator, address: tuple[str, int]):
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with owner.lock:
                    owner.connections.add(self.request)
                buffer = b""
                try:
                    while not bath.stopping.is_set():
                        data = self.request.recv(1024)
                        if not data:
                            return
                        buffer += data
                        while b"\r" in buffer:
                            line, buffer = buffer.split(b"\r", 1)
                            answer = bath.reply(line)
                            if answer is not None:
                                self.request.sendall(answer)
                except OSError:
                    pass
                finally:
                    with owner.lock:
                        owner.connections.discard(self.request)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(address, Handler)

    def close_connections(self) -> None:
        with self.lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def stop(self) -> None:
        self.server.shutdown()
        self.close_connections()
        self.server.server_close()
