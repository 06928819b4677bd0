"""Public certificate verification (issue 15, R9.1): by number and code, by the QR link, by
uploading the PDF — the page at /verify/ and the API at /api/v1/public/certificates/ give the
same answers: valid, revoked, replaced, tampered or unknown, with the public summary only."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from metrolab.certificates import pki, services, signing
from metrolab.certificates.models import Certificate

pytestmark = pytest.mark.django_db

API = "/api/v1/public/certificates"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
SIGNER = "MetroLab Test Laboratory"  # the test signing key (root conftest)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The verification's rate limit counts in the cache; every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english(client):
    """Messages are asserted in English (the msgids) unless a test asks for zh-Hans."""
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _pdf(certificate) -> bytes:
    return services.read_file(certificate.pdf_sha256)


def _upload(data: bytes, name: str = "certificate.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def _page_by_number(client, number, code, **extra):
    return client.post(reverse("verify:form"), {"number": number, "code": code}, **extra)


def _page_by_file(client, data: bytes, **extra):
    return client.post(reverse("verify:form"), {"way": "file", "file": _upload(data)}, **extra)


def _api_by_number(client, number, code, **extra):
    return client.get(f"{API}/verify", {"number": number, "code": code}, **extra)


def _api_by_file(client, data: bytes, **extra):
    return client.post(f"{API}/verify-file", {"file": _upload(data)}, **extra)


def _result(response) -> str:
    found = re.search(r'data-result="(\w+)"', response.content.decode())
    return found.group(1) if found else ""


def _full_customer_name(certificate) -> str:
    return certificate.record.context["customer"]["name"]


# --- valid, three ways -----------------------------------------------------------------------


def test_valid_by_number_and_code_on_the_page_and_the_api(client, issued_certificate):
    c = issued_certificate
    page = _page_by_number(client, c.number, c.verification_code)
    assert page.status_code == 200 and _result(page) == "valid"
    text = _text(page)
    assert c.number in text and c.summary["item"] in text and c.summary["issuer"] in text
    assert "This certificate was issued by the laboratory and is valid." in text
    body = _api_by_number(client, c.number, c.verification_code).json()
    assert body["result"] == "valid"
    assert body["number"] == c.number and body["identifier"] == c.identifier
    assert body["kind"] == "verification"
    assert body["kind_label"] == "verification certificate (检定证书)"
    assert body["issued_on"] == c.issued_on.isoformat()
    assert body["customer"] == c.summary["customer"]
    assert body["item"] == c.summary["item"] and body["model"] == c.summary["model"]
    assert body["issuer"] == "示例市计量测试研究院"
    assert body["replaced_by"] is None and body["revoked_on"] is None
    assert body["signature"] is None


def test_code_is_read_without_case_and_spaces(client, issued_certificate):
    c = issued_certificate
    typed = " ".join([c.verification_code[:4].lower(), c.verification_code[4:]])
    assert _api_by_number(client, c.number, typed).json()["result"] == "valid"


def test_the_qr_link_from_verify_url_shows_the_answer_at_once(client, issued_certificate):
    c = issued_certificate
    url = services.verify_url(c)
    path = url[url.index("/verify/") :]
    assert path == f"/verify/{c.identifier}/?code={c.verification_code}"
    page = client.get(path)
    assert page.status_code == 200 and _result(page) == "valid"
    assert c.number in _text(page)
    body = client.get(f"{API}/{c.identifier}/verify", {"code": c.verification_code}).json()
    assert body["result"] == "valid" and body["number"] == c.number


def test_upload_of_the_issued_pdf_is_valid_with_its_signature(client, issued_certificate):
    c = issued_certificate
    page = _page_by_file(client, _pdf(c))
    assert page.status_code == 200 and _result(page) == "valid"
    assert 'data-signature="valid"' in page.content.decode()
    body = _api_by_file(client, _pdf(c)).json()
    assert body["result"] == "valid" and body["number"] == c.number
    assert body["signature"]["status"] == "valid"
    assert body["signature"]["signer"] == SIGNER
    assert body["signature"]["signed_at"] is not None
    assert body["signature"]["timestamped"] is False  # no TSA configured in the tests
    assert body["signature"]["reasons"] == []


# --- unknown ---------------------------------------------------------------------------------


def test_wrong_code_and_wrong_number_give_the_same_unknown(client, issued_certificate):
    c = issued_certificate
    wrong_code = _api_by_number(client, c.number, "AAAAAAAA")
    wrong_number = _api_by_number(client, "JD1999-000001", c.verification_code)
    no_code = client.get(f"{API}/verify", {"number": c.number})
    # A pattern is not a number: "_" matches no other character.
    wildcard = _api_by_number(client, c.number.replace("-", "_"), c.verification_code)
    responses = (wrong_code, wrong_number, no_code, wildcard)
    bodies = [r.json() for r in responses]
    assert all(r.status_code == 200 for r in responses)
    assert bodies[0] == bodies[1] == bodies[2] == bodies[3]
    assert bodies[0]["result"] == "unknown" and bodies[0]["number"] is None
    assert bodies[0]["customer"] is None and bodies[0]["item"] is None
    pages = [
        _page_by_number(client, c.number, "AAAAAAAA"),
        _page_by_number(client, "JD1999-000001", c.verification_code),
    ]
    assert [_result(p) for p in pages] == ["unknown", "unknown"]
    assert re.sub(r'value="[^"]*"', "", _text(pages[0])) == re.sub(
        r'value="[^"]*"', "", _text(pages[1])
    )
    assert c.summary["item"] not in _text(pages[0])


def test_a_mistyped_identifier_is_unknown_with_a_hint(client, issued_certificate):
    c = issued_certificate
    body, _dash, digits = c.identifier.rpartition("-")
    mistyped = f"{body}-{(int(digits) + 1) % 100:02d}"
    page = client.get(f"/verify/{mistyped}/?code={c.verification_code}")
    assert page.status_code == 200 and _result(page) == "unknown"
    assert "its check digits do not match" in _text(page)
    answer = client.get(f"{API}/{mistyped}/verify", {"code": c.verification_code}).json()
    assert answer["result"] == "unknown" and "Check it for a typing error" in answer["hint"]
    # A well-formed identifier with the wrong code: unknown, no hint.
    wrong = client.get(f"{API}/{c.identifier}/verify", {"code": "AAAAAAAA"}).json()
    assert wrong["result"] == "unknown" and wrong["hint"] == ""


def test_a_certificate_not_yet_issued_is_unknown(client, approved_record):
    queued = approved_record.certificates.get()
    assert queued.status == Certificate.Status.QUEUED
    body = _api_by_number(client, queued.number, queued.verification_code).json()
    assert body["result"] == "unknown" and body["number"] is None


def test_an_unsigned_pdf_is_unknown(client, issued_certificate):
    from metrolab.certificates.tests.test_signing import small_pdf

    body = _api_by_file(client, small_pdf()).json()
    assert body["result"] == "unknown" and body["number"] is None
    assert body["signature"]["status"] == "unsigned"
    assert body["hint"] == (
        "This file is not a certificate issued by this laboratory's electronic system."
    )


# --- revoked and replaced --------------------------------------------------------------------


def test_a_revoked_certificate_answers_revoked_every_way_without_the_reason(
    cast, client, issued_certificate
):
    c = services.certificate_revoke(
        certificate=issued_certificate, actor=cast["approver"], reason="客户甲方仪表厂地址错误"
    )
    by_number = _api_by_number(client, c.number, c.verification_code).json()
    by_link = client.get(f"{API}/{c.identifier}/verify", {"code": c.verification_code}).json()
    by_file = _api_by_file(client, _pdf(c)).json()
    for body in (by_number, by_link, by_file):
        assert body["result"] == "revoked"
        assert body["number"] == c.number
        assert body["revoked_on"] == timezone.localdate(c.revoked_at).isoformat()
        assert "地址错误" not in str(body)
    page = _page_by_number(client, c.number, c.verification_code)
    assert _result(page) == "revoked" and "地址错误" not in _text(page)
    assert 'data-testid="verify-revoked-on"' in page.content.decode()


def test_a_replaced_certificate_names_the_new_one_which_is_valid(
    cast, client, issued_certificate, issue
):
    old = issued_certificate
    new = services.certificate_replace(certificate=old, actor=cast["approver"], reason="地址更正")
    # Until the new one is issued the old one stays valid and the new one is unknown.
    assert _api_by_number(client, old.number, old.verification_code).json()["result"] == "valid"
    assert _api_by_number(client, new.number, new.verification_code).json()["result"] == "unknown"
    new = issue(new)
    assert new.status == Certificate.Status.ISSUED, new.error
    old.refresh_from_db()
    for body in (
        _api_by_number(client, old.number, old.verification_code).json(),
        _api_by_file(client, _pdf(old)).json(),
    ):
        assert body["result"] == "replaced" and body["replaced_by"] == new.number
    page = client.get(f"/verify/{old.identifier}/?code={old.verification_code}")
    assert _result(page) == "replaced"
    assert f"<code>{new.number}</code>" in page.content.decode()
    fresh = _api_by_number(client, new.number, new.verification_code).json()
    assert fresh["result"] == "valid" and fresh["replaced_by"] is None
    assert _api_by_file(client, _pdf(new)).json()["result"] == "valid"


# --- tampered and foreign files ---------------------------------------------------------------


def _signed_range_end(pdf: bytes) -> int:
    return int(pdf.split(b"/ByteRange")[1].split()[2].strip(b"[ "))


def test_one_changed_byte_inside_the_signed_range_is_tampered(client, issued_certificate):
    pdf = _pdf(issued_certificate)
    at = pdf.index(b"Typst") + 1
    assert at < _signed_range_end(pdf), "inside the signed range"
    changed = bytearray(pdf)
    changed[at] ^= 0x01
    body = _api_by_file(client, bytes(changed)).json()
    assert body["result"] == "tampered"
    assert body["signature"]["status"] == "tampered"
    assert "The signed content has been changed." in body["signature"]["reasons"]
    assert body["number"] is None and body["customer"] is None  # a changed file names nothing
    page = _page_by_file(client, bytes(changed))
    assert _result(page) == "tampered"
    assert "it has been changed or damaged" in _text(page)


def test_an_incremental_update_after_signing_is_tampered(client, issued_certificate):
    pdf = _pdf(issued_certificate)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    updated = out.getvalue()
    assert updated.startswith(pdf) and len(updated) > len(pdf)
    body = _api_by_file(client, updated).json()
    assert body["result"] == "tampered"
    assert "The file has been changed after it was signed." in body["signature"]["reasons"]


def test_a_pdf_signed_by_another_ca_is_not_valid(client, issued_certificate, tmp_path):
    from metrolab.certificates.tests.test_signing import small_pdf

    with override_settings(METROLAB_SIGNING_P12_PASSWORD="other-password"):
        other = pki.pki_init(tmp_path / "other-pki", lab_name="Someone Else")
        with override_settings(METROLAB_SIGNING_P12=other.signing_p12):
            foreign = signing.sign_pdf(small_pdf(), reason="Forgery", location="Elsewhere")
            # Our certificate signed once more by someone else: it names our identifier.
            countersigned = signing.sign_pdf(
                _pdf(issued_certificate), reason="Forgery", location="Elsewhere", field_name="X"
            )
    body = _api_by_file(client, foreign).json()
    assert body["result"] == "unknown"
    assert body["signature"]["status"] == "untrusted"
    assert body["signature"]["signer"] == "Someone Else"
    again = _api_by_file(client, countersigned).json()
    assert again["result"] == "tampered" and again["number"] is None


def test_a_pdf_naming_our_identifier_without_our_signature_is_tampered(client, issued_certificate):
    """A made-up file with the identifier in its keywords: not the stored bytes → tampered,
    and it learns nothing of the certificate's summary."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.setKeywords(f"ecid:{issued_certificate.identifier}")
    page.drawString(72, 720, "forged")
    page.save()
    body = _api_by_file(client, out.getvalue()).json()
    assert body["result"] == "tampered"
    assert body["number"] is None and body["item"] is None


