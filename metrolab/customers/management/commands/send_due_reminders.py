"""`metrolab send_due_reminders`: remind customers of instruments due for recalibration within
30 days (R9.1). Run it once a day (cron, a systemd timer); each due date is reminded once,
so running it more often sends nothing twice. `--queue` hands the work to the background
worker instead of doing it now."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from metrolab.customers import services


class Command(BaseCommand):
    help = "Send the recalibration reminders that are due (instruments due within 30 days)."

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
            from metrolab.customers.tasks import instrument_send_due_reminders_task

            result = instrument_send_due_reminders_task.enqueue(
                today=today.isoformat() if today else None
            )
            self.stdout.write(f"queued: {result.id}")
            return
        count = services.instrument_send_due_reminders(today=today)
        self.stdout.write(self.style.SUCCESS(f"reminded: {count} instrument(s)"))
