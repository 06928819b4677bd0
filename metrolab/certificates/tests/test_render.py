"""The printed certificate (issue 15; R6.3a–d): PDF/A-3b from Typst, fonts embedded, the DCC
attached, the notice and page numbers on every page, the seals, the QR code, signable.

Text checks use poppler (pdftotext, pdffonts); they are skipped where it is missing, except in
CI (`CI` set), where poppler is installed and a missing tool is a failure."""

from __future__ import annotations

import copy
import io
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import ImageChops
from pypdf import PdfReader

from metrolab.certificates import render, signing
from metrolab.certificates.dcc import build_dcc, dcc_content
from metrolab.certificates.render import (
    SEAL_LINES,
    TITLES,
    RenderError,
    attachment_name,
    render_certificate,
    seal_texts,
)
from metrolab.certificates.tests.test_dcc import content
from metrolab.certificates.tests.test_signing import PASSWORD, keys_settings

NOTICE = "本证书为电子证书，请到发证机构官网验证"
CODE = "K7P2XQ9M"
URL = "https://metrology.example.cn/verify/DEMO-LAB-2026-0000123-7F3A?c=K7P2XQ9M"


def document(kind: str = "verification", **changes) -> dict:
    """The hand-made DCC content (test_dcc.content) with the keys the printed certificate
    adds."""
    data = content()
    data["lab"].update(phone="010-12345678", website="https://metrology.example.cn")
    data["persons"] = [
        {
            "name": "张检定",
            "role": {"zh": "检定/校准员", "en": "Measured by"},
            "signed_at": "2026-12-08T10:31:00+08:00",
        },
        {
            "name": "李核验",
            "role": {"zh": "核验员", "en": "Checked by"},
            "signed_at": "2026-12-08T14:02:00+08:00",
        },
        {
            "name": "孙签字",
            "role": {"zh": "批准人", "en": "Approved by"},
            "main_signer": True,
            "signed_at": "2026-12-09T09:15:00+08:00",
        },
    ]
    data.update(
        kind=kind,
        verification_code=CODE,
        verify_url=URL,
        verify_site="metrology.example.cn",
        location={"zh": "本实验室", "en": "laboratory"},
        next_due="2027-12-08" if kind == "verification" else "",
        deviations=[],
        replaces=None,
        seal={"name": "示范市计量测试研究院", "line": SEAL_LINES[kind]},
    )
    if kind == "verification_fail":
        data["decision"] = "fail"
    if kind in ("calibration", "test"):
        data.update(decision=None, decision_rule=None)
    data.update(changes)
    return data


def pdf_of(data: dict) -> bytes:
    return render_certificate(data, dcc_xml=build_dcc(data))


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} (poppler-utils) is required in CI")
        pytest.skip(f"{tool} (poppler-utils) is not installed")


