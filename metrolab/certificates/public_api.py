"""`/api/v1/public/certificates/...`: the public certificate verification (R9.1), no sign-in.

Every way answers 200 with the same shape (`VerifyOut`): `result` is valid, revoked, replaced,
tampered or unknown (a wrong number and a wrong code give the same "unknown"). 429 past the
client address's allowance per minute; 422 for an upload that is not a PDF or is too large.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import File, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile

from metrolab.certificates import verification
from metrolab.core.access import public_api
from metrolab.core.middleware import client_ip

# Mounted at /api/v1/public/certificates/ (config/api.py).
router = Router(tags=["public"])


class SignatureOut(Schema):
    """The uploaded file's digital signature: `status` valid, tampered, unsigned or untrusted
    (not by this lab's CA); `signed_at` from the time-stamp when `timestamped`."""

    status: str
    signer: str
    signed_at: dt.datetime | None
    timestamped: bool
    reasons: list[str]


class VerifyOut(Schema):
    """The public answer: the certificate's summary only when it was found ("valid",
    "revoked", "replaced"); `customer` is abbreviated; `signature` only for an upload."""

    result: str
    message: str
    hint: str
    number: str | None
    identifier: str | None
    kind: str | None
    kind_label: str | None
    issued_on: dt.date | None
    customer: str | None
    item: str | None
    model: str | None
    serial_no: str | None
    issuer: str | None
    revoked_on: dt.date | None
    replaced_by: str | None
    signature: SignatureOut | None


def _allow(request) -> None:
    if not verification.verify_allowed(client_ip(request)):
        raise HttpError(
            429, _("Too many verifications from your address. Wait a minute and try again.")
        )


@router.get(
    "/verify",
    response=VerifyOut,
    summary="Verify a certificate by its number and verification code",
    **public_api(),
)
def verify_by_number(request, number: str = "", code: str = ""):
    """R9.1: the certificate's public summary and whether it is valid, revoked or replaced; a
    wrong number and a wrong code give the same "unknown"."""
    _allow(request)
    return verification.answer_by_number(number, code)


@router.get(
    "/{identifier}/verify",
    response=VerifyOut,
    summary="Verify a certificate by its QR link (electronic identifier and code)",
    **public_api(),
)
def verify_by_identifier(request, identifier: str, code: str = ""):
    """R9.1: as the QR link printed on the certificate; an identifier whose check digits fail
    answers "unknown" with a hint that it was mistyped."""
    _allow(request)
    return verification.answer_by_link(identifier, code)


@router.post(
    "/verify-file",
    response=VerifyOut,
    summary="Verify a certificate PDF file (signature and the stored copy)",
    **public_api(),
)
def verify_file(request, file: File[UploadedFile]):
    """R9.1: the file's signature checked against the lab CA and its bytes against the stored
    certificate (found by SHA-256 or by the identifier in its metadata); a changed file is
    "tampered". The file is not kept. 422 when it is not a PDF or larger than the limit."""
    _allow(request)
    return verification.answer_for_upload(file)
