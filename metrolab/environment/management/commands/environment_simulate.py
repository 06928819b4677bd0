"""`metrolab environment-simulate`: make the simulated rooms report like real ones (R6.11e, the
demo and the tests). Every `--interval` seconds each room whose sensors have the protocol
`simulated` advances its model (`metrolab.environment.simulator`) and reports a reading per
sensor: stored directly, or with `--mqtt` published to the broker for `metrolab mqtt-ingest`
(then the room's MQTT actuators follow the commands published on `<root>/cmd/<code>`).
`--step-seconds` larger than `--interval` runs simulated time faster than the clock, starting
in the past. Stops cleanly on SIGTERM / SIGINT."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from metrolab.environment.mqtt import BrokerConfig, stop_on_signals
from metrolab.environment.simulator import Simulator, accelerated_start

# An open-ended accelerated run starts a day back, catches up with the clock, then keeps pace.
OPEN_ENDED_START = dt.timedelta(days=1)


def broker_config() -> BrokerConfig:
    """The ingester's broker, signed in as the simulator when it has its own account
    (`METROLAB_SIMULATOR_MQTT_USERNAME` / `_PASSWORD`: write `<root>/env/#`, read
    `<root>/cmd/#`)."""
    config = BrokerConfig.from_settings()
    username = getattr(settings, "METROLAB_SIMULATOR_MQTT_USERNAME", "") or ""
    if username:
        password = getattr(settings, "METROLAB_SIMULATOR_MQTT_PASSWORD", "") or ""
        config = dataclasses.replace(config, username=username, password=password)
    return config


class Command(BaseCommand):
    help = "Run the simulated rooms: readings every interval (runs until stopped)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=10.0,
            metavar="S",
            help="seconds between steps (default 10)",
        )
        parser.add_argument(
            "--step-seconds",
            type=float,
            metavar="S",
            help="simulated seconds per step (default: the interval, real time)",
        )
        parser.add_argument(
            "--mqtt",
            action="store_true",
            help="publish over the MQTT broker instead of storing directly",
        )
        parser.add_argument(
            "--room",
            action="append",
            default=[],
            metavar="CODE",
            help="simulate only this room (repeatable)",
        )
        parser.add_argument("--once", action="store_true", help="one step, then exit")
        parser.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds")

    def handle(self, *args, **options):
        interval, seconds = options["interval"], options["seconds"]
        step_seconds = options["step_seconds"] or interval
        if interval <= 0:
            raise CommandError("--interval needs a positive number of seconds.")
        if step_seconds <= 0:
            raise CommandError("--step-seconds needs a positive number of seconds.")
        if seconds is not None and seconds <= 0:
            raise CommandError("--seconds needs a positive duration.")
        start = None
        if step_seconds > interval and not options["once"]:
            if seconds is None:
                start = timezone.now() - OPEN_ENDED_START
            else:
                start = accelerated_start(step_seconds, interval, int(seconds / interval) + 1)
        simulator = Simulator(
            options["room"],
            step_seconds=step_seconds,
            start=start,
            mqtt=options["mqtt"],
            config=broker_config() if options["mqtt"] else None,
        )
        if not simulator.rooms():
            self.stdout.write("No active room has active simulated sensors.")
            return
        if options["once"]:
            try:
                if options["mqtt"] and not simulator.connect():
                    raise CommandError("The MQTT broker did not answer.")
                simulator.step()
            finally:
                simulator.disconnect()
        else:
            restore = stop_on_signals(simulator.stop)
            try:
                rooms = ", ".join(room.code for room in simulator.rooms())
                self.stdout.write(
                    f"Simulator: {rooms}; a step of {step_seconds:g} s every {interval:g} s"
                    + (" over MQTT." if options["mqtt"] else ".")
                )
                simulator.run(interval=interval, seconds=seconds)
            finally:
                restore()
        stats = simulator.stats
        self.stdout.write(
            f"Simulator stopped: {stats.steps} step(s), {stats.readings} reading(s) reported, "
            f"{stats.rejected} refused, {stats.commands} command(s) received."
        )
