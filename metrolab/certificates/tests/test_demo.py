"""The demo lab's certificates (issue 15 "Demo"): issued certificates of the kinds its records
make, one replaced by the certificate of an amended record, a commission carried to 完成."""

from __future__ import annotations

import pytest

from metrolab.certificates import services
from metrolab.certificates.models import Certificate
from metrolab.certificates.signing import verify_pdf

pytestmark = pytest.mark.django_db


def test_the_demo_issues_certificates_of_each_kind_and_completes_a_commission(demo_lab):
    certificates = list(Certificate.objects.order_by("pk"))
    kinds = {c.kind for c in certificates if c.status == Certificate.Status.ISSUED}
    # 检定证书, 检定结果通知书, 校准证书 and 检测报告 (the insulation resistance test)
    assert kinds == {"verification", "verification_fail", "calibration", "test"}
    (report,) = [c for c in certificates if c.kind == "test"]
    assert report.record.template_version.template.code == "insulation-resistance"
    assert report.status == Certificate.Status.ISSUED
    assert report.commission.status == "certificate_issued"  # its only item certified
    assert not [c for c in certificates if c.status in ("queued", "issuing", "failed")]
    (replaced,) = [c for c in certificates if c.status == Certificate.Status.REPLACED]
    assert replaced.replaced_by.status == Certificate.Status.ISSUED
    assert replaced.record.status == "superseded"
    for certificate in certificates:
        pdf = services.read_file(certificate.pdf_sha256)
        assert verify_pdf(pdf, expected_sha256=certificate.pdf_sha256).status == "valid"
    completed = {c.commission.status for c in certificates if c.kind == "verification_fail"}
    assert completed == {"completed"}
