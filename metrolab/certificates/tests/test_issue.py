"""Issuing certificates (issue 15; R6.3, R6.1b): an approved record queues its certificate, the
worker issues it (signed PDF/A-3b with the DCC inside, stored by SHA-256), numbers and
identifiers follow their rules, revocation and replacement are audited, commissions reach
出具报告 and 完成."""

from __future__ import annotations

import hashlib

import pytest

from metrolab.certificates import services
from metrolab.certificates.models import Certificate
from metrolab.certificates.signing import verify_pdf
from metrolab.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_approval_queues_the_certificate_and_the_worker_issues_it(
    approved_record, issue, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    certificate = approved_record.certificates.get()
    assert certificate.status == Certificate.Status.QUEUED
    assert certificate.kind == Certificate.Kind.VERIFICATION
    assert certificate.number.startswith("JD")
    assert services.identifier_is_well_formed(certificate.identifier)
    certificate = issue(certificate)
    assert certificate.status == Certificate.Status.ISSUED, certificate.error
    pdf = services.read_file(certificate.pdf_sha256)
    assert hashlib.sha256(pdf).hexdigest() == certificate.pdf_sha256
    assert verify_pdf(pdf, expected_sha256=certificate.pdf_sha256).status == "valid"
    dcc = services.read_file(certificate.dcc_sha256)
    assert certificate.number.encode() in dcc
    assert AuditEvent.objects.filter(
        action="certificate.issue", object_id=str(certificate.pk)
    ).exists()
