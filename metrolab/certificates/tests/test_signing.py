"""The lab's signing keys and PAdES signatures on certificate PDFs (R6.3e, R9.1)."""

from __future__ import annotations

import datetime
import hashlib
import http.server
import io
import socket
import stat
import threading

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import pem, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import translation
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from metrolab.certificates import pki, signing

LAB = "Test Metrology Lab"
PASSWORD = "test-p12-password"


def small_pdf(text: str = "Calibration certificate CAL-2026-0001") -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, pageCompression=0)
    page.drawString(72, 760, text)
    page.showPage()
    page.save()
    return out.getvalue()


def time_stamper_keys():
    """A self-signed time-stamping key, as asn1crypto objects for pyHanko's test stamper."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # the stamper wants RSA
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    der_key = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return (
        asn1_keys.PrivateKeyInfo.load(der_key),
        asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
    )


def pyhanko_context(files: pki.PkiFiles) -> ValidationContext:
    """pyHanko's own validation context with the lab CA as the only trust root."""
    _type, _headers, der = pem.unarmor(files.ca_cert.read_bytes())
    return ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)], allow_fetching=False)


def keys_settings(files: pki.PkiFiles, ca_cert=None):
    return override_settings(
        METROLAB_SIGNING_P12=files.signing_p12,
        METROLAB_SIGNING_CA_CERT=ca_cert or files.ca_cert,
        METROLAB_SIGNING_P12_PASSWORD=PASSWORD,
        METROLAB_TSA_URL="",
    )


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def lab_pki(tmp_path_factory):
    with override_settings(METROLAB_SIGNING_P12_PASSWORD=PASSWORD):
        return pki.pki_init(tmp_path_factory.mktemp("pki"), lab_name=LAB)


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory):
    with override_settings(METROLAB_SIGNING_P12_PASSWORD=PASSWORD):
        return pki.pki_init(tmp_path_factory.mktemp("other-pki"), lab_name="Someone Else")


@pytest.fixture(scope="module")
def signed(lab_pki):
    with keys_settings(lab_pki):
        return signing.sign_pdf(small_pdf(), reason="Certificate issue", location="Shanghai")


@pytest.fixture
def lab_keys(lab_pki):
    with keys_settings(lab_pki):
        yield lab_pki


def test_pki_init_creates_ca_and_signing_key(lab_pki):
    assert lab_pki.signing_p12.name == "signing.p12"
    assert stat.S_IMODE(lab_pki.signing_p12.stat().st_mode) == 0o600
    ca = x509.load_pem_x509_certificate(lab_pki.ca_cert.read_bytes())
    key, cert, chain = pkcs12.load_key_and_certificates(
        lab_pki.signing_p12.read_bytes(), PASSWORD.encode()
    )
    assert isinstance(key.curve, ec.SECP256R1)
    assert [c.fingerprint(c.signature_hash_algorithm) for c in chain] == [
        ca.fingerprint(ca.signature_hash_algorithm)
    ]
    basic = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert basic.ca is True
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign is True
    assert ca.subject == ca.issuer
    assert cert.issuer == ca.subject
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == LAB
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (usage.digital_signature, usage.content_commitment, usage.key_cert_sign) == (
        True,
        True,
        False,
    )
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert pki.DOCUMENT_SIGNING in list(eku)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    ca_days = (ca.not_valid_after_utc - ca.not_valid_before_utc).days
    signer_days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert 3652 <= ca_days <= 3653
    assert 1095 <= signer_days <= 1096


def test_pki_init_refuses_to_overwrite(lab_pki):
    before = lab_pki.signing_p12.read_bytes()
    with override_settings(METROLAB_SIGNING_P12_PASSWORD=PASSWORD), pytest.raises(pki.PkiExists):
        pki.pki_init(lab_pki.signing_p12.parent, lab_name=LAB)
    assert lab_pki.signing_p12.read_bytes() == before


def test_pki_init_force_replaces(tmp_path):
    with override_settings(METROLAB_SIGNING_P12_PASSWORD=PASSWORD):
        first = pki.pki_init(tmp_path, lab_name=LAB)
        ca_before = first.ca_cert.read_bytes()
        again = pki.pki_init(tmp_path, lab_name=LAB, force=True)
    assert again.ca_cert.read_bytes() != ca_before


