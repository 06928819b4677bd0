"""`/api/v1/certificates/...`: electronic certificates (R6.3, R9.1, R4.3): the list with the
page's filter (`filters.CertificateFilter`), one certificate, its signed PDF and its DCC XML
(each download audited, `certificate.download`), revoking and replacing with a reason,
retrying a failed issue, and issuing the certificates of approved records in a batch.

Lab staff who read records see every certificate; a customer's portal account only its own
organisation's that have a file, and 404 for any other; a device token reaches nothing here.
Revoking, replacing, retrying and batch issue are for `services.MANAGING_ROLES`.
"""

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from metrolab.certificates import services
from metrolab.certificates.filters import CertificateFilter
from metrolab.certificates.models import Certificate
from metrolab.certificates.roles import CERTIFICATE_READERS
from metrolab.certificates.selectors import certificates_visible_to
from metrolab.certificates.views import FORMATS, download_response
from metrolab.core.access import api_access
from metrolab.core.api_contract import Mapped
from metrolab.core.service import ServiceError
from metrolab.core.text import Reason
from metrolab.customers.selectors import is_lab_staff
from metrolab.records.models import Record

router = Router(tags=["certificates"])

# Records one batch may name.
MAX_BATCH = 500


class IssuedCertificateListOut(Schema):
    id: int
    number: str
    identifier: str  # the electronic certificate identifier (R6.3d)
    kind: str
    status: str
    in_progress: bool  # queued or being issued: ask again until it ends
    record: int
    record_number: str
    commission: str
    customer: str
    item: str
    item_name: str
    issued_on: dt.date | None
    issued_at: dt.datetime | None
    created_at: dt.datetime


class IssuedCertificateSummaryOut(Schema):
    """What the public verification may show."""

    customer: str = ""
    item: str = ""
    model: str = ""
    serial_no: str = ""
    issuer: str = ""
    method: str = ""


class IssuedCertificateOut(IssuedCertificateListOut):
    replaces: str | None  # the number of the certificate this one replaces
    replace_reason: str
    replaced_by: str | None  # the number of the certificate replacing this one
    revoked_at: dt.datetime | None
    revoke_reason: str
    pdf_sha256: str
    pdf_size: int
    dcc_sha256: str
    verify_url: str | None  # the public verification link printed as the QR code
    verification_code: str | None  # lab staff only
    summary: IssuedCertificateSummaryOut
    attempts: int
    error: str  # why the last issue failed (lab staff only)


class IssuedCertificateReasonIn(Schema):
    reason: Reason


class CertificateBatchIssueIn(Schema):
    """The approved records (ids) whose certificates to queue."""

    records: list[int] = Field(..., min_length=1, max_length=MAX_BATCH)


class CertificateBatchIssueOut(Schema):
    queued: list[IssuedCertificateListOut]
    skipped: list[int]  # records that already have a valid or pending certificate


def _list_out(certificate: Certificate) -> dict:
    return {
        "id": certificate.pk,
        "number": certificate.number,
        "identifier": certificate.identifier,
        "kind": certificate.kind,
        "status": certificate.status,
        "in_progress": certificate.in_progress,
        "record": certificate.record_id,
        "record_number": certificate.record.number,
        "commission": certificate.commission.number,
        "customer": certificate.commission.customer.name,
        "item": certificate.item.number,
        "item_name": certificate.item.name,
        "issued_on": certificate.issued_on,
        "issued_at": certificate.issued_at,
        "created_at": certificate.created_at,
    }


def _out(certificate: Certificate, user) -> dict:
    certificate = certificates_visible_to(user).get(pk=certificate.pk)
    staff = is_lab_staff(user)
    replaced_by = Certificate.objects.filter(replaces=certificate).values_list("number", flat=True)
    return {
        **_list_out(certificate),
        "replaces": certificate.replaces.number if certificate.replaces_id else None,
        "replace_reason": certificate.replace_reason,
        "replaced_by": replaced_by.first(),
        "revoked_at": certificate.revoked_at,
        "revoke_reason": certificate.revoke_reason,
        "pdf_sha256": certificate.pdf_sha256,
        "pdf_size": certificate.pdf_size,
        "dcc_sha256": certificate.dcc_sha256,
        "verify_url": services.verify_url(certificate) if certificate.has_file else None,
        "verification_code": certificate.verification_code if staff else None,
        "summary": certificate.summary or {},
        "attempts": certificate.attempts,
        "error": certificate.error if staff else "",
    }


def _certificate(request, certificate_id: int) -> Certificate:
    found = certificates_visible_to(request.auth).filter(pk=certificate_id).first()
    if found is None:
        raise HttpError(404, _("No such certificate."))
    return found


