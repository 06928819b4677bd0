"""`metrolab worker`: background-task workers (django.tasks, database backend)."""

from __future__ import annotations

import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

from metrolab.core.management.commands.serve import _die_with_parent


class Command(BaseCommand):
    help = "Run background-task workers (several machines may each run some)."

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, default=1, help="worker processes here")
        parser.add_argument("--queue-name", default="default")

    def handle(self, *args, **options):
        n = options["processes"]
        if n <= 1:
            call_command("db_worker", queue_name=options["queue_name"])
            return
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "metrolab.cli",
                    "worker",
                    "--queue-name",
                    options["queue_name"],
                ],
                preexec_fn=_die_with_parent,
            )
            for _ in range(n)
        ]
        try:
            for child in children:
                child.wait()
        except KeyboardInterrupt:
            for child in children:
                child.terminate()
