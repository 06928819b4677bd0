"""`metrolab environment_retention`: thin out the reading stream (see environment.retention)."""

from django.core.management.base import BaseCommand

from metrolab.environment.retention import CHUNK, retention_run


class Command(BaseCommand):
    help = (
        "Delete raw readings older than METROLAB_ENV_RAW_DAYS and minute aggregates older than "
        "METROLAB_ENV_MINUTE_DAYS (hour aggregates are kept), in chunks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=CHUNK, help="rows per delete")

    def handle(self, *args, chunk, **options):
        result = retention_run(chunk=max(chunk, 1), progress=self.stdout.write)
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {result.readings_deleted} raw readings (before "
                f"{result.raw_before:%Y-%m-%d %H:%M}) and {result.minutes_deleted} minute "
                f"aggregates (before {result.minute_before:%Y-%m-%d %H:%M}) deleted."
            )
        )