def test_pki_init_command(tmp_path):
    out = io.StringIO()
    with override_settings(METROLAB_SIGNING_P12_PASSWORD=PASSWORD):
        call_command("pki", "init", "--dir", str(tmp_path), "--lab-name", LAB, stdout=out)
        assert (tmp_path / "signing.p12").exists()
        assert (tmp_path / "lab-ca.pem").exists()
        assert f"CN={LAB} Root CA" in out.getvalue()
        assert str(tmp_path / "signing.p12") in out.getvalue()
        with pytest.raises(CommandError, match="already exist"):
            call_command("pki", "init", "--dir", str(tmp_path), "--lab-name", LAB)


def test_signed_pdf_verifies_valid(lab_keys, signed):
    answer = signing.verify_pdf(signed, expected_sha256=hashlib.sha256(signed).hexdigest())
    assert answer.status == "valid", answer.reasons
    assert answer.ok
    assert answer.signer == LAB
    assert answer.signed_at is not None
    assert answer.sha256 == hashlib.sha256(signed).hexdigest()
    assert answer.reasons == []
    assert answer.as_dict()["status"] == "valid"


def test_pyhanko_validator_agrees(lab_pki, signed):
    reader = PdfFileReader(io.BytesIO(signed))
    [sig] = reader.embedded_signatures
    assert sig.field_name == "MetroLabSignature"
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    _type, _headers, der = pem.unarmor(lab_pki.ca_cert.read_bytes())
    ca = asn1_x509.Certificate.load(der)
    status = validate_pdf_signature(sig, ValidationContext(trust_roots=[ca], allow_fetching=False))
    assert status.bottom_line
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.md_algorithm == "sha256"
    assert sig.sig_object["/Reason"] == "Certificate issue"
    assert sig.sig_object["/Location"] == "Shanghai"
    # the chain (signer and lab CA) is embedded
    assert len(sig.signed_data["certificates"]) == 2


def test_one_flipped_byte_is_tampered(lab_keys, signed):
    at = signed.index(b"CAL-2026-0001") + 4
    assert at < int(signed.split(b"/ByteRange")[1].split()[2].strip(b"[ ")), "inside range"
    changed = bytearray(signed)
    changed[at] ^= 0x01
    answer = signing.verify_pdf(bytes(changed))
    assert answer.status == "tampered"
    assert "The signed content has been changed." in answer.reasons


def test_incremental_update_after_signing_is_tampered(lab_keys, signed):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    updated = out.getvalue()
    assert updated.startswith(signed) and len(updated) > len(signed)
    answer = signing.verify_pdf(updated)
    assert answer.status == "tampered"
    assert "The file has been changed after it was signed." in answer.reasons


def test_other_bytes_than_the_stored_ones_are_tampered(lab_keys, signed):
    answer = signing.verify_pdf(signed, expected_sha256="0" * 64)
    assert answer.status == "tampered"
    assert answer.reasons == ["The file differs from the one the lab issued."]


def test_signed_by_another_ca_is_untrusted(lab_pki, other_pki):
    with keys_settings(other_pki):
        foreign = signing.sign_pdf(small_pdf(), reason="Forgery", location="Elsewhere")
        assert signing.verify_pdf(foreign).status == "valid"  # valid for its own CA
    with keys_settings(lab_pki):
        answer = signing.verify_pdf(foreign)
    assert answer.status == "untrusted"
    assert answer.signer == "Someone Else"
    assert answer.reasons == [
        "The signing certificate was not issued by this lab's certificate authority."
    ]


def test_unsigned_pdf(lab_keys):
    answer = signing.verify_pdf(small_pdf())
    assert answer.status == "unsigned"
    assert answer.signer == ""
    assert answer.reasons == ["The file carries no digital signature."]


def test_not_a_pdf_is_unsigned(lab_keys):
    assert signing.verify_pdf(b"hello").status == "unsigned"


