"""`metrolab demo`: a seeded demo laboratory on SQLite, served at http://127.0.0.1:8000."""

from __future__ import annotations

from metrolab.core.demo import (
    DEMO_PASSWORD,
    demo_children,
    demo_seed,
    demo_seed_apps,
    demo_users,
)
from metrolab.core.management.commands.serve import Command as ServeCommand
from metrolab.core.permissions import SYSTEM


class Command(ServeCommand):
    help = "Create, migrate and seed a demo lab (once), then serve it with the task worker."

    def handle(self, *args, **options):
        self.prepare(verbosity=options["verbosity"])
        created = demo_seed(actor=SYSTEM)
        # The business apps' demo data, as each app registered it (metrolab.core.demo):
        # customers and commissions (with the disciplines), the methods, equipment and
        # qualification libraries, then items and tasks assigned under the authorised items,
        # then the monitored rooms with a day of history; their simulated sensors keep
        # reporting (environment-simulate) and alarms are watched (environment-watch) beside
        # the server.
        demo_seed_apps(actor=SYSTEM)
        self.stdout.write(
            self.style.SUCCESS("Demo laboratory seeded.")
            if created
            else "Demo laboratory already seeded."
        )
        self.stdout.write(f"Demo users (password for all: {DEMO_PASSWORD}):")
        for username, label in demo_users():
            self.stdout.write(f"  {username:<18} {label}")
        self.run(options, children=demo_children())
