"""Fixtures of the certificates' tests: an approved gauge record and its issued certificate,
made through the services (the approval queues it; the worker's run issues it)."""

from __future__ import annotations

import pytest

LAB = {
    "name": "示例市计量测试研究院",
    "name_en": "Example City Institute of Metrology",
    "address": "示例市计量路 1 号",
    "postcode": "200000",
    "phone": "021-12345678",
    "website": "https://lab.example.cn",
    "authorisation_no": "(国)法计(2026)01001号",
    "cma_no": "260000000001",
    "seal_verification": "示例市计量测试研究院检定电子证书专用章",
}


@pytest.fixture
def lab_profile(db):
    from metrolab.core.permissions import SYSTEM
    from metrolab.core.services import organisation_update

    return organisation_update(data=LAB, actor=SYSTEM)


@pytest.fixture
def approved_record(lab_profile, gauge_record, move):
    """The gauge record approved (its certificate queued, not yet issued)."""
    return move(gauge_record, to="approved")


@pytest.fixture
def issue():
    """issue(certificate) runs the worker's job for it and returns it fresh."""
    from metrolab.certificates.services import certificate_issue_run

    def _issue(certificate):
        return certificate_issue_run(certificate_id=certificate.pk)

    return _issue


@pytest.fixture
def issued_certificate(approved_record, issue, settings, tmp_path):
    """The approved gauge record's certificate, issued (rendered, signed, stored)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return issue(approved_record.certificates.get())
