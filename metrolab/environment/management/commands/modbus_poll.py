"""`metrolab modbus_poll`: read the Modbus TCP environment sensors and store their values
(R6.11a). Long-running (each sensor every period, or every `--interval` seconds); `--once` polls
every sensor once and exits. Stops cleanly on SIGTERM / SIGINT."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from metrolab.environment.modbus import ModbusPoller
from metrolab.environment.mqtt import stop_on_signals


class Command(BaseCommand):
    help = "Poll the Modbus TCP environment sensors and store their readings."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="poll every sensor once, exit")
        parser.add_argument(
            "--interval",
            type=float,
            metavar="S",
            help="poll every S seconds (default: each sensor's own period)",
        )
        parser.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds")
        parser.add_argument(
            "--timeout", type=float, metavar="S", help="seconds to wait for a device's answer"
        )

    def handle(self, *args, **options):
        interval, seconds = options["interval"], options["seconds"]
        if interval is not None and interval <= 0:
            raise CommandError("--interval needs a positive number of seconds.")
        if seconds is not None and seconds <= 0:
            raise CommandError("--seconds needs a positive duration.")
        poller = ModbusPoller(interval=interval, timeout=options["timeout"])
        if options["once"]:
            try:
                report = poller.poll()
            finally:
                poller.close()
        else:
            restore = stop_on_signals(poller.stop)
            try:
                self.stdout.write("Modbus poller running.")
                report = poller.run(seconds=seconds)
            finally:
                restore()
        self.stdout.write(
            f"Modbus poll: {report.read} value(s) read, {report.stored} stored, "
            f"{report.rejected} rejected, {len(report.failures)} sensor(s) not read."
        )
        for code, why in sorted(report.failures.items()):
            self.stdout.write(f"  {code}: {why}")
