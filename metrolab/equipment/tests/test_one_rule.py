"""One home per rule (issue 13 §1) in the equipment app: the calibration that counts
(`EquipmentCalibration.objects`), field rules on the models reported every field at once, one
limit for calibration points, and a required actor on every service."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from metrolab.core.permissions import SYSTEM
from metrolab.core.service import ServiceError
from metrolab.equipment import selectors, services
from metrolab.equipment.models import MAX_POINTS, Equipment, EquipmentCalibration
from metrolab.equipment.tests.conftest import PDF_BYTES, days, nothing_written, today
from metrolab.qualifications import eligibility
from metrolab.risk.radar import Kind, radar

pytestmark = pytest.mark.django_db

BASE = "/api/v1/equipment"


def _entered(equipment, number, *, date, due, confirmed, by):
    """A calibration as it stands in the register (entered, confirmed back then or not)."""
    return EquipmentCalibration.objects.create(
        equipment=equipment,
        certificate_no=number,
        body="省计量院",
        date=date,
        due_date=due,
        confirmed_at=timezone.now() if confirmed else None,
        confirmed_by=by if confirmed else None,
    )


# --- the calibration that counts ------------------------------------------------------------


def test_the_rule_confirmed_only_done_by_the_day_due_on_or_after_it_latest_first(gauge, cast):
    by = cast["equipment_manager"]
    day = days(-100)
    old = _entered(gauge, "OLD", date=days(-500), due=days(-135), confirmed=True, by=by)
    tied_a = _entered(gauge, "TIE-A", date=days(-120), due=day, confirmed=True, by=by)
    tied_b = _entered(gauge, "TIE-B", date=days(-120), due=day, confirmed=True, by=by)
    _entered(gauge, "LATER", date=days(-50), due=days(300), confirmed=True, by=by)
    _entered(gauge, "PENDING", date=days(-110), due=days(250), confirmed=False, by=by)
    calibrations = EquipmentCalibration.objects.filter(equipment=gauge)
    # Confirmed only; done on or before the day; the latest by date, then by entry.
    assert [c.certificate_no for c in calibrations.counting(day)] == ["TIE-B", "TIE-A", "OLD"]
    assert gauge.current_calibration(day) == tied_b
    # In force ON its due date, not the day after.
    assert list(calibrations.in_force(day)) == [tied_b]
    assert list(calibrations.in_force(day + dt.timedelta(days=1))) == []
    assert gauge.calibration_in_force(days(-136)) == old
    # Today the later one counts and is in force.
    assert gauge.current_calibration().certificate_no == "LATER"
    assert tied_a not in calibrations.in_force()


def test_a_newer_confirmed_calibration_supersedes_an_older_one_still_in_date(gauge, cast):
    """The stricter of the rules the copies applied: the latest confirmed calibration counts,
    even when an older one has a later due date."""
    by = cast["equipment_manager"]
    _entered(gauge, "LONG", date=days(-300), due=days(400), confirmed=True, by=by)
    short = _entered(gauge, "SHORT", date=days(-200), due=days(-10), confirmed=True, by=by)
    assert gauge.current_calibration() == short
    assert gauge.calibration_in_force() is None
    assert selectors.calibration_for_day(gauge) is None
    assert selectors.calibration_due_status(selectors.equipment_get(gauge.pk)).state == "overdue"


def test_eligibility_the_radar_and_the_card_name_the_same_calibration(client, gauge, cast):
    """An expired confirmed calibration and a newer one awaiting confirmation: every reader
    names the expired one, and none takes the unconfirmed one."""
    by = cast["equipment_manager"]
    expired = _entered(gauge, "JL-OLD", date=days(-400), due=days(-35), confirmed=True, by=by)
    _entered(gauge, "JL-NEW", date=days(-10), due=days(355), confirmed=False, by=by)

    [problem] = [
        p
        for p in eligibility._equipment_problems(gauge, day=today())
        if p.code == "equipment_calibration_overdue"
    ]
    assert expired.due_date.isoformat() in problem.message and "JL-NEW" in problem.message

    [entry] = [e for e in radar(on=today(), days=30) if e.kind == Kind.CALIBRATION]
    assert (entry.due, entry.detail) == (expired.due_date, "JL-OLD")

    client.force_login(cast["checker"])
    card = client.get(f"/equipment/{gauge.pk}/")
    assert card.context["due"].due == expired.due_date
    assert card.context["due"].state == "overdue"
    body = client.get(f"{BASE}/{gauge.pk}").json()
    assert body["calibration"]["state"] == "overdue"
    assert gauge.current_calibration() == expired
    assert selectors.equipment_list(overdue=True).get() == gauge
    # No correction from a calibration that is not in force, and no return to use.
    assert selectors.calibration_correction(gauge, "10", "MPa") is None
    services.equipment_set_status(equipment=gauge, status="out_of_service", reason="到期", actor=by)
    with pytest.raises(ServiceError) as refused:
        services.equipment_set_status(equipment=gauge, status="in_service", reason="r", actor=by)
    assert refused.value.code == "calibration_required"


# --- a required actor -----------------------------------------------------------------------


def _services() -> dict:
    """Every @service function of every module of metrolab.equipment.services."""
    found = {}
    for module in pkgutil.iter_modules(services.__path__):
        loaded = importlib.import_module(f"{services.__name__}.{module.name}")
        for name, value in vars(loaded).items():
            if hasattr(value, "audit_action") and value.__module__ == loaded.__name__:
                found[f"{module.name}.{name}"] = value
    return found


def test_every_service_takes_a_required_keyword_only_actor():
    found = _services()
    assert len(found) == 20 and "_common._status_write" in found
    for name, func in found.items():
        actor = inspect.signature(func).parameters["actor"]
        assert actor.kind is inspect.Parameter.KEYWORD_ONLY, name
        assert actor.default is inspect.Parameter.empty, name


def test_a_forgotten_actor_raises_type_error_and_writes_nothing(db):
    with nothing_written(), pytest.raises(TypeError, match="actor"):
        services.equipment_create(asset_no="EQ-NOBODY", name="无人登记")


def test_only_the_system_is_trusted_without_a_person(db):
    with nothing_written(), pytest.raises(TypeError, match="actor"):
        services.equipment_create(actor=None, asset_no="EQ-X", name="X")
    with nothing_written(), pytest.raises(ServiceError) as refused:
        services.equipment_create(actor=AnonymousUser(), asset_no="EQ-X", name="X")
    assert refused.value.code == "forbidden"
    made = services.equipment_create(actor=SYSTEM, asset_no="EQ-SYS", name="系统登记")
    assert Equipment.objects.get(asset_no="EQ-SYS") == made
    assert services.equipment_control_reconcile(actor=SYSTEM) == []


# --- field rules on the models, every field at once ----------------------------------------


def test_the_api_answers_422_with_one_detail_per_field_at_fault(client, cast):
    client.force_login(cast["equipment_manager"])
    data = {
        "asset_no": "EQ-BAD",
        "name": "精密数字压力计",
        "rfid_uid": "x!",
        "calibration_interval_months": 0,
        "purchase_date": days(5).isoformat(),
        "location": "库" * 101,
    }
    with nothing_written():
        response = client.post(f"{BASE}/", data, content_type="application/json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    locs = [d["loc"] for d in error["details"]]
    assert sorted(locs) == [
        ["calibration_interval_months"],
        ["location"],
        ["purchase_date"],
        ["rfid_uid"],
    ]


def test_the_form_shows_each_error_on_its_field(client, cast):
    client.force_login(cast["equipment_manager"])
    form = {
        "asset_no": "EQ-WEB",
        "name": "数字温度计",
        "kind": "auxiliary",
        "rfid_uid": "x!",
        "calibration_interval_months": 121,
        "purchase_date": days(-10),
        "commissioning_date": days(-11),
        "status": "in_service",
    }
    with nothing_written():
        response = client.post("/equipment/new/", form)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) == {"rfid_uid", "calibration_interval_months", "commissioning_date"}
    assert "120 months" in errors["calibration_interval_months"][0]


def test_a_tag_typed_with_separators_is_kept_normalised_through_the_page(client, cast):
    client.force_login(cast["equipment_manager"])
    form = {
        "asset_no": "EQ-TAG",
        "name": "数字温度计",
        "kind": "auxiliary",
        "rfid_uid": "e2:00:aa-01",
        "calibration_interval_months": 12,
        "status": "in_service",
    }
    assert client.post("/equipment/new/", form).status_code == 302
    assert Equipment.objects.get(asset_no="EQ-TAG").rfid_uid == "E200AA01"


def test_a_service_reports_every_field_at_fault_at_once(gauge, cast):
    with nothing_written(), pytest.raises(ServiceError) as refused:
        services.equipment_calibration_add(
            equipment=gauge,
            certificate_no="",
            body="",
            date=days(1),
            due_date=days(1),
            points=[{"nominal": 1, "unit": "MPa", "correction": 0, "U": 0}],
            actor=cast["equipment_manager"],
        )
    assert set(refused.value.errors) == {"certificate_no", "body", "date", "due_date", "points"}


# --- calibration points: one limit for the page, the API and the service -------------------


def _calibration_page_data(**points):
    data = {
        "certificate_no": "JL-P",
        "body": "省计量院",
        "date": days(-2),
        "due_date": days(363),
        "points-TOTAL_FORMS": "1",
        "points-INITIAL_FORMS": "0",
        "points-0-nominal": "10",
        "points-0-unit": "MPa",
        "points-0-correction": "0.004",
        "points-0-expanded_uncertainty": "0.003",
        "points-0-coverage_factor": "2",
        "file": SimpleUploadedFile("c.pdf", PDF_BYTES),
    }
    data.update({f"points-0-{name}": value for name, value in points.items()})
    return data


@pytest.mark.parametrize(
    ("point", "field"),
    [
        ({"expanded_uncertainty": "0"}, "expanded_uncertainty"),
        ({"coverage_factor": "2.005"}, "coverage_factor"),
        ({"coverage_factor": "11"}, "coverage_factor"),
        ({"correction": "0.0000000001"}, "correction"),
    ],
)
def test_the_page_refuses_a_point_on_its_field_as_the_service_does(
    client, cast, gauge, point, field
):
    client.force_login(cast["equipment_manager"])
    with nothing_written():
        response = client.post(
            f"/equipment/{gauge.pk}/calibrations/new/", _calibration_page_data(**point)
        )
    assert response.status_code == 422
    assert list(response.context["points"].forms[0].errors) == [field]


def test_the_page_takes_at_most_max_points(client, cast, gauge):
    client.force_login(cast["equipment_manager"])
    data = _calibration_page_data()
    data["points-TOTAL_FORMS"] = str(MAX_POINTS + 1)
    for n in range(MAX_POINTS + 1):
        data.update(
            {
                f"points-{n}-nominal": str(n),
                f"points-{n}-unit": "MPa",
                f"points-{n}-correction": "0",
                f"points-{n}-expanded_uncertainty": "0.001",
            }
        )
    data.pop("points-0-coverage_factor")
    with nothing_written():
        response = client.post(f"/equipment/{gauge.pk}/calibrations/new/", data)
    assert response.status_code == 422
    assert response.context["points"].non_form_errors()


@pytest.mark.parametrize(
    ("point", "count"),
    [
        ({"expanded_uncertainty": "0"}, 1),
        ({"coverage_factor": "2.005"}, 1),
        ({"coverage_factor": "0.5"}, 1),
        ({}, MAX_POINTS + 1),
    ],
)
def test_the_api_refuses_the_same_points(client, cast, gauge, point, count):
    client.force_login(cast["equipment_manager"])
    points = [
        {
            "nominal": str(n),
            "unit": "MPa",
            "correction": "0",
            "expanded_uncertainty": "0.001",
            "coverage_factor": "2",
            **point,
        }
        for n in range(count)
    ]
    data = {
        "certificate_no": "JL-API",
        "body": "省计量院",
        "date": days(-2).isoformat(),
        "due_date": days(363).isoformat(),
        "points": points,
    }
    with nothing_written():
        response = client.post(
            f"{BASE}/{gauge.pk}/calibrations", data, content_type="application/json"
        )
    assert response.status_code == 422
    assert ["points"] in [d["loc"][-1:] for d in response.json()["error"]["details"]]