def _file(content_type: str, what: str) -> dict:
    return {
        "responses": {
            200: {
                "description": what,
                "content": {content_type: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    }


@router.get(
    "/",
    response=list[IssuedCertificateListOut],
    auth=api_access(roles=CERTIFICATE_READERS),
    summary="Certificates",
)
@paginate
def certificate_list(request, filters: Query[CertificateFilter]):
    """Newest first; the filters of `CertificateFilter` (those of the list page)."""
    return Mapped(filters.filter(certificates_visible_to(request.auth)), _list_out)


@router.post(
    "/batch-issue",
    response={201: CertificateBatchIssueOut},
    auth=api_access(roles=services.MANAGING_ROLES),
    summary="Queue the certificates of approved records",
)
def certificate_batch_issue(request, data: CertificateBatchIssueIn):
    """Records that already have a valid or pending certificate are skipped. Refused: an
    unknown record (422, nothing queued)."""
    wanted = list(dict.fromkeys(data.records))
    records = Record.objects.in_bulk(wanted)
    unknown = [pk for pk in wanted if pk not in records]
    if unknown:
        raise ServiceError(
            _("No such record: %(ids)s.") % {"ids": ", ".join(map(str, unknown))},
            field="records",
        )
    queued = services.certificate_batch_issue(
        records=[records[pk] for pk in wanted], actor=request.auth
    )
    done = {c.record_id for c in queued}
    fresh = Certificate.objects.select_related("record", "item", "commission__customer")
    rows = fresh.filter(pk__in=[c.pk for c in queued]).order_by("pk")
    return Status(
        201,
        {
            "queued": [_list_out(c) for c in rows],
            "skipped": [pk for pk in wanted if pk not in done],
        },
    )


@router.get(
    "/{certificate_id}",
    response=IssuedCertificateOut,
    auth=api_access(roles=CERTIFICATE_READERS),
    summary="One certificate: its state, files, replacement and revocation",
)
def certificate_detail(request, certificate_id: int):
    return _out(_certificate(request, certificate_id), request.auth)


def _download(request, certificate_id: int, fmt: str):
    certificate = _certificate(request, certificate_id)
    data = services.certificate_download(certificate=certificate, actor=request.auth, format=fmt)
    return download_response(certificate, data, fmt)


@router.get(
    "/{certificate_id}/pdf",
    auth=api_access(roles=CERTIFICATE_READERS),
    summary="The signed PDF (audited)",
    openapi_extra=_file(FORMATS["pdf"][0], "The signed PDF/A-3b with the DCC inside"),
)
def certificate_pdf(request, certificate_id: int):
    """Refused: a certificate without a file yet (409 `certificate_status`)."""
    return _download(request, certificate_id, "pdf")


@router.get(
    "/{certificate_id}/dcc",
    auth=api_access(roles=CERTIFICATE_READERS),
    summary="The digital calibration certificate XML (audited)",
    openapi_extra=_file(FORMATS["dcc"][0], "The DCC XML"),
)
def certificate_dcc(request, certificate_id: int):
    """Refused: a certificate without a file yet (409 `certificate_status`)."""
    return _download(request, certificate_id, "dcc")


@router.post(
    "/{certificate_id}/revoke",
    response=IssuedCertificateOut,
    auth=api_access(roles=services.MANAGING_ROLES),
    summary="Revoke (作废) an issued certificate with the reason",
)
def certificate_revoke(request, certificate_id: int, data: IssuedCertificateReasonIn):
    """Refused: no reason (422 `reason_required`), a certificate that is not issued (409
    `certificate_status`)."""
    certificate = services.certificate_revoke(
        certificate=_certificate(request, certificate_id), actor=request.auth, reason=data.reason
    )
    return _out(certificate, request.auth)


@router.post(
    "/{certificate_id}/replace",
    response={201: IssuedCertificateOut},
    auth=api_access(roles=services.MANAGING_ROLES),
    summary="Replace (更正) an issued certificate: a new one is queued",
)
def certificate_replace(request, certificate_id: int, data: IssuedCertificateReasonIn):
    """Answers the new certificate (queued); the old one is marked replaced once the new one
    is issued. Refused: no reason (422), a certificate not issued or already being replaced
    (409 `certificate_status`)."""
    certificate = services.certificate_replace(
        certificate=_certificate(request, certificate_id), actor=request.auth, reason=data.reason
    )
    return Status(201, _out(certificate, request.auth))


@router.post(
    "/{certificate_id}/retry",
    response=IssuedCertificateOut,
    auth=api_access(roles=services.MANAGING_ROLES),
    summary="Queue a certificate whose issue failed again",
)
def certificate_retry(request, certificate_id: int):
    """Refused: a certificate whose issue did not fail (409 `certificate_status`)."""
    certificate = services.certificate_retry(
        certificate=_certificate(request, certificate_id), actor=request.auth
    )
    return _out(certificate, request.auth)
