"""Rate limit of the public status query (R6.1b, R9.1): a guessed number and code pair is
one request, so each client address gets a few per minute.

Counts live in Django's cache (fixed one-minute windows). The default cache, LocMemCache,
counts per process: with several server processes set CACHES to a shared cache (Redis,
Memcached or the database cache) so that the limit holds across them.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60


def status_query_limit() -> int:
    """Requests per client address per minute (setting METROLAB_STATUS_QUERY_PER_MINUTE)."""
    return int(getattr(settings, "METROLAB_STATUS_QUERY_PER_MINUTE", 10))


def status_query_allowed(client: str | None) -> bool:
    """Count one query from `client`; False once it has used up this minute's allowance."""
    window = int(time.time() // WINDOW_SECONDS)
    key = f"metrolab:status-query:{client or 'unknown'}:{window}"
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    return count <= status_query_limit()
