"""`metrolab equipment_control`: apply the out-of-control rule of intermediate checks to the
results recorded before the rule existed (run once after upgrading): equipment whose latest
check is out of control, and not recalibrated since, becomes restricted (限用), audited with
the reason. Running it again changes nothing."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from metrolab.core.permissions import SYSTEM
from metrolab.equipment import services


class Command(BaseCommand):
    help = "Restrict equipment whose latest intermediate check is out of control (audited)."

    def handle(self, *args, **options):
        changed = services.equipment_control_reconcile(actor=SYSTEM)
        for equipment in changed:
            self.stdout.write(f"{equipment.asset_no}: {equipment.get_status_display()}")
        self.stdout.write(self.style.SUCCESS(f"out of control: {len(changed)} item(s)"))
