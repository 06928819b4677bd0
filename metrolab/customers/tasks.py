"""Background tasks of customers (django.tasks): thin wrappers over services."""

from __future__ import annotations

import datetime as dt

from django.tasks import task

from metrolab.customers import services


@task()
def instrument_send_due_reminders_task(today: str | None = None) -> int:
    """The daily recalibration reminders (R9.1); `today` as YYYY-MM-DD, default today."""
    day = dt.date.fromisoformat(today) if today else None
    return services.instrument_send_due_reminders(today=day)
