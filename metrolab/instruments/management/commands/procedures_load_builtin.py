"""`metrolab procedures-load-builtin`: create or update the built-in procedures as versions
approved by the system ("built-in"); idempotent (R8b)."""

from django.core.management.base import BaseCommand

from metrolab.core.permissions import SYSTEM
from metrolab.instruments.procedure_services import procedures_load_builtin


class Command(BaseCommand):
    help = "Load the built-in procedures (approved at load; idempotent)."

    def handle(self, *args, **options):
        for code, result in sorted(procedures_load_builtin(actor=SYSTEM).items()):
            self.stdout.write(f"{code}: {result}")
