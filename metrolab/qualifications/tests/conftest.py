"""Fixtures of the qualification tests: the items' fixtures (customers A and B with their
portal accounts, English messages, a private file store) plus a small library: two
disciplines and categories, methods (one superseded), a pressure measurement standard with
two items of equipment, and an authorised item using them. Created with the ORM (test data;
the dates are relative to today and illustrative, not those of the real documents)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from metrolab.items.tests.fixtures import *  # noqa: F403

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def pdf_upload(name="certificate.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def text_upload(name="certificate.pdf"):
    return SimpleUploadedFile(name, b"just some text", content_type="application/pdf")


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def library(db, today):
    """Disciplines, categories, methods, a standard with equipment, and authorised item
    P-001 (verification of pressure gauges, 0 ~ 60 MPa, JJG 52-2013, valid one more year)."""
    from metrolab.commissions.models import Discipline
    from metrolab.equipment.models import Equipment, EquipmentCalibration, MeasurementStandard
    from metrolab.methods.models import InstrumentCategory, Method
    from metrolab.qualifications.models import AuthorisedItem

    pressure = Discipline.objects.create(code="P", name="压力 Pressure")
    temperature = Discipline.objects.create(code="T", name="温度 Temperature")
    gauge = InstrumentCategory.objects.create(
        code="PG",
        name="弹性元件式一般压力表",
        name_en="Elastic-element pressure gauge",
        discipline=pressure,
    )
    thermometer = InstrumentCategory.objects.create(
        code="LGT",
        name="工作用玻璃液体温度计",
        name_en="Liquid-in-glass thermometer",
        discipline=temperature,
    )
    jjg52 = Method.objects.create(
        kind="JJG",
        code="JJG 52",
        year="2013",
        title="弹性元件式一般压力表、压力真空表和真空表",
        effective_date=today - days(3000),
        services="verification",
    )
    jjg52_old = Method.objects.create(
        kind="JJG",
        code="JJG 52",
        year="1999",
        title="弹性元件式一般压力表、压力真空表和真空表 (old)",
        effective_date=today - days(9000),
        superseded_by=jjg52,
    )
    jjg130 = Method.objects.create(
        kind="JJG",
        code="JJG 130",
        year="2011",
        title="工作用玻璃液体温度计",
        effective_date=today - days(4000),
    )
    standard = MeasurementStandard.objects.create(
        name="活塞式压力计标准装置 Piston gauge standard",
        certificate_no="[2024]标证字第0001号",
        certificate_issued=today - days(700),
        certificate_expiry=today + days(400),
        measurands="压力 pressure",
        range_text="(0.04 ~ 60) MPa",
        uncertainty_text="0.05 级",
    )
    piston = Equipment.objects.create(
        asset_no="EQ-P-001", name="活塞式压力计 Piston gauge", model="YS-60", status="in_service"
    )
    EquipmentCalibration.objects.create(
        equipment=piston,
        certificate_no="NIM-2026-001",
        body="中国计量科学研究院",
        date=today - days(30),
        due_date=today + days(335),
        confirmed_at=timezone.now(),
    )
    digital = Equipment.objects.create(
        asset_no="EQ-P-002", name="数字压力计 Digital gauge", status="limited"
    )
    standard.equipment.set([piston, digital])
    item = AuthorisedItem.objects.create(
        code="P-001",
        name="一般压力表检定 Pressure gauge verification",
        service="verification",
        measurand="压力 pressure",
        category=gauge,
        range_low=0,
        range_high=60,
        unit="MPa",
        range_text="(0 ~ 60) MPa",
        cmc="0.05 级",
        standard=standard,
        valid_from=today - days(365),
        valid_until=today + days(365),
    )
    item.methods.set([jjg52, jjg52_old])
    thermo_item = AuthorisedItem.objects.create(
        code="T-001",
        name="玻璃液体温度计检定 Thermometer verification",
        service="verification",
        measurand="温度 temperature",
        category=thermometer,
        cmc="0.1 °C",
    )
    thermo_item.methods.set([jjg130])
    return SimpleNamespace(
        pressure=pressure,
        temperature=temperature,
        gauge=gauge,
        thermometer=thermometer,
        jjg52=jjg52,
        jjg52_old=jjg52_old,
        jjg130=jjg130,
        standard=standard,
        piston=piston,
        digital=digital,
        item=item,
        thermo_item=thermo_item,
    )


@pytest.fixture
def item_data(library, today):
    """Valid input for authorised_item_create (a calibration item)."""
    return {
        "code": "P-002",
        "name": "数字压力计校准 Digital pressure gauge calibration",
        "service": "calibration",
        "measurand": "压力 pressure",
        "category": library.gauge,
        "range_low": 0,
        "range_high": 10,
        "unit": "MPa",
        "cmc": "U = 0.02 % FS, k = 2",
        "standard": library.standard,
        "valid_from": today,
        "valid_until": today + days(365),
        "methods": [library.jjg52],
    }


@pytest.fixture
def grant(cast, library, today):
    """grant(person, capacity="perform", item=library.item, **kw) through the service, by the
    quality manager."""
    from metrolab.qualifications.services import authorisation_grant

    def _grant(person, capacity="perform", item=None, **kw):
        kw.setdefault("valid_from", today - days(10))
        return authorisation_grant(
            person=person,
            item=item or library.item,
            capacity=capacity,
            actor=cast["quality_manager"],
            **kw,
        )

    return _grant


@pytest.fixture
def certificate(cast, library, today):
    """certificate(person, number=..., issue=..., expiry=...) → PersonnelCertificate (ORM)."""
    from metrolab.qualifications.models import PersonnelCertificate

    def _make(person, number="JD-0001", issue=None, expiry=None, kind="verifier"):
        return PersonnelCertificate.objects.create(
            person=person,
            kind=kind,
            number=number,
            issued_by="省市场监督管理局",
            issue_date=issue or today - days(400),
            expiry_date=expiry,
        )

    return _make
