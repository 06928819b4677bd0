"""Per-client rate limits of the public queries (R9.1): guessing a number and code pair costs
one request each, so each client address gets a few per minute and per kind of query.

Counts live in Django's cache (fixed one-minute windows). The default cache, LocMemCache,
counts per process: with several server processes set CACHES to a shared cache (Redis,
Memcached or the database cache) so that the limit holds across them.
"""

from __future__ import annotations

import time

from django.core.cache import cache

WINDOW_SECONDS = 60


def rate_allowed(scope: str, client: str | None, per_minute: int) -> bool:
    """Count one request of kind `scope` from `client`; False once it has used up this
    minute's allowance of `per_minute`."""
    window = int(time.time() // WINDOW_SECONDS)
    key = f"metrolab:{scope}:{client or 'unknown'}:{window}"
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    return count <= per_minute
