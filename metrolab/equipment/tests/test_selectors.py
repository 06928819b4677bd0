"""Reads of equipment: the correction to apply from the calibration in force (computed by hand
below), the register's filters on the days around each due date, the booking week and the
usage history in a period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from metrolab.equipment import selectors, services
from metrolab.equipment.selectors import Correction, calibration_correction
from metrolab.equipment.tests.conftest import days

pytestmark = pytest.mark.django_db

# Certificate results of a 0–10 MPa gauge (nominal, unit, correction, U, k) and one point in kPa.
POINTS = [
    ("0", "MPa", "0.000", "0.002", "2"),
    ("5", "MPa", "0.004", "0.003", "2"),
    ("10", "MPa", "-0.002", "0.004", "2.5"),
    ("100", "kPa", "0.3", "0.5", "2"),
]


@pytest.fixture
def calibrated(gauge, calibrate):
    return calibrate(gauge, date=days(-100), due=days(265), points=POINTS)


def D(text: str) -> Decimal:
    return Decimal(text)


def test_at_a_calibrated_point_its_own_values(gauge, calibrated):
    assert calibration_correction(gauge, "5", "MPa") == Correction(D("0.004"), D("0.003"), D("2"))
    assert calibration_correction(gauge, 10, "MPa") == (D("-0.002"), D("0.004"), D("2.5"))
    assert calibration_correction(gauge, "100", "kPa") == (D("0.3"), D("0.5"), D("2"))


@pytest.mark.parametrize(
    ("nominal", "expected"),
    [
        # 2.5 MPa: halfway between 0 (0.000) and 5 (0.004) → 0.002; U the larger: 0.003, k 2.
        ("2.5", ("0.002", "0.003", "2")),
        # 7.5 MPa: 0.004 + (−0.002 − 0.004) × 2.5/5 = 0.001; U 0.004 (k 2.5) from 10 MPa.
        ("7.5", ("0.001", "0.004", "2.5")),
        # 6 MPa: 0.004 + (−0.006) × 1/5 = 0.0028.
        ("6", ("0.0028", "0.004", "2.5")),
        # 0.1 MPa: 0.004 × 0.1/5 = 0.00008.
        ("0.1", ("0.00008", "0.003", "2")),
    ],
)
def test_between_points_the_correction_is_interpolated(gauge, calibrated, nominal, expected):
    found = calibration_correction(gauge, nominal, "MPa")
    assert found == tuple(D(x) for x in expected)


@pytest.mark.parametrize(
    ("nominal", "unit"),
    [("-0.001", "MPa"), ("10.001", "MPa"), ("5", "kPa"), ("5", "mpa"), ("5", "bar")],
)
def test_outside_the_points_or_in_another_unit_there_is_none(gauge, calibrated, nominal, unit):
    assert calibration_correction(gauge, nominal, unit) is None


def test_only_the_confirmed_calibration_in_force_on_the_day_counts(gauge, calibrate, calibrated):
    # An older one, still in force 150 days ago; a newer one entered but not yet confirmed.
    calibrate(gauge, date=days(-500), due=days(-101), points=[("5", "MPa", "0.010", "0.006", "2")])
    calibrate(
        gauge, date=days(-1), due=days(364), points=[("5", "MPa", "0.9", "0.9", "2")], confirm=False
    )
    assert calibration_correction(gauge, "5", "MPa")[0] == D("0.004")
    assert calibration_correction(gauge, "5", "MPa", days(265))[0] == D("0.004")  # due day
    assert calibration_correction(gauge, "5", "MPa", days(266)) is None  # the day after
    assert calibration_correction(gauge, "5", "MPa", days(-100))[0] == D("0.004")
    assert calibration_correction(gauge, "5", "MPa", days(-101))[0] == D("0.010")
    assert calibration_correction(gauge, "5", "MPa", days(-501)) is None


def test_the_correction_api_answers_for_records(gauge, calibrated, login, cast):
    client = login(cast["metrologist"])
    ok = client.get(f"/api/v1/equipment/{gauge.pk}/correction", {"nominal": "7.5", "unit": "MPa"})
    assert ok.status_code == 200
    body = ok.json()
    assert D(body["correction"]) == D("0.001") and D(body["expanded_uncertainty"]) == D("0.004")
    assert body["calibration"] == calibrated.certificate_no
    none = client.get(f"/api/v1/equipment/{gauge.pk}/correction", {"nominal": "11", "unit": "MPa"})
    assert none.status_code == 404 and none.json()["error"]["code"] == "not_found"


# --- the register's filters ------------------------------------------------------------------


@pytest.fixture
def fleet(make_equipment, calibrate, cast):
    """Equipment due today, in 30 and 31 days, overdue since yesterday, never calibrated,
    and scrapped."""
    made = {}
    for asset, due in [("D-TODAY", 0), ("D-30", 30), ("D-31", 31), ("D-LATE", -1)]:
        made[asset] = make_equipment(asset)
        calibrate(made[asset], date=days(due - 365), due=days(due))
    made["D-NONE"] = make_equipment("D-NONE", kind="auxiliary", model="THERMO-HYGRO")
    made["D-OLD"] = make_equipment("D-OLD")
    services.equipment_set_status(
        equipment=made["D-OLD"], status="scrapped", reason="报废", actor=cast["equipment_manager"]
    )
    return made


def assets(**filters) -> list[str]:
    return [e.asset_no for e in selectors.equipment_list(**filters)]


def test_register_filters_around_due_dates(fleet):
    assert assets() == ["D-30", "D-31", "D-LATE", "D-NONE", "D-TODAY"]  # scrapped left out
    assert assets(due_within=30) == ["D-30", "D-TODAY"]
    assert assets(due_within=31) == ["D-30", "D-31", "D-TODAY"]
    assert assets(due_within=0) == ["D-TODAY"]
    assert assets(overdue=True) == ["D-LATE"]
    assert assets(uncalibrated=True) == ["D-NONE"]
    assert assets(status="scrapped") == ["D-OLD"]
    assert assets(kind="auxiliary") == ["D-NONE"]
    assert assets(q="thermo") == ["D-NONE"]
    states = {e.asset_no: selectors.calibration_due_status(e) for e in selectors.equipment_list()}
    assert (states["D-TODAY"].state, states["D-TODAY"].days_left) == ("due_soon", 0)
    assert (states["D-LATE"].state, states["D-LATE"].overdue_days) == ("overdue", 1)
    assert (states["D-30"].state, states["D-31"].state) == ("due_soon", "ok")
    assert states["D-NONE"].state == "none" and states["D-LATE"].colour == "red"


def test_standard_certificate_status_is_valid_on_its_expiry_day(db):
    from metrolab.equipment.models import MeasurementStandard

    standard = MeasurementStandard(certificate_expiry=days(0))
    assert selectors.standard_certificate_status(standard).state == "due_soon"
    assert selectors.standard_certificate_status(standard, days(1)).state == "overdue"
    assert selectors.standard_certificate_status(standard, days(-91)).state == "ok"


# --- the week and the usage history ----------------------------------------------------------


def test_iso_weeks():
    assert selectors.parse_iso_week("2026-W05") == dt.date(2026, 1, 26)
    assert selectors.parse_iso_week(" 2026-w01 ") == dt.date(2025, 12, 29)
    for bad in ("2026-W54", "2026-05", "W05", "", "2026-Wxx"):
        with pytest.raises(ValueError):
            selectors.parse_iso_week(bad)
    assert selectors.iso_week(dt.date(2026, 1, 1)) == "2026-W01"


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def test_booking_week_spreads_bookings_over_their_days(gauge, make_equipment, cast):
    other = make_equipment("EQ-002")
    monday = selectors.week_monday(days(7))
    book = services.equipment_booking_create
    overnight = book(
        equipment=gauge,
        starts_at=_at(monday, 22),
        ends_at=_at(monday + dt.timedelta(days=1), 2),
        actor=cast["metrologist"],
    )
    to_midnight = book(
        equipment=other,
        starts_at=_at(monday, 20),
        ends_at=_at(monday + dt.timedelta(days=1), 0),
        actor=cast["checker"],
    )
    cancelled = book(
        equipment=other, starts_at=_at(monday, 8), ends_at=_at(monday, 9), actor=cast["checker"]
    )
    services.equipment_booking_cancel(booking=cancelled, actor=cast["checker"])
    week = selectors.booking_week(monday)
    rows = {row.equipment.asset_no: row for row in week.rows}
    assert [c.bookings for c in rows["EQ-001"].days[:3]] == [[overnight], [overnight], []]
    assert [c.bookings for c in rows["EQ-002"].days[:2]] == [[to_midnight], []]
    assert [len(d.bookings) for d in week.by_day] == [2, 1, 0, 0, 0, 0, 0]
    assert week.label == selectors.iso_week(monday)
    assert selectors.parse_iso_week(week.next) == monday + dt.timedelta(days=7)
    only = selectors.booking_week(monday, equipment=other)
    assert [r.equipment for r in only.rows] == [other] and only.bookings == [to_midnight]


def test_usage_history_in_a_period(gauge, cast):
    start = _at(days(-10), 9)

    def use(offset_hours, hours):
        begin = start + dt.timedelta(hours=offset_hours)
        return services.equipment_usage_record(
            equipment=gauge,
            user=cast["metrologist"],
            started_at=begin,
            ended_at=begin + dt.timedelta(hours=hours) if hours else None,
            actor=cast["metrologist"],
        )

    early, middle, late, still_open = use(0, 2), use(24, 2), use(48, 2), use(72, None)
    period = {"start": start + dt.timedelta(hours=25), "end": start + dt.timedelta(hours=49)}
    assert list(selectors.usage_history(equipment=gauge, **period)) == [late, middle]
    assert list(selectors.usage_history(equipment=gauge, start=start + dt.timedelta(hours=80))) == [
        still_open
    ]
    assert list(selectors.usage_history(equipment=gauge, end=start + dt.timedelta(hours=1))) == [
        early
    ]
