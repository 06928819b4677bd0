"""Fixtures shared by the items and tasks tests: two customer organisations whose portal
accounts are the cast's customer_a and customer_b, accepted commissions made with the ORM,
storage places, a private file store, and sample photo / video bytes."""

from __future__ import annotations

import io
import itertools

import pytest

from metrolab.commissions.models import Commission, CommissionLine

_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def item_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.METROLAB_SITE_URL = ""
    return settings.MEDIA_ROOT


@pytest.fixture
def customers(cast):
    """{"a": Customer A, "b": Customer B}; cast customer_a / customer_b are their accounts."""
    from metrolab.customers.models import Customer, PortalAccount

    a = Customer.objects.create(code="CA", name="甲方仪表厂 Customer A")
    b = Customer.objects.create(code="CB", name="乙方化工 Customer B")
    PortalAccount.objects.create(user=cast["customer_a"], customer=a)
    PortalAccount.objects.create(user=cast["customer_b"], customer=b)
    return {"a": a, "b": b}


@pytest.fixture
def make_commission(customers):
    """make_commission(customer="a", lines=[(name, quantity, service)], review=, status=)."""

    def _make(customer="a", lines=(("数字压力计 Pressure gauge", 1, "calibration"),), **kw):
        n = next(_numbers)
        commission = Commission.objects.create(
            number=kw.pop("number", f"WT2026-{n:05d}"),
            customer=customers[customer] if isinstance(customer, str) else customer,
            query_code=f"Q{n:05d}",
            review=kw.pop("review", Commission.Review.ACCEPTED),
            **kw,
        )
        for name, quantity, service in lines:
            CommissionLine.objects.create(
                commission=commission,
                instrument_name=name,
                model_range="0-10 MPa",
                accuracy_class="0.05",
                serial_no="SN-001" if quantity == 1 else "",
                manufacturer="Acme",
                quantity=quantity,
                service=service,
            )
        return commission

    return _make


@pytest.fixture
def shelves(db):
    from metrolab.items.models import StorageLocation

    return {
        "A1": StorageLocation.objects.create(room="样品间 Store 1", shelf="A1", code="S1-A1"),
        "A2": StorageLocation.objects.create(room="样品间 Store 1", shelf="A2", code="S1-A2"),
        "old": StorageLocation.objects.create(room="Old", shelf="X", code="OLD", active=False),
    }


@pytest.fixture
def receive(cast):
    """receive(commission, line_index=0, **kw) → Item, received by the receptionist."""
    from metrolab.items.services import item_receive

    def _receive(commission, line_index=0, **kw):
        line = list(commission.lines.order_by("pk"))[line_index]
        kw.setdefault("actor", cast["receptionist"])
        return item_receive(line=line, **kw)

    return _receive


def jpeg_bytes(color=(200, 30, 30), size=(32, 24)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


# The first bytes of real containers (an ISO-BMFF `ftyp` box; an EBML header with DocType
# "webm"), padded: enough for content sniffing.
MP4_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 200
MOV_BYTES = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + b"\x00" * 200
HEIC_BYTES = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200
WEBM_BYTES = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm" + b"\x00" * 200


@pytest.fixture(autouse=True)
def english_messages(client, settings):
    """These tests read the English messages; the UI's default language is Chinese."""
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield
