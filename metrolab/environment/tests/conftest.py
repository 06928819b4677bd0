"""Shared fixtures of the environment tests: a room with requirements, sensors, a device.

Kept small so that the MQTT / Modbus tests can use it too (their own fixtures live in
`mqtt_fixtures.py`; the one broker of the test run, `mqtt_broker_session`, is imported here)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from metrolab.core.permissions import SYSTEM
from metrolab.core.services import api_token_create, user_create
from metrolab.environment.models import Requirement, Room, Sensor
from metrolab.environment.tests.mqtt_fixtures import mqtt_broker_session  # noqa: F401 - fixture

T0 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
# When the test sensors were installed: well before anything the tests report.
INSTALLED = T0 - dt.timedelta(days=365)


@pytest.fixture
def room(db):
    """A temperature lab kept at 20 ± 5 ℃ and 30–70 %RH."""
    lab = Room.objects.create(code="TL-1", name="Temperature lab")
    Requirement.objects.create(
        room=lab, quantity="temperature", low=Decimal("15"), high=Decimal("25"), unit="℃"
    )
    Requirement.objects.create(
        room=lab, quantity="humidity", low=Decimal("30"), high=Decimal("70"), unit="%RH"
    )
    return lab


@pytest.fixture
def make_sensor(db):
    def _make(code, room, quantity="temperature", unit="℃", **fields):
        fields.setdefault("installed_at", INSTALLED)
        return Sensor.objects.create(
            code=code, name=code, room=room, quantity=quantity, unit=unit, **fields
        )

    return _make


@pytest.fixture
def make_device(db):
    """make_device("probe-1") -> (device user, raw bearer token)."""

    def _make(username="probe-1"):
        device = user_create(username=username, password=None, roles=["device"], actor=SYSTEM)
        _token, raw = api_token_create(
            user=device, name=f"{username} token", roles=["device"], actor=SYSTEM
        )
        return device, raw

    return _make
