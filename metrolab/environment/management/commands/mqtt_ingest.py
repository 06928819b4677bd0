"""`metrolab mqtt_ingest`: store the environment readings devices publish over MQTT (R6.11a).

Long-running; stops cleanly on SIGTERM / SIGINT (what was received is stored first). The broker
comes from the settings `METROLAB_MQTT_HOST`, `_PORT`, `_USERNAME`, `_PASSWORD`, `_TLS`; the
topic scheme is in `docs/environment-protocols.md`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from metrolab.environment.mqtt import BATCH_SIZE, BrokerConfig, MqttIngester, stop_on_signals


class Command(BaseCommand):
    help = "Subscribe to the environment MQTT topics and store the readings (runs until stopped)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", type=int, metavar="N", help="stop after N messages (tests, checks)"
        )
        parser.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=f"messages stored per database write at most (default {BATCH_SIZE})",
        )

    def handle(self, *args, **options):
        once, seconds = options["once"], options["seconds"]
        if once is not None and once < 1:
            raise CommandError("--once needs a positive number of messages.")
        if seconds is not None and seconds <= 0:
            raise CommandError("--seconds needs a positive duration.")
        config = BrokerConfig.from_settings()
        ingester = MqttIngester(config, batch_size=options["batch_size"])
        restore = stop_on_signals(ingester.stop)
        try:
            self.stdout.write(
                f"MQTT ingester: broker {config.host}:{config.port}, root {ingester.root}"
            )
            stats = ingester.run(max_messages=once, seconds=seconds)
        finally:
            restore()
        self.stdout.write(
            f"MQTT ingester stopped: {stats.messages} message(s), {stats.stored} reading(s) "
            f"stored, {stats.rejected} rejected ({stats.unreadable} unreadable payload(s))."
        )
