"""Helpers for the tests of every app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


def assert_same_query_count_with_n_and_10n(
    request: Callable[[], Any], add: Callable[[int], Any], n: int = 1, factor: int = 10
) -> int:
    """Assert that `request()` (a page, a fragment, an API list) issues the same number of
    queries with `n` rows as with `factor`·n: no query per row (N+1).

    `add(k)` creates k more of the rows the request lists (rooms, sensors, alarms...). The
    request is made once unmeasured first (what a first request caches: the session, the
    content types), then counted with n rows and with factor·n. Returns the count; on failure
    the message lists the queries of both runs."""
    add(n)
    request()

    def count() -> CaptureQueriesContext:
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