def pages_text(pdf: bytes, tmp_path: Path) -> list[str]:
    """Each page's text as `pdftotext -layout` reads it."""
    need("pdftotext")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    count = len(PdfReader(io.BytesIO(pdf)).pages)
    return [
        subprocess.run(
            ["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(path), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for i in range(1, count + 1)
    ]


def flat(page: str) -> str:
    """A page's text without white space (pdftotext spaces CJK and Latin runs its own way)."""
    return re.sub(r"\s+", "", page)


@pytest.fixture(scope="module")
def verification_pdf():
    data = document()
    return data, pdf_of(data)


# --- PDF/A-3b, fonts, attachment, metadata ---------------------------------------------------


def test_pdfa_3b_identification_and_output_intent(verification_pdf):
    _data, pdf = verification_pdf
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    [intent] = reader.trailer["/Root"]["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/DestOutputProfile"].get_object().get_data()  # the ICC profile is embedded


def test_every_font_embedded(verification_pdf, tmp_path):
    need("pdffonts")
    _data, pdf = verification_pdf
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    rows = out.stdout.splitlines()[2:]
    assert rows, "the certificate uses fonts"
    names = [row.split()[0] for row in rows]
    assert any("NotoSerifSC" in n for n in names) and any("NotoSansSC" in n for n in names)
    for row in rows:
        # name type [type] encoding emb sub uni object-id gen: "emb" is the 4th field from the end
        assert row.split()[-5] == "yes", row


def test_dcc_attached_as_alternative_with_equal_bytes(verification_pdf):
    data, pdf = verification_pdf
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    [spec] = [f.get_object() for f in root["/AF"]]
    assert spec["/AFRelationship"] == "/Alternative"
    assert spec["/UF"] == "JD2026-000123.xml"
    assert spec["/Desc"] == "Digital Calibration Certificate (PTB DCC 3.3.0)"
    stream = spec["/EF"]["/F"].get_object()
    assert stream["/Subtype"] == "/application/xml"
    assert stream.get_data() == build_dcc(data)
    assert reader.attachments == {"JD2026-000123.xml": [build_dcc(data)]}
    parsed = ET.fromstring(stream.get_data())  # noqa: S314 (the product's own output)
    ns = {"dcc": "https://ptb.de/dcc"}
    assert parsed.findtext(".//dcc:uniqueIdentifier", namespaces=ns) == data["identifier"]


def test_attachment_name_is_a_safe_file_name():
    assert attachment_name("JD2026-000123") == "JD2026-000123.xml"
    assert attachment_name("JD/2026 (1)") == "JD_2026_1.xml"
    assert attachment_name("../x") == "x.xml"


def test_metadata_title_author_keywords_carry_identifier_not_code(verification_pdf):
    _data, pdf = verification_pdf
    reader = PdfReader(io.BytesIO(pdf))
    info = reader.metadata
    assert info["/Title"] == "检定证书 JD2026-000123"
    assert info["/Author"] == "示范市计量测试研究院"
    assert info["/Keywords"] == "ecid:DEMO-LAB-2026-0000123-7F3A, number:JD2026-000123"
    assert info["/CreationDate"].startswith("D:20261209")  # the issue date
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert (
        "<pdf:Keywords>ecid:DEMO-LAB-2026-0000123-7F3A, number:JD2026-000123</pdf:Keywords>" in xmp
    )
    assert "<xmp:CreateDate>2026-12-09" in xmp
    # the verification code proves possession of the paper: never in the metadata
    assert CODE not in xmp
    assert CODE not in str(dict(info))
    assert CODE.encode() not in pdf  # the printed code is in the (compressed) page content only


def test_no_javascript_forms_or_actions(verification_pdf):
    _data, pdf = verification_pdf
    reader = PdfReader(io.BytesIO(pdf))
    seen = set()
    forbidden = {"/JavaScript", "/JS", "/AA", "/Launch", "/OpenAction", "/AcroForm"}

    def walk(obj, depth=0):
        obj = obj.get_object() if hasattr(obj, "get_object") else obj
        if depth > 40 or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, dict):
            for key, value in obj.items():
                assert key not in forbidden, key
                walk(value, depth + 1)
        elif isinstance(obj, list):
            for value in obj:
                walk(value, depth + 1)

    walk(reader.trailer)
    assert reader.get_fields() is None


# --- what every page prints ------------------------------------------------------------------


def test_every_page_has_number_notice_and_page_x_of_y(verification_pdf, tmp_path):
    _data, pdf = verification_pdf
    pages = pages_text(pdf, tmp_path)
    assert len(pages) == 2
    for i, page in enumerate(pages, start=1):
        text = flat(page)
        assert NOTICE + "（metrology.example.cn）" in text, i
        assert f"第{i}页共{len(pages)}页" in text, i
        assert f"Page{i}of{len(pages)}" in text, i
        assert "证书编号CertificateNo.JD2026-000123" in text, i
    assert "以下空白/Endofcertificate" in flat(pages[-1])
    assert "以下空白" not in flat(pages[0])


def test_notice_without_a_site_address(tmp_path):
    pages = pages_text(pdf_of(document(verify_site="")), tmp_path)
    for page in pages:
        text = flat(page)
        assert NOTICE in text and NOTICE + "（" not in text


def test_cover_and_results_pages(verification_pdf, tmp_path):
    _data, pdf = verification_pdf
    cover, results = (flat(p) for p in pages_text(pdf, tmp_path))
    for expected in (
        "示范市计量测试研究院",
        "DemoCityInstituteofMetrologyandTesting",
        "检定证书",
        "VERIFICATIONCERTIFICATE",
        "DEMO-LAB-2026-0000123-7F3A",
        "示范人民医院",
        "精密压力表",
        "YB-1500-1.6MPa",
        "SN-1",
        "示范仪表厂",
        "YP2026000001",
        "JJG52-2013《弹性元件式一般压力表检定规程》",
        "检定结论",
        "合格Pass",
        "判定规则：简单接受/Decisionrule:simpleacceptance",
        "接收日期",
        "2026年12月01日",
        "2026年12月07日至2026年12月08日",
        "检定有效期至",
        "2027年12月08日",
        "张检定李核验孙签字",
        "2026-12-0810:312026-12-0814:022026-12-0909:15",
        "发布日期Dateofissue2026年12月09日",
        f"验证码Verificationcode{CODE}",
        URL,
        "示范市科技路88号",
        "CNASL0001",
    ):
        assert expected in cover, expected
    for expected in (
        "活塞式压力计",
        "YQ-001",
        "YL2026-0042",
        "环境温度",
        "20.3℃20.1℃20.6℃",
        "本实验室/laboratory",
        "示值误差(MPa)",
        "扩展不确定度U(MPa)",
        "ExpandeduncertaintyU(k=2)",
        "10.000-0.00300.0016",
        "21.600——",
        "扩展不确定度k=2",
        "无None",
    ):
        assert expected in results, expected


@pytest.mark.parametrize("kind", list(TITLES))
def test_title_of_each_kind(kind, tmp_path):
    pdf = pdf_of(document(kind, next_due="2027-12-08"))
    cover = flat(pages_text(pdf, tmp_path)[0])
    title = TITLES[kind]
    assert title["zh"] in cover
    assert title["en"].upper().replace(" ", "") in cover
    assert PdfReader(io.BytesIO(pdf)).metadata["/Title"] == f"{title['zh']} JD2026-000123"
    if kind == "verification":
        assert "检定有效期至" in cover and "合格Pass" in cover
    else:
        assert "检定有效期至" not in cover and "2027年12月08日" not in cover
    if kind == "verification_fail":
        assert "不合格Fail" in cover
        assert "经检定，该计量器具不符合JJG52-2013的要求，检定结论为不合格。" in cover
    if kind in ("calibration", "test"):
        assert "结论" not in cover  # no pass / fail without a decision
    measured = {"calibration": "校准员", "test": "检测员"}.get(kind, "检定员")
    assert measured in cover
    number = (
        "报告编号ReportNo.JD2026-000123"
        if kind == "test"
        else "证书编号CertificateNo.JD2026-000123"
    )
    assert number in cover


def test_calibration_with_a_decision_states_it(tmp_path):
    pdf = pdf_of(document("calibration", decision="pass", decision_rule={"zh": "判定规则：X"}))
    cover = flat(pages_text(pdf, tmp_path)[0])
    assert "结论" in cover and "合格Pass" in cover and "判定规则：X" in cover


def test_hostile_text_prints_literally(tmp_path):
    hostile = '#exit() ] " \\ < [x] $a$ *b* _c_ @ref <lbl> // #{ 1 }'
    data = document(customer={"name": hostile, "address": "#set page(width: 1mm)"})
    data["item"]["model"] = "]#panic()["
    data["deviations"] = ["#pagebreak() \\n"]
    pages = pages_text(pdf_of(data), tmp_path)
    cover = flat(pages[0])
    assert flat(hostile) in cover
    assert "#setpage(width:1mm)" in cover
    assert "]#panic()[" in cover
    assert "#pagebreak()\\n" in flat(pages[1])
    assert len(pages) == 2


def test_long_results_table_spans_pages(tmp_path):
    data = document()
    point = data["results"]["points"][0]
    data["results"]["points"] = [{**copy.deepcopy(point), "point": i} for i in range(1, 121)]
    pages = pages_text(pdf_of(data), tmp_path)
    assert len(pages) >= 4
    table_pages = [flat(p) for p in pages[1:] if "-0.0030" in flat(p)]
    assert len(table_pages) >= 2
    for page in table_pages:
        # the header repeats on every page of the table
        assert "序号" in page and "示值误差(MPa)" in page
    assert "以下空白" in flat(pages[-1])
    for i, page in enumerate(pages, start=1):
        assert f"第{i}页共{len(pages)}页" in flat(page)
        assert NOTICE in flat(page)


def test_deviations_replaces_and_statements(tmp_path):
    data = document(
        deviations=[{"zh": "按委托方要求仅检定 0 至 1 MPa", "en": "0 to 1 MPa only"}],
        replaces={"number": "JD2026-000100", "reason": "委托单位名称有误"},
    )
    text = flat(pages_text(pdf_of(data), tmp_path)[1])
    assert "按委托方要求仅检定0至1MPa" in text
    assert "本证书替代No.JD2026-000100，原证书作废" in text
    assert "ThiscertificatereplacesJD2026-000100,whichiswithdrawn" in text
    assert "委托单位名称有误" in text
    assert "无None" not in text


def test_unknown_kind_or_missing_number_refused():
    with pytest.raises(RenderError, match="unknown certificate kind 'receipt'"):
        render_certificate({**document(), "kind": "receipt"}, dcc_xml=b"<x/>")
    with pytest.raises(RenderError, match="number is required"):
        render_certificate(document(number=""), dcc_xml=b"<x/>")


# --- seals -----------------------------------------------------------------------------------


LAB = "示范市计量测试研究院"


@pytest.mark.parametrize(
    ("kind", "seal", "expected"),
    [
        ("verification", {"name": "", "line": ""}, ("某计量院", "检定电子证书专用章")),
        ("verification_fail", None, ("某计量院", "检定电子证书专用章")),
        ("calibration", "", ("某计量院", "校准电子证书专用章")),
        ("test", {"name": "甲院", "line": ""}, ("甲院", "检测电子证书专用章")),
        ("inspection", f"{LAB}检验电子证书专用章", (LAB, "检验电子证书专用章")),
        ("verification", f"{LAB}检定电子证书专用章", (LAB, "检定电子证书专用章")),
        ("calibration", LAB, (LAB, "校准电子证书专用章")),
    ],
)
def test_seal_texts(kind, seal, expected):
    assert seal_texts(kind, seal, "某计量院") == dict(zip(("name", "line"), expected, strict=True))


def _red_share(image) -> float:
    rgb = image.convert("RGB")
    r, g, b = rgb.split()
    mask = ImageChops.multiply(
        r.point(lambda v: 255 if v > 180 else 0),
        ImageChops.multiply(
            g.point(lambda v: 255 if v < 120 else 0), b.point(lambda v: 255 if v < 120 else 0)
        ),
    )
    return mask.histogram()[255] / (rgb.width * rgb.height)


def test_cross_page_seal_slice_on_every_page_and_the_seal_on_the_cover():
    pdfium = pytest.importorskip("pypdfium2")
    data = document()
    data["results"]["points"] = data["results"]["points"] * 40  # three pages or more
    pdf = pdfium.PdfDocument(pdf_of(data))
    assert len(pdf) >= 3
    for page in pdf:
        image = page.render(scale=1).to_pil()  # 72 dpi: 1 px = 1 pt
        width, height = image.size
        edge = image.crop((width - 24, 0, width, height))  # the right margin's outer part
        assert _red_share(edge) > 0.01
        body = image.crop((60, 80, width - 70, height - 80))
        if page is pdf[0]:
            assert _red_share(body) > 0.003  # the round seal over the approver
    # the slices differ: slice i of the seal on page i
    crops = [p.render(scale=1).to_pil().crop((570, 300, 595, 500)).tobytes() for p in pdf]
    assert len(set(crops)) == len(crops)


# --- QR code and signature -------------------------------------------------------------------


def test_qr_code_is_the_verify_url(verification_pdf):
    zxing = pytest.importorskip("zxingcpp")
    pdfium = pytest.importorskip("pypdfium2")
    _data, pdf = verification_pdf
    page = pdfium.PdfDocument(pdf)[0]
    found = zxing.read_barcodes(page.render(scale=3).to_pil())
    assert [r.text for r in found if r.format == zxing.BarcodeFormat.QRCode] == [URL]
    assert render.qr_svg(URL).startswith("<?xml")


@pytest.fixture(scope="module")
def lab_pki(tmp_path_factory):
    from django.test import override_settings

    from metrolab.certificates import pki

    with override_settings(METROLAB_SIGNING_P12_PASSWORD=PASSWORD):
        return pki.pki_init(tmp_path_factory.mktemp("pki"), lab_name="Render Test Lab")


def test_rendered_certificate_signs_and_verifies(lab_pki, verification_pdf):
    data, pdf = verification_pdf
    with keys_settings(lab_pki):
        signed = signing.sign_pdf(pdf, reason="Certificate issue", location="示范市")
        answer = signing.verify_pdf(signed)
    assert answer.status == "valid", answer.reasons
    assert answer.signer == "Render Test Lab"
    reader = PdfReader(io.BytesIO(signed))
    assert reader.attachments["JD2026-000123.xml"] == [build_dcc(data)]
    assert list(reader.get_fields()) == ["MetroLabSignature"]


# --- from an approved record -----------------------------------------------------------------


@pytest.mark.django_db
def test_certificate_of_an_approved_record(demo_lab, tmp_path):
    from metrolab.core.models import OrganisationProfile
    from metrolab.records.models import Record

    record = (
        Record.objects.filter(
            template_version__template__code="jjg52-2013-pressure-gauge", status="approved"
        )
        .select_related("template_version__template")
        .first()
    )
    profile = OrganisationProfile.objects.get()
    data = dcc_content(
        record,
        number="JD2026-000001",
        identifier="ML-2026-000001-AB12",
        issued_on="2026-12-09",
        lab=profile,
    )
    data.update(
        kind="verification",
        verification_code=CODE,
        verify_url=URL,
        verify_site="",
        location="本实验室 / laboratory",
        next_due="2027-12-08",
        deviations=[],
        replaces=None,
        seal=profile.seal_verification,
    )
    xml = build_dcc(data)
    pdf = render_certificate(data, dcc_xml=xml)
    pages = [flat(p) for p in pages_text(pdf, tmp_path)]
    everything = "".join(pages)
    assert record.context["customer"]["name"].replace(" ", "") in pages[0]
    assert record.context["item"]["serial_no"].replace(" ", "") in pages[0]
    for person in data["persons"]:
        assert person["name"].replace(" ", "") in pages[0]
    values = [
        q["value"]
        for point in data["results"]["points"]
        for q in point["quantities"]
        if q.get("value")
    ]
    assert values and all(v in everything for v in values)
    for piece in data["equipment"]:
        if piece["certificate_no"]:
            assert piece["certificate_no"] in everything
    assert PdfReader(io.BytesIO(pdf)).attachments == {"JD2026-000001.xml": [xml]}
    assert "以下空白" in pages[-1]


# --- the page data ---------------------------------------------------------------------------


def _q(name, value, u="", k="2"):
    q = {"name": name, "label": {"zh": name, "en": name}, "unit": "°C", "value": value}
    if u:
        q.update(uncertainty=u, k=k, p="0.95")
    return q


def test_values_with_the_same_uncertainty_share_one_column():
    data = document("calibration")
    data["results"] = {
        "points": [
            {
                "point": 1,
                "quantities": [
                    _q("nominal", "0"),
                    _q("t_ref", "0.009", "0.077"),
                    _q("error", "0.016", "0.077"),
                    _q("correction", "-0.016", "0.077"),
                ],
            },
            {
                "point": 2,
                "quantities": [
                    _q("nominal", "50"),
                    _q("t_ref", "49.995", "0.080"),
                    _q("error", "0.030", "0.080"),
                    _q("correction", "-0.030", "0.080"),
                ],
            },
        ],
        "summary": [
            {"name": "conclusion", "label": "结论", "text": "pass"},
            {
                "name": "max",
                "label": "最大误差",
                "unit": "°C",
                "value": "0.030",
                "uncertainty": "0.080",
            },
        ],
    }
    results = render.page_data(data)["results"]
    assert [(c["label"]["zh"], c["kind"]) for c in results["columns"]] == [
        ("nominal", "value"),
        ("t_ref", "value"),
        ("error", "value"),
        ("correction", "value"),
        ("扩展不确定度 U", "uncertainty"),
    ]
    assert results["columns"][-1]["k"] == "2"
    assert [r["cells"] for r in results["rows"]] == [
        ["0", "0.009", "0.016", "-0.016", "0.077"],
        ["50", "49.995", "0.030", "-0.030", "0.080"],
    ]
    assert results["summary"] == [
        {"label": {"zh": "结论", "en": ""}, "value": "合格 / Pass"},
        {"label": {"zh": "最大误差", "en": ""}, "value": "0.030 °C（U = 0.080 °C, k = 2）"},
    ]


def test_different_uncertainties_and_coverage_factors_get_their_own_columns():
    data = document("calibration")
    data["results"] = {
        "points": [
            {"point": 1, "quantities": [_q("a", "1.0", "0.1"), _q("b", "2.0", "0.2", k="3")]},
            {"point": 2, "quantities": [_q("a", "1.1", "0.1", k="3"), _q("b", "2.1")]},
        ]
    }
    results = render.page_data(data)["results"]
    assert [c["kind"] for c in results["columns"]] == ["value", "uncertainty"] * 2
    assert [c.get("k") for c in results["columns"]] == [None, "", None, "3"]
    assert [r["cells"] for r in results["rows"]] == [
        ["1.0", "0.1 (k = 2)", "2.0", "0.2"],
        ["1.1", "0.1 (k = 3)", "2.1", "—"],
    ]


def test_lab_numbers_say_their_label_once():
    data = document()
    data["lab"]["numbers"] = ["CNAS CNAS L0001", "CMA 260100000001", ""]
    assert render.page_data(data)["lab"]["numbers"] == ["CNAS L0001", "CMA 260100000001"]
