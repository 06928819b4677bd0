"""`metrolab environment-watch`: what time alone decides in environment monitoring (R6.11d,
R6.9c, R6.11e). Every `--interval` seconds: offline alarms for sensors that fell silent
(`alarms.check_offline`), alarms whose delay ran out with no newer reading
(`alarms.check_delays`), and the automatic control rules (`control.evaluate_all`, when the
regulation module is installed). Readings themselves are checked as they are stored (the
ingestion listener); this loop covers the silence between them.

Long-running; stops cleanly on SIGTERM / SIGINT (the tick in progress finishes first).
`--once` runs one tick and exits (cron, tests)."""

from __future__ import annotations

import importlib
import logging
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from metrolab.environment import alarms
from metrolab.environment.mqtt import stop_on_signals

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = 10.0
CONTROL_MODULE = "metrolab.environment.control"


def _control_evaluate_all():
    """The regulation helper's `control.evaluate_all(now)`, or None when it is not there."""
    try:
        module = importlib.import_module(CONTROL_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name == CONTROL_MODULE:
            return None
        raise  # the module is there but broken: say so, do not run without it silently
    return getattr(module, "evaluate_all", None)


class Command(BaseCommand):
    help = (
        "Raise offline and delayed alarms and run the automatic control rules every "
        "--interval seconds (runs until stopped)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one check and exit")
        parser.add_argument(
            "--interval",
            type=float,
            default=DEFAULT_INTERVAL,
            metavar="S",
            help=f"seconds between checks (default {DEFAULT_INTERVAL:g})",
        )
        parser.add_argument(
            "--start-after",
            type=float,
            default=0.0,
            metavar="S",
            help="seconds to wait before the first check (lets restarted sensors report first)",
        )

    def handle(self, *args, **options):
        interval = options["interval"]
        if interval <= 0:
            raise CommandError("--interval needs a positive number of seconds.")
        stop = threading.Event()
        evaluate_all = _control_evaluate_all()
        if options["once"]:
            self._tick(evaluate_all, verbose=True)
            return
        restore = stop_on_signals(stop.set)
        ticks = raised = cleared = 0
        try:
            self.stdout.write(
                f"Environment watch: every {interval:g} s"
                + ("" if evaluate_all else " (no control rules module)")
            )
            self.stdout.flush()
            stop.wait(max(0.0, options["start_after"]))
            while not stop.is_set():
                started = time.monotonic()
                close_old_connections()  # a database restart between ticks is survived
                up, down = self._tick(evaluate_all, verbose=False)
                close_old_connections()
                ticks, raised, cleared = ticks + 1, raised + up, cleared + down
                stop.wait(max(0.0, interval - (time.monotonic() - started)))
        finally:
            restore()
        self.stdout.write(
            f"Environment watch stopped: {ticks} check(s), {raised} alarm(s) raised, "
            f"{cleared} cleared."
        )

    def _tick(self, evaluate_all, *, verbose: bool) -> tuple[int, int]:
        """One round; an error is logged and the loop goes on (a long-running watcher must
        survive a database restart)."""
        now = timezone.now()
        raised = cleared = 0
        for name, step in (
            ("offline", alarms.check_offline),
            ("delays", alarms.check_delays),
        ):
            try:
                changes = step(now)
            except Exception:
                logger.exception("environment watch: the %s check failed", name)
                continue
            raised += len(changes.raised)
            cleared += len(changes.cleared)
            for alarm in changes.raised:
                logger.warning("environment alarm raised: %s", alarm.message)
        if evaluate_all is not None:
            try:
                evaluate_all(now)
            except Exception:
                logger.exception("environment watch: the control rules failed")
        if verbose:
            self.stdout.write(
                f"Environment watch: {raised} alarm(s) raised, {cleared} cleared"
                + ("" if evaluate_all else " (no control rules module)")
                + "."
            )
        return raised, cleared
