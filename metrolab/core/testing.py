"""Helpers shared by the test suites (used by tests only, never by the product).

Each helper is a function of its own; add new ones beside them, not inside them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# --- a refusal writes nothing ----------------------------------------------------------------


def _models_of(targets) -> list:
    from django.apps import apps

    models = []
    for target in targets:
        if isinstance(target, str):
            models.extend(apps.get_app_config(target).get_models())
        else:
            models.append(target)
    return models


def _rows_and_events(models) -> dict[str, Any]:
    from metrolab.core.models import AuditEvent

    return {
        "audit events": AuditEvent.objects.count(),
        **{m._meta.label: list(m.objects.order_by("pk").values()) for m in models},
    }


@contextmanager
def nothing_written(*targets) -> Iterator[None]:
    """Assert that the block wrote no audit event and left every row of `targets` (app labels
    such as "equipment", or model classes) as it was: each row compared field by field, so an
    update is caught as well as an insert or a delete."""
    models = _models_of(targets)
    before = _rows_and_events(models)
    yield
    after = _rows_and_events(models)
    changed = [key for key in before if before[key] != after[key]]
    assert not changed, f"a refusal wrote to {', '.join(changed)}"


def refused(
    call: Callable,
    /,
    *args,
    code: str | None = None,
    field: str | None = None,
    match: str | None = None,
    unchanged: tuple = (),
    **kwargs,
):
    """Call `call(*args, **kwargs)`, expect a ServiceError and prove that nothing was written
    (no audit event, no row of the apps or models in `unchanged` changed). `code` and `field`
    must equal the error's, `match` must occur in its message. Returns the error."""
    import pytest

    from metrolab.core.service import ServiceError

    with nothing_written(*unchanged), pytest.raises(ServiceError) as caught:
        call(*args, **kwargs)
    error = caught.value
    if code is not None:
        assert error.code == code, (error.code, error.message)
    if field is not None:
        assert error.field == field, (error.field, error.message)
    if match is not None:
        assert match in error.message, error.message
    return error


# --- racing threads --------------------------------------------------------------------------


def race(n: int, work: Callable[[], Any], *, timeout: float = 120.0) -> list:
    """Run `work()` in `n` threads released together (each with its own database connection,
    closed after it). Returns every thread's outcome: the value returned, the code of a
    ServiceError, or "error: ..." for any other exception (a database error is a bug the test
    then shows). Fails when a thread did not finish within `timeout` seconds."""
    from django.db import connection

    from metrolab.core.service import ServiceError

    barrier = threading.Barrier(n)
    results: list = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait(timeout=30)
            outcome = work()
        except ServiceError as exc:
            outcome = exc.code
        except Exception as exc:
            outcome = f"error: {type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, name=f"race-{i}") for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    alive = [thread.name for thread in threads if thread.is_alive()]
    assert not alive, f"still running after {timeout} s: {alive}"
    assert len(results) == n, results
    return results


# --- the same query count with N and 10·N rows ---------------------------------------------


def assert_same_query_count_with_n_and_10n(
    request: Callable[[], Any], add: Callable[[int], Any], n: int = 1, factor: int = 10
) -> int:
    """Assert that `request()` (a page, a fragment, an API list) issues the same number of
    queries with `n` rows as with `factor`·n: no query per row (N+1).

    `add(k)` creates k more of the rows the request lists (rooms, sensors, alarms...). The
    request is made once unmeasured first (what a first request caches: the session, the
    content types), then counted with n rows and with factor·n. Returns the count; on failure
    the message lists the queries of both runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    add(n)
    request()

    def count():
        with CaptureQueriesContext(connection) as queries:
            request()
        return queries

    few = count()
    add((factor - 1) * n)
    many = count()
    if len(few) != len(many):
        listing = "\n".join(
            [f"--- with {n}:"]
            + [q["sql"] for q in few.captured_queries]
            + [f"--- with {factor * n}:"]
            + [q["sql"] for q in many.captured_queries]
        )
        raise AssertionError(
            f"{len(few)} queries with {n}, {len(many)} with {factor * n}:\n{listing}"
        )
    return len(few)
