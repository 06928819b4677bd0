"""Background tasks of instruments (django.tasks): thin wrappers over services."""

from __future__ import annotations

from django.tasks import task

from metrolab.instruments import services


@task()
def run_procedure_task(run_id: int) -> str:
    """Run a queued procedure run until it is done, paused, waiting for a prompt or aborted
    (R8b); returns that status."""
    return services.run_execute(run_id=run_id)
