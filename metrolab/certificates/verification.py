"""Public verification of certificates (R9.1): anyone may check a certificate three ways — by
its number and verification code, by the QR link printed on it (identifier and code), or by
uploading the PDF — and gets one answer of the same shape each way (`answer_*`).

The answer says "valid", "revoked", "replaced", "tampered" or "unknown", and for a certificate
found, only what its public summary holds (the customer's name abbreviated, the item, model and
serial number, the issuer) with its number, kind and date of issue. It never shows the full
customer name, the results, the original record or the verification code. The reason for a
revocation is not shown either (it may name the customer's or the lab's internal matters):
only the date. A wrong number and a wrong code give the same "unknown"; codes are compared in
constant time. Certificates queued, being issued or whose issue failed are "unknown" publicly:
no one holds them yet.

An uploaded PDF is genuine when its bytes are exactly those the lab stored (SHA-256) and its
signature is not broken; a PDF naming one of the lab's certificates in its metadata
("ecid:<identifier>" in the keywords) but with other bytes, or with a broken signature, is
"tampered"; anything else (unsigned, signed by someone else, no identifier) is "unknown".
Uploads are read in memory up to `max_upload_bytes()` and never stored.
"""

from __future__ import annotations

import hmac
import io
import re
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.certificates.models import Certificate
from metrolab.certificates.services import CODE_LENGTH, identifier_is_well_formed
from metrolab.certificates.signing import TAMPERED as SIGNATURE_TAMPERED
from metrolab.certificates.signing import verify_pdf
from metrolab.core.documents import max_document_bytes
from metrolab.core.errors import CoreRefusal
from metrolab.core.service import ServiceError
from metrolab.core.text import CODE

VALID, REVOKED, REPLACED, UNKNOWN, TAMPERED = "valid", "revoked", "replaced", "unknown", "tampered"
RESULTS = (VALID, REVOKED, REPLACED, UNKNOWN, TAMPERED)

# The certificate statuses the public sees; any other (queued, issuing, failed) is "unknown".
PUBLIC_RESULT = {
    Certificate.Status.ISSUED: VALID,
    Certificate.Status.REVOKED: REVOKED,
    Certificate.Status.REPLACED: REPLACED,
}
# Compared against when no certificate matched, so that the work done is the same.
_NO_CODE = "#" * CODE_LENGTH
_KEYWORD = re.compile(rb"ecid:([A-Za-z0-9-]{4,64})")


def verify_query_limit() -> int:
    """Verifications per client address per minute (METROLAB_CERTIFICATE_VERIFY_PER_MINUTE)."""
    return int(getattr(settings, "METROLAB_CERTIFICATE_VERIFY_PER_MINUTE", 10))


def verify_allowed(client: str | None) -> bool:
    """Count one verification from `client`: False once this minute's allowance is used."""
    from metrolab.core.throttle import rate_allowed

    return rate_allowed("certificate-verify", client, verify_query_limit())


def max_upload_bytes() -> int:
    """The largest PDF the public verification reads (the documents' limit,
    METROLAB_MAX_DOCUMENT_BYTES, 30 MB by default)."""
    return max_document_bytes()


# --- the answer ------------------------------------------------------------------------------


def _messages() -> dict[str, str]:
    return {
        VALID: _("This certificate was issued by the laboratory and is valid."),
        REVOKED: _("This certificate has been revoked by the laboratory and is no longer valid."),
        REPLACED: _(
            "This certificate has been replaced by a corrected one and is no longer valid."
        ),
        TAMPERED: _(
            "This file is not the one the laboratory issued: it has been changed or damaged."
        ),
        UNKNOWN: _("No certificate of this laboratory matches what you entered."),
    }


def _blank(result: str, hint: str = "") -> dict[str, Any]:
    """The answer's shape (every key, empty), the same for every result and every way."""
    return {
        "result": result,
        "message": _messages()[result],
        "hint": hint,
        "number": None,
        "identifier": None,
        "kind": None,
        "kind_label": None,
        "issued_on": None,
        "customer": None,
        "item": None,
        "model": None,
        "serial_no": None,
        "issuer": None,
        "revoked_on": None,
        "replaced_by": None,
        "signature": None,
    }


def _unknown(hint: str = "", **extra: Any) -> dict[str, Any]:
    return {**_blank(UNKNOWN, hint), **extra}


def public_result(certificate: Certificate) -> str:
    """What the public learns of a certificate's status (queued / issuing / failed / without a
    file: "unknown")."""
    if not certificate.has_file:
        return UNKNOWN
    return PUBLIC_RESULT.get(certificate.status, UNKNOWN)


def _local_date(moment):
    return timezone.localdate(moment) if moment else None


def describe(certificate: Certificate, *, result: str | None = None) -> dict[str, Any]:
    """The public answer about one certificate found (its summary; nothing confidential)."""
    result = result or public_result(certificate)
    if result == UNKNOWN:
        return _unknown()
    summary = certificate.summary or {}
    answer = _blank(result)
    answer.update(
        {
            "number": certificate.number,
            "identifier": certificate.identifier,
            "kind": certificate.kind,
            "kind_label": str(certificate.get_kind_display()),
            "issued_on": certificate.issued_on,
            "customer": summary.get("customer", ""),
            "item": summary.get("item", ""),
            "model": summary.get("model", ""),
            "serial_no": summary.get("serial_no", ""),
            "issuer": summary.get("issuer", ""),
        }
    )
    if result in (REVOKED, REPLACED):
        answer["revoked_on"] = _local_date(certificate.revoked_at)
    if result == REPLACED:
        newer = Certificate.objects.filter(replaces=certificate).only("number").first()
        answer["replaced_by"] = newer.number if newer is not None else None
    return answer