# --- refusals --------------------------------------------------------------------------------


def _stored_files(root) -> list[str]:
    return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_non_pdf_upload_is_refused_and_nothing_is_written(client, issued_certificate, settings):
    from pathlib import Path

    media = Path(settings.MEDIA_ROOT)
    before = _stored_files(media)
    response = client.post(
        f"{API}/verify-file",
        {"file": SimpleUploadedFile("x.pdf", b"\x89PNG\r\n\x1a\nnot a pdf", "application/pdf")},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["details"] == [
        {"loc": ["file"], "message": "This file is not a PDF. Upload the certificate's PDF file."}
    ]
    page = client.post(
        reverse("verify:form"),
        {"way": "file", "file": SimpleUploadedFile("x.txt", b"hello", "text/plain")},
    )
    assert page.status_code == 422
    assert "This file is not a PDF." in _text(page) and 'data-testid="verify-result"' not in _text(
        page
    )
    assert _stored_files(media) == before


def test_a_pdf_over_the_size_limit_is_refused(client, issued_certificate, settings):
    settings.METROLAB_MAX_DOCUMENT_BYTES = 1024 * 1024
    big = b"%PDF-1.7\n" + b"0" * (1024 * 1024 + 10)
    response = _api_by_file(client, big)
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "This file is larger than 1 MB."


def test_the_page_forms_need_the_csrf_token(issued_certificate):
    strict = Client(enforce_csrf_checks=True)
    c = issued_certificate
    refused = strict.post(reverse("verify:form"), {"number": c.number, "code": "X"})
    assert refused.status_code == 403
    form = strict.get(reverse("verify:form"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode())
    done = strict.post(
        reverse("verify:form"),
        {"number": c.number, "code": c.verification_code, "csrfmiddlewaretoken": token.group(1)},
    )
    assert done.status_code == 200 and _result(done) == "valid"


def test_verification_is_rate_limited_per_address_on_the_page_and_the_api(
    client, issued_certificate, settings
):
    settings.METROLAB_CERTIFICATE_VERIFY_PER_MINUTE = 3
    c = issued_certificate
    for _ in range(2):
        assert _api_by_number(client, c.number, "WRONG").status_code == 200
    assert _page_by_number(client, c.number, "WRONG").status_code == 200
    limited = _api_by_number(client, c.number, c.verification_code)
    assert limited.status_code == 429
    body = limited.json()
    assert set(body) == {"error", "request_id"} and body["error"]["code"] == "throttled"
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(f"/verify/{c.identifier}/?code={c.verification_code}", **ZH)
    assert page.status_code == 429
    assert "您的地址验证次数过多" in _text(page) and 'data-testid="verify-result"' not in _text(
        page
    )
    assert _api_by_file(client, _pdf(c)).status_code == 429
    # The empty form is not a verification: it is still shown.
    assert client.get(reverse("verify:form")).status_code == 200
    other = _api_by_number(client, c.number, c.verification_code, REMOTE_ADDR="10.0.0.8")
    assert other.status_code == 200 and other.json()["result"] == "valid"


# --- languages and what is shown ---------------------------------------------------------------


def test_the_page_reads_in_chinese(client, issued_certificate):
    c = issued_certificate
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    empty = _text(client.get(reverse("verify:form"), **ZH))
    for chinese in ("证书验证", "证书编号", "验证码", "PDF 文件"):
        assert chinese in empty, chinese
    for english in ("Certificate verification", "Verification code", "Verify the file"):
        assert english not in empty, english
    page = _text(client.get(f"/verify/{c.identifier}/?code={c.verification_code}", **ZH))
    for chinese in (
        "有效",
        "本证书由本实验室签发，现行有效。",
        "签发日期",
        "客户",
        "器具",
        "发证机构",
        "电子证书标识",
    ):
        assert chinese in page, chinese
    for english in ("Valid", "Date of issue", "Customer", "Issued by", "Kind", "Instrument"):
        assert f">{english}<" not in page, english
    assert c.issued_on.isoformat() in page
    unknown = _text(_page_by_number(client, c.number, "AAAAAAAA", **ZH))
    assert "未找到" in unknown and "No match" not in unknown
    tampered = bytearray(_pdf(c))
    tampered[tampered.index(b"Typst") + 1] ^= 0x01
    shown = _text(_page_by_file(client, bytes(tampered), **ZH))
    assert "非原件" in shown and "签名已被破坏" in shown


def test_the_page_reads_in_english(client, issued_certificate):
    c = issued_certificate
    page = _text(client.get(f"/verify/{c.identifier}/?code={c.verification_code}"))
    for english in ("Certificate verification", "Valid", "Date of issue", "Customer"):
        assert english in page, english
    assert "证书验证" not in page


def test_no_answer_shows_the_full_customer_name_or_confidential_fields(client, issued_certificate):
    c = issued_certificate
    full = _full_customer_name(c)
    assert full and c.summary["customer"] != full
    answers = [
        _text(_page_by_number(client, c.number, c.verification_code)),
        _text(client.get(f"/verify/{c.identifier}/?code={c.verification_code}")),
        _text(_page_by_file(client, _pdf(c))),
        json.dumps(
            _api_by_number(client, c.number, c.verification_code).json(), ensure_ascii=False
        ),
        json.dumps(_api_by_file(client, _pdf(c)).json(), ensure_ascii=False),
    ]
    for shown in answers:
        assert full not in shown
        assert c.summary["customer"] in shown
        assert c.record.number not in shown
    body = _api_by_number(client, c.number, c.verification_code).json()
    assert c.verification_code not in str(body)
    assert set(body) == {
        "result",
        "message",
        "hint",
        "number",
        "identifier",
        "kind",
        "kind_label",
        "issued_on",
        "customer",
        "item",
        "model",
        "serial_no",
        "issuer",
        "revoked_on",
        "replaced_by",
        "signature",
    }
