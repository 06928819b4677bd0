"""Fixtures shared with the customers tests (customers A and B, price list, slots)."""

from metrolab.customers.tests.conftest import (  # noqa: F401 - fixtures
    _english,
    _fresh_cache,
    org_a,
    org_b,
    pressure,
    slot,
)
