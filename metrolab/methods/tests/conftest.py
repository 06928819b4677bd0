"""Fixtures of the methods tests: the items' fixtures (customers A and B with their portal
accounts, commissions, receipt, English messages, a private file store) plus a small library
of methods, and a helper for PDF uploads."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from metrolab.items.tests.fixtures import *  # noqa: F403

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def pdf_upload(name="method.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def png_upload(name="scan.png"):
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


@pytest.fixture
def make_method(db):
    """make_method("JJG 52", "2013", effective=date, **fields) → Method (ORM, no checks)."""
    from metrolab.methods.models import Method

    def _make(code="JJG 52", year="2013", effective=dt.date(2014, 6, 1), **fields):
        fields.setdefault("kind", code.split(" ")[0] if " " in code else "other")
        fields.setdefault("title", f"{code} title")
        return Method.objects.create(code=code, year=year, effective_date=effective, **fields)

    return _make


@pytest.fixture
def pressure(db):
    from metrolab.commissions.models import Discipline
    from metrolab.methods.models import InstrumentCategory

    discipline = Discipline.objects.create(code="P", name="压力 Pressure")
    category = InstrumentCategory.objects.create(
        code="P-GAUGE",
        name="弹性元件式压力表",
        name_en="Elastic-element pressure gauge",
        discipline=discipline,
    )
    return {"discipline": discipline, "category": category}


@pytest.fixture
def authorised_item(pressure):
    """make an authorised item (calibration of pressure gauges) covering `methods`."""
    from metrolab.qualifications.models import AuthorisedItem

    def _make(methods, code="AI-P-01", service="calibration"):
        item = AuthorisedItem.objects.create(
            code=code,
            name="压力表校准 Pressure gauge calibration",
            service=service,
            measurand="pressure",
            category=pressure["category"],
            cmc="0.05 %",
        )
        item.methods.set(methods)
        return item

    return _make


@pytest.fixture
def calibration_line(make_commission):
    commission = make_commission("a", lines=(("数字压力计 Pressure gauge", 1, "calibration"),))
    return commission.lines.get()


@pytest.fixture
def verification_line(make_commission):
    commission = make_commission("a", lines=(("压力表 Pressure gauge", 1, "verification"),))
    return commission.lines.get()


@pytest.fixture
def line_b(make_commission):
    commission = make_commission("b", lines=(("温度计 Thermometer", 1, "calibration"),))
    return commission.lines.get()
