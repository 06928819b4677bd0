"""`metrolab records-load-builtin`: create or update the built-in record templates as
versions approved by the system ("built-in"); idempotent (R6.2d)."""

from django.core.management.base import BaseCommand

from metrolab.core.permissions import SYSTEM
from metrolab.records.services import templates_load_builtin


class Command(BaseCommand):
    help = "Load the built-in record templates (approved at load; idempotent)."

    def handle(self, *args, **options):
        outcome = templates_load_builtin(actor=SYSTEM)
        for code, result in sorted(outcome.items()):
            self.stdout.write(f"{code}: {result}")
