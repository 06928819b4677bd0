"""Refusal codes of certificates (metrolab/core/errors.py: each member carries the HTTP status
the API answers with). Refusals every app shares (forbidden, not found) use `CoreRefusal`."""

from http import HTTPStatus

from metrolab.core.errors import Refusal


class CertificateRefusal(Refusal):
    # Only an approved, locked original record makes a certificate.
    RECORD_NOT_APPROVED = "record_not_approved", HTTPStatus.CONFLICT
    # The record (or, for a replacement, the task) already has a valid or pending certificate.
    ALREADY_CERTIFIED = "certificate_exists", HTTPStatus.CONFLICT
    # What the certificate's status does not allow: revoking a revoked one, replacing one that
    # was never issued, retrying one that did not fail.
    STATUS = "certificate_status", HTTPStatus.CONFLICT
    # Revocation and replacement need a reason (R6.3; ISO/IEC 17025 §7.8.8).
    REASON_REQUIRED = "reason_required", HTTPStatus.UNPROCESSABLE_CONTENT
    # The stored file is missing or its bytes no longer have the stored SHA-256.
    FILE_MISSING = "certificate_file_missing", HTTPStatus.CONFLICT