def test_signed_pdf_has_no_dynamic_elements(signed):
    reader = PdfReader(io.BytesIO(signed))
    seen = set()

    def walk(obj, depth=0):
        obj = obj.get_object() if hasattr(obj, "get_object") else obj
        if depth > 30 or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, dict):
            for key, value in obj.items():
                assert key not in {"/JavaScript", "/JS", "/AA", "/Launch", "/OpenAction"}, key
                walk(value, depth + 1)
        elif isinstance(obj, list):
            for value in obj:
                walk(value, depth + 1)

    walk(reader.trailer)
    fields = reader.get_fields()
    assert list(fields) == ["MetroLabSignature"]
    assert fields["MetroLabSignature"]["/FT"] == "/Sig"


@pytest.fixture
def local_tsa():
    """An RFC 3161 time-stamping service on 127.0.0.1 (pyHanko's test time-stamper behind
    an HTTP server); yields its URL and the requests it answered."""
    from pyhanko.sign.timestamps import DummyTimeStamper

    tsa_key, tsa_cert = time_stamper_keys()
    stamper = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, certs_to_embed=[])
    answered = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answered.append(self.headers["Content-Type"])
            reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/tsr", answered, tsa_cert
    finally:
        server.shutdown()
        server.server_close()


def test_time_stamp_when_tsa_configured(lab_pki, local_tsa):
    """With METROLAB_TSA_URL set the signature carries an RFC 3161 time-stamp token from that
    service, and its time is the signing time verification reports."""
    url, answered, _tsa_cert = local_tsa
    with keys_settings(lab_pki), override_settings(METROLAB_TSA_URL=url):
        stamped = signing.sign_pdf(small_pdf(), reason="Certificate issue", location="Shanghai")
        answer = signing.verify_pdf(stamped)
    assert answered and set(answered) == {"application/timestamp-query"}
    [sig] = PdfFileReader(io.BytesIO(stamped)).embedded_signatures
    stamp = validate_pdf_signature(sig, pyhanko_context(lab_pki)).timestamp_validity
    assert stamp is not None and stamp.intact and stamp.valid
    assert answer.status == "valid", answer.reasons
    assert answer.signer == LAB
    assert answer.signed_at == stamp.timestamp


def test_long_term_validation_data_with_tsa_root(lab_pki, local_tsa, tmp_path):
    """With the TSA's root configured too, the chains of the signer and of the time-stamp are
    embedded in the signature's own revision (PAdES-B-LT), still covering the entire file."""
    url, _answered, tsa_cert = local_tsa
    tsa_pem = tmp_path / "tsa-ca.pem"
    tsa_pem.write_bytes(pem.armor("CERTIFICATE", tsa_cert.dump()))
    with (
        keys_settings(lab_pki),
        override_settings(METROLAB_TSA_URL=url, METROLAB_TSA_CA_CERT=str(tsa_pem)),
    ):
        stamped = signing.sign_pdf(small_pdf(), reason="Certificate issue", location="Shanghai")
        answer = signing.verify_pdf(stamped)
    reader = PdfFileReader(io.BytesIO(stamped))
    assert reader.xrefs.total_revisions == 2  # the document and the signature with its DSS
    certs = reader.root["/DSS"]["/Certs"]
    assert len(certs) == 3  # signer, lab CA, TSA
    [sig] = reader.embedded_signatures
    context = pyhanko_context(lab_pki)
    tsa_context = ValidationContext(trust_roots=[tsa_cert], allow_fetching=False)
    status = validate_pdf_signature(sig, context, ts_validation_context=tsa_context)
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.timestamp_validity.trusted
    assert answer.status == "valid", answer.reasons
    assert answer.signed_at == status.timestamp_validity.timestamp


def test_no_time_stamp_without_tsa(lab_pki, signed):
    [sig] = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    assert validate_pdf_signature(sig, pyhanko_context(lab_pki)).timestamp_validity is None


def test_reasons_in_chinese(lab_keys):
    with translation.override("zh-hans"):
        answer = signing.verify_pdf(small_pdf())
    assert answer.reasons == ["该文件没有数字签名。"]


def test_unreachable_tsa_fails_the_signing(lab_pki):
    from pyhanko.sign.timestamps import TimestampRequestError

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    with (
        keys_settings(lab_pki),
        override_settings(METROLAB_TSA_URL=f"http://127.0.0.1:{port}/tsr"),
        pytest.raises(TimestampRequestError),
    ):
        signing.sign_pdf(small_pdf(), reason="Certificate issue", location="Shanghai")
