"""The background worker of `metrolab worker`: django-tasks-db's worker, run in cycles — run
the queued tasks, do the worker's own scheduled work, wait — so that beside the tasks it
anchors the audit chain's head every hour (R7.2b).

Scheduled work also runs between tasks, so a queue that never empties cannot hold it back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker

logger = logging.getLogger(__name__)


class Every:
    """Run `action` at the first tick and then once `seconds` have passed since the last run.
    A failure is logged, never raised (the worker keeps running tasks), and tried again after
    `retry` seconds. `clock` is injectable so that tests need not wait an hour."""

    def __init__(
        self,
        seconds: float,
        action: Callable[[], Any],
        *,
        retry: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.seconds = seconds
        self.action = action
        self.retry = min(retry, seconds)
        self.clock = clock
        self.next_at: float | None = None  # None: due now

    def tick(self) -> bool:
        """Run the action if it is due; True when it ran and succeeded."""
        now = self.clock()
        if self.next_at is not None and now < self.next_at:
            return False
        try:
            self.action()
        except Exception:
            logger.exception("scheduled work %s failed; trying again later", self.action.__name__)
            self.next_at = now + self.retry
            return False
        self.next_at = now + self.seconds
        return True


class Worker(DatabaseWorker):
    """django-tasks-db's worker that also runs `scheduled` callables (each `Every.tick`)
    between tasks and whenever the queue is empty."""

    def __init__(
        self,
        *,
        scheduled: Sequence[Callable[[], Any]] = (),
        sleep: Callable[[float], Any] = time.sleep,
        **options: Any,
    ):
        super().__init__(batch=True, max_tasks=None, **options)
        self.scheduled = list(scheduled)
        self.sleep = sleep

    def run_scheduled(self) -> None:
        for tick in self.scheduled:
            tick()

    def run_task(self, db_task_result) -> None:
        try:
            super().run_task(db_task_result)
        finally:
            self.run_scheduled()

    def run_forever(self) -> None:
        """Until stopped (SIGINT / SIGTERM, handled by django-tasks-db's worker): run every
        ready task, run the scheduled work, wait `interval` seconds."""
        while self.running:
            self.run()  # batch mode: returns once no task is ready
            self.startup_delay = False
            self.run_scheduled()
            if self.running:
                self.sleep(self.interval)
