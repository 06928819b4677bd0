"""`metrolab send_risk_alerts`: tell the responsible people what of the lab's libraries expires
or falls due within 30 / 60 / 90 days, or is overdue (R4.5). Run it once a day (cron, a
systemd timer); each thing is told once per due date and horizon, so running it more often
sends nothing twice. `--queue` hands the work to the background worker instead."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from metrolab.core.permissions import SYSTEM
from metrolab.risk import services


class Command(BaseCommand):
    help = "Send the risk radar notifications that are due (30 / 60 / 90 days, overdue)."

    def add_arguments(self, parser):
        parser.add_argument("--today", help="act as if today were this date (YYYY-MM-DD)")
        parser.add_argument(
            "--queue", action="store_true", help="enqueue a background task instead"
        )

    def handle(self, *args, **options):
        today = None
        if options.get("today"):
            try:
                today = dt.date.fromisoformat(options["today"])
            except ValueError:
                raise CommandError("--today wants a date as YYYY-MM-DD", returncode=2) from None
        if options.get("queue"):
            from metrolab.risk.tasks import risk_send_alerts_task

            result = risk_send_alerts_task.enqueue(on=today.isoformat() if today else None)
            self.stdout.write(f"queued: {result.id}")
            return
        count = services.risk_alerts_send(on=today, actor=SYSTEM)
        self.stdout.write(self.style.SUCCESS(f"alerted: {count} thing(s)"))
