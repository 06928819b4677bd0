"""Background tasks of the environment (django.tasks): thin wrappers."""

from __future__ import annotations

from django.tasks import task

from metrolab.environment.retention import retention_run


@task()
def environment_retention_task() -> dict:
    """The nightly retention run: raw readings and minute aggregates past their period."""
    result = retention_run()
    return {"readings": result.readings_deleted, "minutes": result.minutes_deleted}
