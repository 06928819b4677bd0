"""Retention of the reading stream (R6.11c): raw readings are kept `METROLAB_ENV_RAW_DAYS`
(default 31), minute aggregates `METROLAB_ENV_MINUTE_DAYS` (default 400); hour aggregates are
kept for good, so the long-term record of every room survives.

Deletes run in chunks (one short transaction each), so a large backlog never holds the write
lock for long and the ingesters keep running beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from metrolab.environment.models import Aggregate, Reading
from metrolab.environment.selectors import minute_days, raw_days

CHUNK = 5000


@dataclass
class RetentionResult:
    raw_before: dt.datetime
    minute_before: dt.datetime
    readings_deleted: int = 0
    minutes_deleted: int = 0


def _delete_in_chunks(queryset, chunk: int, report: Callable[[int], None]) -> int:
    total = 0
    while True:
        with transaction.atomic():
            pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:chunk])
            if not pks:
                return total
            deleted, _ = queryset.model.objects.filter(pk__in=pks).delete()
        total += deleted
        report(total)


def retention_run(
    *,
    now: dt.datetime | None = None,
    chunk: int = CHUNK,
    progress: Callable[[str], None] | None = None,
) -> RetentionResult:
    """Delete raw readings and minute aggregates older than their retention period."""
    now = now or timezone.now()
    say = progress or (lambda message: None)
    result = RetentionResult(
        raw_before=now - dt.timedelta(days=raw_days()),
        minute_before=now - dt.timedelta(days=minute_days()),
    )
    result.readings_deleted = _delete_in_chunks(
        Reading.objects.filter(time__lt=result.raw_before),
        chunk,
        lambda n: say(f"raw readings before {result.raw_before:%Y-%m-%d %H:%M}: {n} deleted"),
    )
    result.minutes_deleted = _delete_in_chunks(
        Aggregate.objects.filter(period=Aggregate.Period.MINUTE, start__lt=result.minute_before),
        chunk,
        lambda n: say(
            f"minute aggregates before {result.minute_before:%Y-%m-%d %H:%M}: {n} deleted"
        ),
    )
    return result
