"""Item labels (R6.6a): 50 × 30 mm PDF per item and A4 sheets, read back as a scanner would:
the page size, the text, and the QR code and Code 128 barcode decoded from the rendered page."""

from __future__ import annotations

import io

import pypdf
import pypdfium2
import pytest
import zxingcpp

from metrolab.items import labels

pytestmark = pytest.mark.django_db

MM = 72 / 25.4


def _decode(pdf: bytes, page: int = 0, dpi: int = 600):
    image = pypdfium2.PdfDocument(pdf)[page].render(scale=dpi / 72).to_pil()
    return {(b.format.name, b.text) for b in zxingcpp.read_barcodes(image)}


@pytest.fixture
def items(make_commission, receive):
    commission = make_commission(
        lines=[("数字压力计 Digital pressure gauge", 3, "calibration")], number="WT2026-00777"
    )
    return [receive(commission) for _ in range(3)]


def _label(number="YP2026000017X", name="数字温度计", url="http://testserver/items/YP2026000017X/"):
    return labels.LabelData(number=number, name=name, commission_number="WT-1", url=url)


@pytest.mark.parametrize("candidates", [None, []], ids=["embedded-ttf-if-any", "cid-font"])
def test_label_is_50_by_30_mm_with_text_qr_and_barcode(candidates):
    font = labels.label_font(candidates)
    if candidates == []:
        assert font == labels.LabelFont("STSong-Light", embedded=False)
    pdf = labels.labels_pdf([_label()], font=font)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(50 * MM, abs=0.01)  # 141.73 pt
    assert float(box.height) == pytest.approx(30 * MM, abs=0.01)  # 85.04 pt
    text = reader.pages[0].extract_text()
    assert "YP2026000017X" in text and "WT-1" in text
    assert _decode(pdf) == {
        ("QRCode", "http://testserver/items/YP2026000017X/"),
        ("Code128", "YP2026000017X"),
    }


def test_an_installed_cjk_truetype_font_is_embedded():
    font = labels.label_font()
    if not font.embedded:
        pytest.skip("no CJK TrueType font on this machine: labels use STSong-Light")
    pdf = labels.labels_pdf([_label()], font=font)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descriptors = [
        f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        for f in fonts.values()
        if "/DescendantFonts" in f.get_object()
    ] + [f.get_object().get("/FontDescriptor") for f in fonts.values()]
    assert any(d is not None and "/FontFile2" in d.get_object() for d in descriptors)
    assert "数字温度计" in reader.pages[0].extract_text()


def test_long_names_are_cut_to_fit():
    long = labels.LabelData("YP1", "很长的名称" * 20, "WT-1", "http://x/items/YP1/")
    text = pypdf.PdfReader(io.BytesIO(labels.labels_pdf([long]))).pages[0].extract_text()
    assert "…" in text


def test_a4_sheet_holds_36_labels_a_page():
    many = [
        _label(f"YP20260000{n:02d}", url=f"http://t/items/YP20260000{n:02d}/") for n in range(40)
    ]
    pdf = labels.label_sheet_pdf(many)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 1), round(float(box.height), 1)) == (595.3, 841.9)
    assert "YP2026000035" in reader.pages[0].extract_text()
    assert "YP2026000036" in reader.pages[1].extract_text()
    decoded = _decode(pdf, page=1, dpi=400)
    assert ("Code128", "YP2026000039") in decoded
    assert ("QRCode", "http://t/items/YP2026000039/") in decoded


def test_label_page_of_an_item(items, cast, client):
    item = items[0]
    client.force_login(cast["receptionist"])
    response = client.get(f"/items/{item.number}/label.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert float(reader.pages[0].mediabox.width) == pytest.approx(141.73, abs=0.01)
    text = reader.pages[0].extract_text()
    assert item.number in text and "WT2026-00777" in text
    assert ("QRCode", f"http://testserver/items/{item.number}/") in _decode(pdf)


def test_site_url_setting_is_used_in_the_qr(items, cast, client, settings):
    settings.METROLAB_SITE_URL = "https://lab.example.cn/"
    client.force_login(cast["receptionist"])
    pdf = client.get(f"/items/{items[0].number}/label.pdf").content
    assert ("QRCode", f"https://lab.example.cn/items/{items[0].number}/") in _decode(pdf)


def test_commission_sheet_and_roll(items, cast, client):
    commission = items[0].commission
    client.force_login(cast["item_keeper"])
    sheet = client.get(f"/items/labels/commission/{commission.pk}/")
    assert sheet.status_code == 200
    reader = pypdf.PdfReader(io.BytesIO(sheet.content))
    assert len(reader.pages) == 1 and round(float(reader.pages[0].mediabox.height)) == 842
    text = reader.pages[0].extract_text()
    assert all(item.number in text for item in items)
    roll = client.get(f"/items/labels/commission/{commission.pk}/?format=roll")
    assert len(pypdf.PdfReader(io.BytesIO(roll.content)).pages) == 3


def test_labels_of_another_customer_are_not_found(items, cast, client, make_commission):
    item = items[0]
    client.force_login(cast["customer_a"])
    assert client.get(f"/items/{item.number}/label.pdf").status_code == 200
    assert client.get(f"/items/labels/commission/{item.commission.pk}/").status_code == 200
    client.force_login(cast["customer_b"])
    assert client.get(f"/items/{item.number}/label.pdf").status_code == 404
    assert client.get(f"/items/labels/commission/{item.commission.pk}/").status_code == 404
    client.force_login(cast["regulator"])
    assert client.get(f"/items/{item.number}/label.pdf").status_code == 403
