"""Rate limit of the public status query (R6.1b, R9.1): a guessed number and code pair is
one request, so each client address gets a few per minute (`metrolab.core.throttle`)."""

from __future__ import annotations

from django.conf import settings

from metrolab.core.throttle import WINDOW_SECONDS, rate_allowed

__all__ = ["WINDOW_SECONDS", "status_query_allowed", "status_query_limit"]


def status_query_limit() -> int:
    """Requests per client address per minute (setting METROLAB_STATUS_QUERY_PER_MINUTE)."""
    return int(getattr(settings, "METROLAB_STATUS_QUERY_PER_MINUTE", 10))


def status_query_allowed(client: str | None) -> bool:
    """Count one query from `client`; False once it has used up this minute's allowance."""
    return rate_allowed("status-query", client, status_query_limit())
