"""Equipment pages: who may open each (every lab role reads; the equipment manager and the
administrator edit; customers, regulators and devices are refused), what they show (status
colours, due dates, points, the control chart, linked standards, methods and authorised
items), and the forms of every write, including the booking calendar."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from metrolab.core.roles import LAB_STAFF
from metrolab.core.testing import assert_same_query_count_with_n_and_10n
from metrolab.equipment import services
from metrolab.equipment.models import (
    Booking,
    Equipment,
    EquipmentCalibration,
    IntermediateCheckResult,
    MaintenanceRecord,
    MeasurementStandard,
    UsageRecord,
)
from metrolab.equipment.selectors import iso_week, week_monday
from metrolab.equipment.tests.conftest import PDF_BYTES, days, nothing_written

pytestmark = pytest.mark.django_db

STAFF = set(LAB_STAFF)
EDITORS = {"equipment_manager", "admin"}


@pytest.fixture
def standard(gauge, cast):
    from metrolab.methods.models import InstrumentCategory, Method
    from metrolab.qualifications.models import AuthorisedItem

    method = Method.objects.create(
        kind="JJG",
        code="JJG 52",
        year="2013",
        title="弹性元件式压力表",
        effective_date=dt.date(2013, 12, 1),
    )
    made = services.measurement_standard_create(
        actor=cast["equipment_manager"],
        name="0.05 级活塞式压力计标准装置",
        certificate_no="[2023]浙量标证字第123号",
        certificate_expiry=days(20),
        measurands="压力",
        range_text="(0.1–6) MPa",
        uncertainty_text="0.05 级",
        equipment=[gauge],
        methods=[method],
        upload=SimpleUploadedFile("std.pdf", PDF_BYTES),
    )
    category = InstrumentCategory.objects.create(code="P-GAUGE", name="弹性元件式压力表")
    item = AuthorisedItem.objects.create(
        code="AI-P-01",
        name="一般压力表检定",
        service="verification",
        measurand="压力",
        category=category,
        cmc="1.6 级",
        standard=made,
    )
    item.methods.set([method])
    return made


def _pages(gauge, plan, standard):
    """url: who gets 200 (everyone else in the cast: 403)."""
    return {
        "/equipment/": STAFF,
        f"/equipment/{gauge.pk}/": STAFF,
        f"/equipment/{gauge.pk}/usage/": STAFF,
        "/equipment/calendar/": STAFF,
        f"/equipment/calendar/?week=2026-W05&equipment={gauge.pk}": STAFF,
        "/equipment/standards/": STAFF,
        f"/equipment/standards/{standard.pk}/": STAFF,
        f"/equipment/standards/{standard.pk}/certificate/": STAFF,
        "/equipment/new/": EDITORS,
        f"/equipment/{gauge.pk}/edit/": EDITORS,
        f"/equipment/{gauge.pk}/calibrations/new/": EDITORS,
        f"/equipment/{gauge.pk}/plans/new/": EDITORS,
        f"/equipment/plans/{plan.pk}/edit/": EDITORS,
        "/equipment/standards/new/": EDITORS,
        f"/equipment/standards/{standard.pk}/edit/": EDITORS,
    }


def test_pages_open_for_their_roles_only(client, cast, gauge, plan, standard, calibrate):
    calibrate(gauge, points=[("10", "MPa", "0.004", "0.003", "2")])
    for url, allowed in _pages(gauge, plan, standard).items():
        for name, user in cast.items():
            client.force_login(user)
            status = client.get(url).status_code
            expected = 200 if name in allowed else 403
            assert status == expected, f"{name} on {url}: {status}, expected {expected}"


def test_writes_need_their_roles(client, cast, gauge, plan):
    cal = EquipmentCalibration.objects.create(
        equipment=gauge, certificate_no="C", body="b", date=days(-1), due_date=days(300)
    )
    checks = [
        (f"/equipment/{gauge.pk}/status/", {"status": "limited", "reason": "r"}, EDITORS),
        (f"/equipment/calibrations/{cal.pk}/confirm/", {"note": "ok"}, EDITORS),
        (
            f"/equipment/plans/{plan.pk}/results/",
            {f"plan{plan.pk}-date": days(0), f"plan{plan.pk}-value": "10"},
            {"admin", "equipment_manager", "metrologist"},
        ),
        (
            f"/equipment/{gauge.pk}/maintenance/",
            {"kind": "fault", "date": days(0), "description": "d"},
            STAFF,
        ),
        (f"/equipment/{gauge.pk}/location/", {"location": "x"}, STAFF),
        (f"/equipment/{gauge.pk}/usage/new/", {"started_at": "2026-01-01T09:00"}, STAFF),
        ("/equipment/bookings/", {"equipment": gauge.pk}, STAFF),
        ("/equipment/new/", {"asset_no": "N", "name": "N"}, EDITORS),
    ]
    for url, data, allowed in checks:
        for name, user in cast.items():
            if name in allowed:
                continue
            client.force_login(user)
            with nothing_written():
                assert client.post(url, data).status_code == 403, f"{name} posting {url}"


def test_the_list_does_not_grow_with_rows(client, cast, make_equipment, calibrate):
    """1 instrument and 10 listed, each calibrated: the same number of queries."""
    serial = itertools.count()

    def add(k):
        for _ in range(k):
            equipment = make_equipment(f"EQ-N{next(serial):02d}")
            calibrate(equipment, date=days(-10), due=days(200))

    client.force_login(cast["checker"])

    def get():
        response = client.get("/equipment/")
        assert response.status_code == 200
        return response

    assert_same_query_count_with_n_and_10n(get, add)
    assert get().content.decode().count("EQ-N") >= 10


def test_the_list_shows_status_colours_and_due_dates(client, cast, make_equipment, calibrate):
    ok = make_equipment("EQ-OK")
    calibrate(ok, date=days(-10), due=days(200))
    late = make_equipment("EQ-LATE")
    calibrate(late, date=days(-400), due=days(-1))
    limited = make_equipment("EQ-LIM")
    calibrate(limited, date=days(-10), due=days(10))
    services.equipment_set_status(
        equipment=limited, status="limited", reason="部分量程", actor=cast["equipment_manager"]
    )
    stopped = make_equipment("EQ-STOP")
    services.equipment_set_status(
        equipment=stopped, status="out_of_service", reason="故障", actor=cast["equipment_manager"]
    )
    for n in range(47):  # 51 in all: two pages of 50
        make_equipment(f"EQ-X{n:02d}")
    client.force_login(cast["checker"])
    html = client.get("/equipment/").content.decode()
    assert 'class="badge status-label green"' in html
    assert re.search(r'status-label yellow"[^>]*>limited use', html)
    assert re.search(r'status-label red"[^>]*>out of service', html)
    assert 'class="overdue" data-due="overdue"' in html and "overdue by 1 day" in html
    assert 'data-due="due_soon"' in html and "in 10 days" in html
    assert 'name="viewport"' in html and "equipment-new" not in html
    overdue = client.get("/equipment/", {"calibration": "overdue"}).content.decode()
    assert "EQ-LATE" in overdue and "EQ-OK" not in overdue
    soon = client.get("/equipment/", {"calibration": "30"}).content.decode()
    assert "EQ-LIM" in soon and "EQ-OK" not in soon
    red = client.get("/equipment/", {"status": "out_of_service"}).content.decode()
    assert "EQ-STOP" in red and "EQ-OK" not in red
    assert "Page 1 of 2 (51 in all)" in html
    page2 = client.get("/equipment/", {"page": 2}).content.decode()
    assert "Page 2 of 2" in page2 and page2.count('<tr data-asset="') == 1


def test_the_card_shows_everything(client, cast, gauge, plan, standard, calibrate):
    pdf = SimpleUploadedFile("cert.pdf", PDF_BYTES)
    calibrate(
        gauge,
        points=[("0", "MPa", "0", "0.002", "2"), ("10", "MPa", "0.004", "0.003", "2")],
        upload=pdf,
    )
    pending = calibrate(gauge, date=days(-1), confirm=False, certificate_no="JL-NEW")
    for value, day in (("10.005", -30), ("10.031", -20)):
        services.equipment_check_result_add(
            plan=plan, date=days(day), value=value, actor=cast["metrologist"]
        )
    services.equipment_maintenance_add(
        equipment=gauge, kind="fault", date=days(0), description="指针卡滞", actor=cast["checker"]
    )
    services.equipment_locate(equipment=gauge, location="压力室", actor=cast["checker"])
    client.force_login(cast["checker"])
    html = client.get(f"/equipment/{gauge.pk}/").content.decode()
    for text in (
        "EQ-001",
        "DPG-10",
        "0–10 MPa",
        "0.02 级",
        "E2000001",
        "压力室",
        "指针卡滞",
        "0.004",
        "0.003",
        "JL-NEW",
        "not confirmed",
        "confirmed",
        "10 MPa 点示值",
        standard.name,
        "out of control",
        "test 1",
    ):
        assert text in html, text
    assert f'href="/equipment/standards/{standard.pk}/"' in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="control-chart"' in html
    assert html.count('class="point broken"') == 1
    assert f"/equipment/calibrations/{pending.pk - 1}/certificate/" in html
    # The checker reads, reports faults and books; no editing, no confirming, no check results.
    assert "confirm-form" not in html and "status-form" not in html
    assert f"result-form-{plan.pk}" not in html and 'data-testid="edit"' not in html
    # Out of control since the check of -20 days: restricted, so it cannot be booked.
    assert "maintenance-form" in html and "booking-form" not in html
    assert 'data-status="restricted"' in html
    client.force_login(cast["metrologist"])
    html = client.get(f"/equipment/{gauge.pk}/").content.decode()
    assert f"result-form-{plan.pk}" in html and "confirm-form" not in html
    client.force_login(cast["equipment_manager"])
    html = client.get(f"/equipment/{gauge.pk}/").content.decode()
    assert f"confirm-form-{pending.pk}" in html and "status-form" in html
    certificate = client.get(f"/equipment/calibrations/{pending.pk - 1}/certificate/")
    assert certificate.status_code == 200 and certificate["Content-Type"] == "application/pdf"
    assert b"".join(certificate.streaming_content) == PDF_BYTES
    assert client.get(f"/equipment/calibrations/{pending.pk}/certificate/").status_code == 404


def test_register_and_edit_through_the_pages(client, cast, pressure_discipline):
    client.force_login(cast["equipment_manager"])
    form = {
        "asset_no": "EQ-WEB",
        "name": "数字温度计",
        "kind": "auxiliary",
        "discipline": pressure_discipline.pk,
        "custodian": cast["metrologist"].pk,
        "calibration_interval_months": 12,
        "status": "in_service",
        "location": "温度室",
    }
    response = client.post("/equipment/new/", form)
    equipment = Equipment.objects.get(asset_no="EQ-WEB")
    assert response.status_code == 302 and response["Location"] == f"/equipment/{equipment.pk}/"
    assert equipment.location == "温度室" and equipment.custodian == cast["metrologist"]
    with nothing_written():
        again = client.post("/equipment/new/", form)
    assert again.status_code == 422 and "is taken" in again.content.decode()
    edited = client.post(
        f"/equipment/{equipment.pk}/edit/", {**form, "model": "TM-1", "asset_no": "EQ-WEB"}
    )
    assert edited.status_code == 302
    equipment.refresh_from_db()
    assert equipment.model == "TM-1"


def test_calibration_confirmation_and_status_through_the_pages(client, cast, gauge):
    client.force_login(cast["equipment_manager"])
    form = client.get(f"/equipment/{gauge.pk}/calibrations/new/?rows=3").content.decode()
    assert form.count('name="points-') >= 15 and "More rows" in form
    data = {
        "certificate_no": "JL2026-9",
        "body": "省计量院",
        "date": days(-2),
        "due_date": days(363),
        "result_summary": "符合 0.02 级",
        "points-TOTAL_FORMS": "3",
        "points-INITIAL_FORMS": "0",
        "points-0-nominal": "0",
        "points-0-unit": "MPa",
        "points-0-correction": "0",
        "points-0-expanded_uncertainty": "0.002",
        "points-0-coverage_factor": "2",
        "points-1-nominal": "10",
        "points-1-unit": "MPa",
        "points-1-correction": "0.004",
        "points-1-expanded_uncertainty": "0.003",
        "points-1-coverage_factor": "2",
        "points-2-coverage_factor": "2",
        "file": SimpleUploadedFile("c.pdf", PDF_BYTES),
    }
    half = {**data, "points-2-nominal": "5", "file": SimpleUploadedFile("c.pdf", PDF_BYTES)}
    with nothing_written():
        refused = client.post(f"/equipment/{gauge.pk}/calibrations/new/", half)
    assert refused.status_code == 422 and "Give the nominal value" in refused.content.decode()
    assert client.post(f"/equipment/{gauge.pk}/calibrations/new/", data).status_code == 302
    calibration = EquipmentCalibration.objects.get()
    assert calibration.points.count() == 2 and calibration.has_file
    services.equipment_set_status(
        equipment=gauge, status="out_of_service", reason="到期", actor=cast["equipment_manager"]
    )
    client.post(
        f"/equipment/calibrations/{calibration.pk}/confirm/",
        {"note": "满足要求", "return_to_service": "on"},
    )
    gauge.refresh_from_db()
    calibration.refresh_from_db()
    assert calibration.confirmed and gauge.status == "in_service"
    page = client.post(
        f"/equipment/{gauge.pk}/status/", {"status": "limited", "reason": ""}, follow=True
    ).content.decode()
    assert "Reason" in page
    client.post(f"/equipment/{gauge.pk}/status/", {"status": "limited", "reason": "部分量程"})
    gauge.refresh_from_db()
    assert gauge.status == "limited"
    html = client.get(f"/equipment/{gauge.pk}/").content.decode()
    assert "部分量程" in html and "status-history" in html


def test_results_faults_usage_and_location_through_the_card(client, cast, gauge, plan):
    client.force_login(cast["metrologist"])
    prefix = f"plan{plan.pk}"
    response = client.post(
        f"/equipment/plans/{plan.pk}/results/",
        {f"{prefix}-date": days(0), f"{prefix}-value": "9.95"},
        follow=True,
    )
    assert "OUT OF CONTROL" in response.content.decode()
    assert not IntermediateCheckResult.objects.get().passed
    # The card warns at the top that the equipment may not be used (the eligibility service
    # refuses it) until a check is back in control.
    card = client.get(f"/equipment/{gauge.pk}/").content.decode()
    assert 'data-testid="check-failed"' in card
    client.force_login(cast["checker"])
    client.post(
        f"/equipment/{gauge.pk}/maintenance/",
        {"kind": "fault", "date": days(0), "description": "漏气", "take_out_of_service": "on"},
    )
    gauge.refresh_from_db()
    assert gauge.status == "out_of_service" and MaintenanceRecord.objects.get().kind == "fault"
    with nothing_written():
        client.post(
            f"/equipment/{gauge.pk}/maintenance/",
            {"kind": "maintenance", "date": days(0), "description": "清洁"},
        )
    start = timezone.localtime() - dt.timedelta(hours=1)
    client.post(
        f"/equipment/{gauge.pk}/usage/new/",
        {"started_at": start.strftime("%Y-%m-%dT%H:%M"), "note": "比对"},
    )
    usage = UsageRecord.objects.get()
    assert usage.user == cast["checker"] and usage.ended_at is None
    client.post(f"/equipment/usage/{usage.pk}/close/", {"condition_after": "正常"})
    usage.refresh_from_db()
    assert usage.ended_at and usage.condition_after == "正常"
    client.post(f"/equipment/{gauge.pk}/location/", {"location": "库房 B"})
    gauge.refresh_from_db()
    assert gauge.location == "库房 B"
    log = client.get(f"/equipment/{gauge.pk}/usage/", {"date_from": days(-1), "date_to": days(0)})
    assert "比对" in log.content.decode()


def test_the_booking_calendar(client, cast, gauge, make_equipment):
    make_equipment("EQ-002")
    monday = week_monday(days(7))
    week = iso_week(monday)
    client.force_login(cast["checker"])
    page = client.get(
        "/equipment/calendar/", {"week": week, "equipment": gauge.pk, "day": monday.isoformat()}
    )
    html = page.content.decode()
    assert f'data-testid="week">{week}<' in html and "EQ-002" not in html.split("week-bookings")[0]
    assert 'value="' + monday.isoformat() + 'T09:00"' in html  # the picked day, 09:00
    data = {
        "equipment": gauge.pk,
        "starts_at": f"{monday.isoformat()}T09:00",
        "ends_at": f"{monday.isoformat()}T11:00",
        "purpose": "检定",
        "next": f"/equipment/calendar/?week={week}",
    }
    response = client.post("/equipment/bookings/", data)
    assert response.status_code == 302 and response["Location"] == data["next"]
    booking = Booking.objects.get()
    assert booking.user == cast["checker"]
    html = client.get("/equipment/calendar/", {"week": week}).content.decode()
    assert "09:00–11:00" in html and 'class="booking mine"' in html
    client.force_login(cast["metrologist"])
    clash = client.post(
        "/equipment/bookings/", {**data, "starts_at": f"{monday}T10:00"}, follow=True
    ).content.decode()
    assert "is booked by" in clash and Booking.objects.count() == 1
    previous = client.get("/equipment/calendar/", {"week": week}).content.decode()
    assert f"?week={iso_week(monday - dt.timedelta(days=7))}" in previous
    bad = client.get("/equipment/calendar/", {"week": "2026-W99"}, follow=True)
    assert bad.status_code == 200 and "is not a week" in bad.content.decode()
    client.force_login(cast["checker"])
    client.post(f"/equipment/bookings/{booking.pk}/cancel/", {"next": "/equipment/calendar/"})
    booking.refresh_from_db()
    assert booking.cancelled


def test_standards_list_and_detail(client, cast, standard, gauge):
    client.force_login(cast["approver"])
    listing = client.get("/equipment/standards/").content.decode()
    assert standard.name in listing and 'data-expiry="due_soon"' in listing
    html = client.get(f"/equipment/standards/{standard.pk}/").content.decode()
    method = standard.methods.get()
    item = standard.authorised_items.get()
    for text in (
        "[2023]浙量标证字第123号",
        "(0.1–6) MPa",
        "0.05 级",
        "EQ-001",
        "JJG 52-2013",
        "AI-P-01",
        "expires in 20 days",
    ):
        assert text in html, text
    assert f'href="/methods/{method.pk}/"' in html
    assert f'href="/qualifications/items/{item.pk}/"' in html
    assert "standard-equipment" in html and 'data-testid="edit"' not in html
    certificate = client.get(f"/equipment/standards/{standard.pk}/certificate/")
    assert certificate.status_code == 200


def test_standard_form(client, cast, gauge):
    client.force_login(cast["equipment_manager"])
    data = {
        "name": "温度标准装置",
        "certificate_no": "[2024]001",
        "certificate_expiry": days(900),
        "measurands": "温度",
        "range_text": "(-30–300) ℃",
        "active": "on",
        "equipment": [gauge.pk],
    }
    with nothing_written():
        bad = client.post("/equipment/standards/new/", {**data, "certificate_issued": days(901)})
    assert bad.status_code == 422
    response = client.post("/equipment/standards/new/", data)
    standard = MeasurementStandard.objects.get()
    assert response["Location"] == f"/equipment/standards/{standard.pk}/"
    assert list(standard.equipment.all()) == [gauge]
