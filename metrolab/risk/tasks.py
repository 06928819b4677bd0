"""Background tasks of risk (django.tasks): thin wrappers over services."""

from __future__ import annotations

import datetime as dt

from django.tasks import task

from metrolab.core.permissions import SYSTEM
from metrolab.risk import services


@task()
def risk_send_alerts_task(on: str | None = None) -> int:
    """The daily risk notifications (R4.5); `on` as YYYY-MM-DD, default today."""
    day = dt.date.fromisoformat(on) if on else None
    return services.risk_alerts_send(on=day, actor=SYSTEM)
