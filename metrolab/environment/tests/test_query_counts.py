"""Every environment page, fragment and API list issues as many queries with 1 room, sensor,
alarm or actuator as with 10 (no query per row: `assert_same_query_count_with_n_and_10n`)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from metrolab.core.testing import assert_same_query_count_with_n_and_10n
from metrolab.environment.models import (
    Actuator,
    Alarm,
    Command,
    Reading,
    Requirement,
    Room,
    Sensor,
)

pytestmark = pytest.mark.django_db

QUANTITIES = [("temperature", "℃", 21.0), ("humidity", "%RH", 45.0), ("pressure", "kPa", 101.3)]
_serial = itertools.count(1)


def add_sensor(room: Room, *, with_history: bool = True, device=None, by=None) -> Sensor:
    """A sensor (bound to `device`, if given) with a current reading (and one an hour ago),
    a requirement of its quantity and an open alarm (acknowledged by `by`, if given)."""
    i = next(_serial)
    quantity, unit, value = QUANTITIES[i % len(QUANTITIES)]
    now = timezone.now().replace(microsecond=0)
    sensor = Sensor.objects.create(
        code=f"S-{i}",
        name=f"Sensor {i}",
        room=room,
        quantity=quantity,
        unit=unit,
        correction=Decimal("0.1"),
        installed_at=now - dt.timedelta(days=30),
        last_time=now,
        last_value=value,
        device=device,
        protocol="http" if device else "simulated",
    )
    if with_history:
        Reading.objects.create(sensor=sensor, time=now - dt.timedelta(hours=1), value=value - 1)
        Reading.objects.create(sensor=sensor, time=now, value=value)
    requirement = Requirement.objects.create(
        room=room, quantity=quantity, low=Decimal(value - 5), high=Decimal(value + 5), unit=unit
    )
    Alarm.objects.create(
        room=room,
        sensor=sensor,
        requirement=requirement,
        kind="high",
        message=f"{room.code} {sensor.code} high",
        value=value + 6,
        limit=requirement.high,
        raised_at=now - dt.timedelta(minutes=5),
        status="acknowledged" if by else "raised",
        acknowledged_by=by,
        acknowledged_at=now if by else None,
        comment="seen" if by else "",
    )
    return sensor


def add_actuator(room: Room, issued_by) -> Actuator:
    i = next(_serial)
    actuator = Actuator.objects.create(
        code=f"A-{i}", name=f"Actuator {i}", room=room, kind="hvac", protocol="simulated"
    )
    Command.objects.create(
        actuator=actuator,
        action="on",
        source="manual",
        issued_by=issued_by,
        reason="test",
        issued_at=timezone.now(),
        status="sent",
    )
    return actuator


def add_room() -> Room:
    i = next(_serial)
    room = Room.objects.create(code=f"R-{i}", name=f"Room {i}")
    add_sensor(room)
    return room


@pytest.fixture
def lab(db):
    return Room.objects.create(code="TL-1", name="Temperature lab")


@pytest.fixture
def reader(cast, login):
    return login(cast["equipment_manager"])


def test_the_rooms_overview_and_its_cards(reader):
    for url in (reverse("environment:rooms"), reverse("environment:rooms") + "?part=cards"):
        assert_same_query_count_with_n_and_10n(
            lambda url=url: reader.get(url),
            lambda k: [add_room() for _ in range(k)],
        )


def test_the_rooms_overview_with_more_sensors_per_room(reader, lab):
    assert_same_query_count_with_n_and_10n(
        lambda: reader.get(reverse("environment:rooms")),
        lambda k: [add_sensor(lab) for _ in range(k)],
    )


@pytest.mark.parametrize("part", ["", "?part=live", "?part=trends"])
def test_the_room_dashboard_and_its_fragments(reader, cast, lab, part):
    url = reverse("environment:room", args=[lab.pk]) + part

    def add(k):
        for _ in range(k):
            add_sensor(lab)
            add_actuator(lab, cast["equipment_manager"])

    count = assert_same_query_count_with_n_and_10n(lambda: reader.get(url), add)
    assert count <= 25


def test_the_sensors_list(reader, lab, make_device):
    def add(k):
        for _ in range(k):
            device, _raw = make_device(f"probe-{next(_serial)}")
            add_sensor(lab, with_history=False, device=device)

    assert_same_query_count_with_n_and_10n(lambda: reader.get(reverse("environment:devices")), add)


def test_the_alarm_log_and_the_command_log(reader, cast, lab):
    for url in (reverse("environment:alarms"), reverse("environment:commands")):
        assert_same_query_count_with_n_and_10n(
            lambda url=url: reader.get(url),
            lambda k: [
                (
                    add_sensor(lab, with_history=False, by=cast["metrologist"]),
                    add_actuator(lab, cast["admin"]),
                )
                for _ in range(k)
            ],
        )


@pytest.mark.parametrize(
    "path", ["/rooms", "/alarms", "/actuators", "/commands", "/rooms/{room}/status"]
)
def test_the_api_lists(reader, cast, lab, path):
    url = "/api/v1/environment" + path.format(room=lab.pk)

    def add(k):
        for _ in range(k):
            add_sensor(lab, with_history=False)
            add_actuator(lab, cast["equipment_manager"])
            add_room()

    def get():
        response = reader.get(url)
        assert response.status_code == 200
        return response

    assert_same_query_count_with_n_and_10n(get, add)