def _normal_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()[:CODE]


def _code_matches(given: str, certificate: Certificate | None) -> bool:
    expected = certificate.verification_code if certificate is not None else _NO_CODE
    same = hmac.compare_digest(_normal_code(given).encode(), expected.encode())
    return certificate is not None and same


# --- by number and code; by the QR link ------------------------------------------------------


def answer_by_number(number: str, code: str) -> dict[str, Any]:
    """The answer for a certificate number and its verification code (R9.1); a wrong number
    and a wrong code give the same "unknown"."""
    number = (number or "").strip()[:CODE]
    certificate = Certificate.objects.filter(number__iexact=number).first() if number else None
    if not _code_matches(code, certificate):
        return _unknown()
    return describe(certificate)


def answer_by_link(identifier: str, code: str) -> dict[str, Any]:
    """The answer for the QR link (`verify_url`): the electronic certificate identifier and
    the code. An identifier whose check digits fail was mistyped: "unknown" with that hint."""
    identifier = (identifier or "").strip().upper()[:CODE]
    if not identifier_is_well_formed(identifier):
        return _unknown(
            _(
                "The certificate identifier %(identifier)s is not valid: its check digits do "
                "not match. Check it for a typing error."
            )
            % {"identifier": identifier}
        )
    certificate = Certificate.objects.filter(identifier=identifier).first()
    if not _code_matches(code, certificate):
        return _unknown()
    return describe(certificate)


# --- by the PDF ------------------------------------------------------------------------------


def _not_pdf(field: str) -> ServiceError:
    return ServiceError(
        _("This file is not a PDF. Upload the certificate's PDF file."),
        code=CoreRefusal.INVALID,
        field=field,
    )


def read_upload(upload, *, field: str = "file") -> bytes:
    """The bytes of an uploaded PDF (a Django UploadedFile), read in memory and never stored.
    ServiceError (422, naming `field`) when it is not a PDF or larger than the limit."""
    limit = max_upload_bytes()
    if upload is None:
        raise ServiceError(
            _("Choose the PDF file of the certificate."), code=CoreRefusal.INVALID, field=field
        )
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_large(limit, field)
    upload.seek(0)
    if upload.read(5) != b"%PDF-":
        raise _not_pdf(field)
    upload.seek(0)
    data = bytearray()
    for chunk in upload.chunks():
        data.extend(chunk)
        if len(data) > limit:
            raise _too_large(limit, field)
    return bytes(data)


def check_pdf(data: bytes, *, field: str = "file") -> bytes:
    """`data` when it is a PDF within the size limit, else the same refusal as an upload."""
    if len(data) > max_upload_bytes():
        raise _too_large(max_upload_bytes(), field)
    if not data.startswith(b"%PDF-"):
        raise _not_pdf(field)
    return data


def _too_large(limit: int, field: str) -> ServiceError:
    return ServiceError(
        _("This file is larger than %(mb)d MB.") % {"mb": max(limit // (1024 * 1024), 1)},
        code=CoreRefusal.INVALID,
        field=field,
    )


def pdf_identifier(pdf: bytes) -> str:
    """The electronic certificate identifier the PDF names in its metadata keywords
    ("ecid:<identifier>"), or "" when it names none."""
    keywords = ""
    try:
        from pyhanko.pdf_utils.reader import PdfFileReader

        info = PdfFileReader(io.BytesIO(pdf), strict=False).trailer["/Info"].get_object()
        keywords = str(info.get("/Keywords", "") or "")
    except Exception:  # a damaged or foreign file: look at its bytes instead
        keywords = ""
    found = _KEYWORD.search(keywords.encode("ascii", "ignore")) or _KEYWORD.search(pdf)
    return found.group(1).decode().upper() if found else ""


def _signature(check) -> dict[str, Any]:
    return {
        "status": check.status,
        "signer": check.signer,
        "signed_at": check.signed_at,
        "timestamped": check.timestamped,
        "reasons": list(check.reasons),
    }


def answer_for_pdf(pdf: bytes) -> dict[str, Any]:
    """The answer for a PDF file (R9.1): found by its SHA-256 among the stored certificates,
    else by the identifier in its metadata; its signature checked against the lab CA.

    Only a file with exactly the stored bytes shows the certificate's summary: a "tampered"
    answer names nothing, so that a made-up file naming guessed identifiers learns nothing
    the verification code protects."""
    check = verify_pdf(pdf)
    signature = _signature(check)
    certificate = Certificate.objects.filter(pdf_sha256=check.sha256).first()
    if certificate is not None and check.status != SIGNATURE_TAMPERED:
        # Exactly the bytes the lab issued: its status decides.
        return {**describe(certificate), "signature": signature}
    claimed = certificate
    if claimed is None:
        identifier = pdf_identifier(pdf)
        if identifier and identifier_is_well_formed(identifier):
            claimed = Certificate.objects.filter(identifier=identifier).first()
    names_ours = claimed is not None and public_result(claimed) != UNKNOWN
    if names_ours or check.status == SIGNATURE_TAMPERED:
        # It names one of ours but is not the file stored, or its signature is broken.
        return {**_blank(TAMPERED), "signature": signature}
    return _unknown(
        _("This file is not a certificate issued by this laboratory's electronic system."),
        signature=signature,
    )


def answer_for_upload(upload) -> dict[str, Any]:
    """`answer_for_pdf` of an uploaded file (refused when not a PDF or too large)."""
    return answer_for_pdf(read_upload(upload))
