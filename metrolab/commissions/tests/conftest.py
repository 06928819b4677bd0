"""Fixtures shared with the customers tests (customers A and B, price list, slots), and a
clock of the lab."""

import pytest

from metrolab.customers.tests.conftest import (  # noqa: F401 - fixtures
    _english,
    _fresh_cache,
    org_a,
    org_b,
    pressure,
    slot,
)


@pytest.fixture
def lab_clock(monkeypatch):
    """lab_clock(hour, minute=0, day=today) sets "now" to that time of the lab's time zone
    (settings.TIME_ZONE, Asia/Shanghai) for everything that asks `timezone.now()`."""
    import datetime as dt

    from django.utils import timezone

    real_now = timezone.now

    def set_now(hour: int, minute: int = 0, day: dt.date | None = None) -> dt.datetime:
        lab = timezone.get_default_timezone()
        day = day or timezone.localtime(real_now(), lab).date()
        now = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=lab)
        monkeypatch.setattr(timezone, "now", lambda: now)
        return now

    return set_now
