"""`metrolab instruments-simulate`: the demo's simulated instruments on fixed ports (issue 16
"Demo"; R8a, R5.2), until stopped (SIGTERM / SIGINT, cleanly). `metrolab demo` starts it beside
the server. The host and base port are `METROLAB_DEMO_INSTRUMENTS_HOST` /
`METROLAB_DEMO_INSTRUMENTS_PORT` (or `--host` / `--port`): the calibrator on the base port, the
DMM on +1, the pressure controller (Modbus TCP) on +2, the temperature bath (serial over TCP,
"socket://host:port") on +3 (see `metrolab.instruments.simulators.bench`)."""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from metrolab.instruments.simulators.bench import DemoBench


class Command(BaseCommand):
    help = "Run the demo's simulated instruments on fixed ports (runs until stopped)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--host",
            default=None,
            help="the address to listen on (default METROLAB_DEMO_INSTRUMENTS_HOST)",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=None,
            help="the base port: the calibrator; +1 the DMM, +2 pressure, +3 the bath "
            "(default METROLAB_DEMO_INSTRUMENTS_PORT)",
        )
        parser.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds")

    def handle(self, *args, **options):
        host = options["host"] or settings.METROLAB_DEMO_INSTRUMENTS_HOST
        port = options["port"] or settings.METROLAB_DEMO_INSTRUMENTS_PORT
        if not 1 <= port <= 65535 - 3:
            raise CommandError("--port needs a base port from 1 to 65532.")
        stopping = threading.Event()
        previous = {
            number: signal.signal(number, lambda *_args: stopping.set())
            for number in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            try:
                bench = DemoBench(host, port).start()
            except (OSError, RuntimeError) as error:
                raise CommandError(
                    f"The simulated instruments cannot listen on {host}:{port}–{port + 3}: {error}"
                ) from error
            try:
                self.stdout.write(f"Simulated instruments on {host}:")
                for name, connection in bench.connections().items():
                    where = connection.get("resource") or connection.get("port")
                    if connection["kind"] == "modbus":
                        where = f"modbus://{host}:{connection['port']}"
                    self.stdout.write(f"  {name:<11} {where}")
                self.stdout.flush()
                stopping.wait(options["seconds"])
            finally:
                bench.stop()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
        self.stdout.write("Simulated instruments stopped.")
