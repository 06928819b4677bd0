"""Measurement is blocked while the room's or the method's environmental requirements do not
hold (R6.8c), with the reason in the user's words; the conditions over the measurement are
stored with the record at submission and still shown after the raw readings are deleted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from metrolab.core.testing import refused
from metrolab.environment.ingest import ingest_readings
from metrolab.environment.models import Reading, Requirement, Room, Sensor
from metrolab.records import services
from metrolab.records.errors import RecordRefusal
from metrolab.records.models import Record
from metrolab.records.selectors import record_detail
from metrolab.records.services.records import thinned
from metrolab.records.tests.fixtures import PASSWORD, gauge_cells, gauge_roles

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def lab(db):
    room = Room.objects.create(code="P-101", name="压力实验室")
    Requirement.objects.create(
        room=room, quantity="temperature", low=Decimal("18"), high=Decimal("22"), unit="℃"
    )
    sensor = Sensor.objects.create(
        code="P101-T",
        name="温度",
        room=room,
        quantity="temperature",
        unit="℃",
        installed_at=timezone.now() - dt.timedelta(days=2),
    )
    return room, sensor


def feed(sensor, *points):
    """points: (seconds before now, value)."""
    now = timezone.now()
    result = ingest_readings(
        [
            {"sensor": sensor.code, "time": (now - dt.timedelta(seconds=s)).isoformat(), "value": v}
            for s, v in points
        ],
        channel="simulated",
    )
    assert not result.rejected, result.rejected


@pytest.fixture
def room_record(cast, gauge_task, lab):
    return services.record_create(
        task=gauge_task, actor=cast["metrologist"], room=lab[0], roles=gauge_roles(gauge_task)
    )


def test_readings_refused_while_the_temperature_is_outside(cast, room_record, lab):
    _room, sensor = lab
    feed(sensor, (300, 20.5), (60, 23.1))
    assert services.measurement_blocked(room_record) == [
        "temperature 23.1 ℃ is outside 20 ± 2 ℃ required by room P-101 压力实验室."
    ]
    error = refused(
        services.record_write,
        record=room_record,
        values={"standard.1": "0"},
        actor=cast["metrologist"],
        code=RecordRefusal.CONDITIONS,
        unchanged=("records",),
    )
    assert "23.1 ℃ is outside 20 ± 2 ℃" in error.message
    # Parameters and typed header fields are not readings: they may be written.
    services.record_write(
        record=room_record, values={"param.accuracy_class": "1.6"}, actor=cast["metrologist"]
    )
    assert Record.objects.get(pk=room_record.pk).cells == {"param.accuracy_class": "1.6"}


def test_no_reading_blocks_a_room_with_requirements(cast, room_record, qualified_setup, lab):
    room, _sensor = lab
    Requirement.objects.create(
        room=room,
        quantity="humidity",
        low=None,
        high=Decimal("85"),
        unit="%RH",
        method=qualified_setup.method,
    )
    assert services.measurement_blocked(room_record) == [
        "No relative humidity reading in the last 10 minutes (≤ 85 %RH required by JJG 52-2013).",
        "No temperature reading in the last 10 minutes "
        "(20 ± 2 ℃ required by room P-101 压力实验室).",
    ]


def test_a_room_without_requirements_or_no_room_is_not_blocked(cast, gauge_task):
    Room.objects.create(code="X-1", name="Other")
    record = services.record_create(task=gauge_task, actor=cast["metrologist"])
    assert record.room is None
    assert services.measurement_blocked(record) == []
    assert "No room is pinned" in record_detail(record)["conditions_note"]


def test_conditions_are_stored_and_outlive_the_raw_readings(cast, room_record, lab, move):
    _room, sensor = lab
    feed(sensor, (240, 20.4), (120, 20.6), (30, 20.5))
    record = move(room_record, "submitted")
    assert record.conditions_held is True
    temperature = record.conditions["quantities"]["temperature"]
    assert temperature["count"] == 3 and temperature["min"] == 20.4 and temperature["max"] == 20.6
    assert temperature["requirements"][0]["held"] is True
    assert [r["value"] for r in temperature["readings"]] == [20.4, 20.6, 20.5]
    # The header's environment now reads the stored conditions.
    assert record.results["header"]["temperature"] == "20.5 ℃"
    Reading.objects.all().delete()  # raw readings are deleted after 31 days
    shown = record_detail(Record.objects.get(pk=record.pk))["record"].conditions
    assert [r["value"] for r in shown["quantities"]["temperature"]["readings"]] == [
        20.4,
        20.6,
        20.5,
    ]


def test_many_readings_are_thinned_keeping_min_and_max():
    readings = [{"value": 20 + (i % 7) / 10} for i in range(2000)]
    readings[1234]["value"] = 30.0
    readings[77]["value"] = 10.0
    kept = thinned(readings, 500)
    assert len(kept) <= 500
    assert {r["value"] for r in kept} >= {30.0, 10.0}
    assert kept[0] is readings[0] and kept[-1] is readings[-1]


def test_submit_with_password_keeps_its_signature(cast, room_record, lab):
    _room, sensor = lab
    feed(sensor, (60, 20.0))
    services.record_write(record=room_record, values=gauge_cells(), actor=cast["metrologist"])
    record = services.record_submit(
        record=room_record, actor=cast["metrologist"], password=PASSWORD
    )
    assert record.signatures.get().meaning == "measured"


def test_submit_asks_for_a_remark_when_the_conditions_did_not_hold(cast, room_record, lab):
    """R6.8c: the temperature left its limits during the measurement (after the readings were
    typed, so typing was not blocked): submitting is refused with the reason, nothing is
    written; with the measurer's remark it is submitted, the conditions stored as not held
    and the remark kept with the status change."""
    _room, sensor = lab
    feed(sensor, (60, 20.0))
    services.record_write(record=room_record, values=gauge_cells(), actor=cast["metrologist"])
    feed(sensor, (5, 22.6))
    error = refused(
        services.record_submit,
        record=room_record,
        actor=cast["metrologist"],
        password=PASSWORD,
        code=RecordRefusal.CONDITIONS,
        unchanged=("records", "tasks", "equipment"),
    )
    assert error.errors["reason"][-1] == (
        "temperature 22.6 ℃ is outside 20 ± 2 ℃ required by room P-101 压力实验室."
    )
    remark = "22.6 ℃ 为空调除霜瞬时波动，读数在 20.0 ℃ 时完成"
    record = services.record_submit(
        record=room_record, actor=cast["metrologist"], password=PASSWORD, reason=remark
    )
    assert record.status == Record.Status.SUBMITTED and record.conditions_held is False
    assert record.conditions["quantities"]["temperature"]["max"] == 22.6
    assert record.transitions.get(target="submitted").reason == remark
