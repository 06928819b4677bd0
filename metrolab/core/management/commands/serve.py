"""`metrolab serve`: migrate, then run the site under uvicorn with the background worker."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


def _die_with_parent() -> None:
    """In the worker child: ask Linux to SIGTERM it when the server process ends, however it
    ends (uvicorn re-raises SIGTERM, so a `finally` in the parent may never run)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Command(BaseCommand):
    help = "Serve MetroLab (uvicorn + WhiteNoise) together with a background-task worker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--web-workers", type=int, default=1, help="uvicorn worker processes (default 1)"
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="do not start the task worker here (run `metrolab worker` apart)",
        )

    def handle(self, *args, **options):
        self.prepare(verbosity=options["verbosity"])
        self.run(options)

    def prepare(self, verbosity: int = 1) -> None:
        call_command("migrate", interactive=False, verbosity=max(0, verbosity - 1))
        if settings.PRODUCTION:
            call_command("collectstatic", interactive=False, verbosity=0)

    def run(self, options, children: list[list[str]] | None = None) -> None:
        """Serve until stopped. `children` are more long-running commands (argv lists) to
        start beside the worker and stop with the server (the demo's simulated rooms)."""
        argvs = [] if options["no_worker"] else [[sys.executable, "-m", "metrolab.cli", "worker"]]
        argvs += children or []
        processes = [subprocess.Popen(argv, preexec_fn=_die_with_parent) for argv in argvs]
        host, port = options["host"], options["port"]
        self.stdout.write(self.style.SUCCESS(f"MetroLab is serving at http://{host}:{port}/"))
        try:  # uvicorn stops gracefully on SIGINT / SIGTERM and returns
            uvicorn.run(
                "config.asgi:application",
                host=host,
                port=port,
                workers=options["web_workers"],
                log_level="info",
                lifespan="off",
                # Forwarded headers are believed only from the configured proxies (none by
                # default); MetroLab's own middleware applies the same rule.
                proxy_headers=bool(settings.METROLAB_TRUSTED_PROXIES),
                forwarded_allow_ips=",".join(settings.METROLAB_TRUSTED_PROXIES) or "",
            )
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
