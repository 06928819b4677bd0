"""`metrolab worker`: background-task workers (django.tasks, database backend), which also
anchor the audit chain's head every hour (R7.2b; see metrolab.core.worker)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django.utils.crypto import get_random_string
from django_tasks_db.compat import DEFAULT_TASK_BACKEND_ALIAS, TASKS_LOGGER

from metrolab.core.management.commands.serve import _die_with_parent
from metrolab.core.worker import Every, Worker


def audit_anchor_schedule() -> Every:
    """The worker's audit anchors: at start, then every METROLAB_AUDIT_ANCHOR_SECONDS."""
    from metrolab.core.services import audit_anchor_scheduled

    return Every(settings.METROLAB_AUDIT_ANCHOR_SECONDS, audit_anchor_scheduled)


class Command(BaseCommand):
    help = (
        "Run background-task workers (several machines may each run some); the worker also "
        "anchors the audit chain's head every hour."
    )

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, default=1, help="worker processes here")
        parser.add_argument("--queue-name", default="default")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds to wait when no task is ready"
        )
        parser.add_argument(
            "--no-audit-anchors",
            action="store_true",
            help="do not anchor the audit chain's head from this worker",
        )
        parser.add_argument(
            "--reload", action="store_true", default=settings.DEBUG, help="reload on code changes"
        )

    def handle(self, *args, **options):
        n = options["processes"]
        if n <= 1:
            self.run_worker(options)
            return
        # One process per machine anchors the audit chain: the others would only repeat it.
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "metrolab.cli",
                    "worker",
                    "--queue-name",
                    options["queue_name"],
                    "--interval",
                    str(options["interval"]),
                    *(["--no-audit-anchors"] if i or options["no_audit_anchors"] else []),
                ],
                preexec_fn=_die_with_parent,
            )
            for i in range(n)
        ]
        try:
            for child in children:
                child.wait()
        except KeyboardInterrupt:
            for child in children:
                child.terminate()

    def run_worker(self, options) -> None:
        verbosity = options["verbosity"]
        # Task runs are logged by django.tasks; django-tasks-db would announce every cycle.
        tasks_logger = logging.getLogger(TASKS_LOGGER)
        tasks_logger.setLevel(logging.INFO if verbosity else logging.CRITICAL)
        if not tasks_logger.hasHandlers():
            tasks_logger.addHandler(logging.StreamHandler(self.stdout))
        logging.getLogger("django_tasks_db").setLevel(logging.WARNING)
        anchors = not options["no_audit_anchors"]
        worker = Worker(
            scheduled=[audit_anchor_schedule().tick] if anchors else [],
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=True,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        if verbosity:
            self.stdout.write(
                f"Worker {worker.worker_id} on queue {options['queue_name']}"
                + (
                    f"; audit anchors every {settings.METROLAB_AUDIT_ANCHOR_SECONDS} s "
                    f"to {settings.METROLAB_AUDIT_ANCHOR_FILE}"
                    if anchors
                    else ""
                )
            )
        if options["reload"]:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only in the reloaded child
            run_with_reloader(worker.run_forever)
        else:
            worker.configure_signals()
            worker.run_forever()
