"""The back office of sensors: the plausible range and the installation are edited there, and
a range the quantity cannot have is refused on the form with the reason."""

from __future__ import annotations

import datetime as dt

import pytest

from metrolab.core.models import AuditEvent
from metrolab.core.permissions import SYSTEM
from metrolab.environment.models import Sensor

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client):
    from metrolab.core.services import user_create

    user = user_create(username="root", password="pw-root-123", roles=["admin"], actor=SYSTEM)
    user.is_superuser = True
    user.save()
    client.force_login(user)
    return user


def form(sensor, **changes):
    data = {
        "code": sensor.code,
        "name": sensor.name,
        "room": sensor.room_id,
        "quantity": sensor.quantity,
        "unit": sensor.unit,
        "protocol": sensor.protocol,
        "address": "",
        "register_map": "{}",
        "device": "",
        "correction": "0",
        "uncertainty": "0",
        "calibration_due": "",
        "period_seconds": "60",
        "plausible_low": "",
        "plausible_high": "",
        "installed_at_0": "2026-01-15",
        "installed_at_1": "09:30:00",
        "active": "on",
    }
    data.update(changes)
    return data


def test_the_plausible_range_and_installation_are_edited_in_the_back_office(
    client, root, room, make_sensor, settings
):
    settings.LANGUAGE_CODE = "en"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    sensor = make_sensor("RH-1", room, quantity="humidity", unit="%RH")
    url = f"/admin/environment/sensor/{sensor.pk}/change/"
    page = client.get(url).content.decode()
    for name in ("plausible_low", "plausible_high", "installed_at_0"):
        assert f'name="{name}"' in page, name

    refused = client.post(url, form(sensor, plausible_low="0", plausible_high="120"))
    assert refused.status_code == 200
    assert "120 is physically impossible for relative humidity: the limits are 0–100 %RH." in (
        refused.content.decode()
    )
    backwards = client.post(url, form(sensor, plausible_low="80", plausible_high="20"))
    assert "The plausible range must go from a lower to a higher value." in (
        backwards.content.decode()
    )
    sensor.refresh_from_db()
    assert (sensor.plausible_low, sensor.plausible_high) == (None, None)

    saved = client.post(url, form(sensor, plausible_low="5", plausible_high="95"))
    assert saved.status_code == 302
    sensor.refresh_from_db()
    assert (sensor.plausible_low, sensor.plausible_high) == (5.0, 95.0)
    assert sensor.installed_at == dt.datetime(2026, 1, 15, 1, 30, tzinfo=dt.UTC)  # 09:30 +08:00
    event = AuditEvent.objects.filter(object_type="environment.sensor").latest("pk")
    assert {"plausible_low", "plausible_high", "installed_at"} <= set(event.changes)


def test_a_temperature_in_kelvin_has_its_own_absolute_zero(room, make_sensor):
    from django.core.exceptions import ValidationError

    kelvin = make_sensor("T-K", room, unit="K", plausible_low=-1)
    with pytest.raises(ValidationError) as refused:
        kelvin.full_clean()
    assert "plausible_low" in refused.value.message_dict
    kelvin.plausible_low = 250
    kelvin.full_clean()
    assert isinstance(kelvin, Sensor)
