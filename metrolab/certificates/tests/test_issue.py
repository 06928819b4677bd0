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


# --- numbers and identifiers -----------------------------------------------------------------


def test_check_digits_are_iso_7064_mod_97_10():
    # ISO 13616 (IBAN) uses the same MOD 97-10 scheme: GB82 WEST 1234 5698 7654 32 is the
    # standard's example; its check digits 82 computed over the BBAN + country code.
    assert services.check_digits("WEST12345698765432GB") == "82"
    assert services.identifier_is_well_formed("ML-2026-0000001-37")
    assert not services.identifier_is_well_formed("ML-2026-0000001-38")
    assert not services.identifier_is_well_formed("ML-2026-0000010-37")  # digits swapped
    assert not services.identifier_is_well_formed("")
    assert not services.identifier_is_well_formed("ML20260000001")


def test_numbers_follow_the_configured_rule_per_kind_and_year(db, settings):
    import datetime as dt

    from django.core.exceptions import ImproperlyConfigured

    from metrolab.core.service import service as as_service

    settings.METROLAB_CERTIFICATE_NUMBER = "{prefix}-{yy}{month}-{seq:04d}"
    day = dt.date(2026, 3, 9)

    @as_service("certificate.queue")
    def take(*, actor, kind):
        return services.next_number(kind, day)

    from metrolab.core.permissions import SYSTEM

    assert take(actor=SYSTEM, kind="verification") == "JD-2603-0001"
    assert take(actor=SYSTEM, kind="verification") == "JD-2603-0002"
    assert take(actor=SYSTEM, kind="calibration") == "JZ-2603-0001"
    settings.METROLAB_CERTIFICATE_NUMBER = "{prefix}{year}"
    with pytest.raises(ImproperlyConfigured):
        services.number_format()
    settings.METROLAB_CERTIFICATE_NUMBER = "{prefix}{seq}{nope}"
    with pytest.raises(ImproperlyConfigured):
        services.number_format()


def test_customer_names_are_abbreviated_for_the_public():
    assert services.abbreviate("上海某某精密仪表有限公司") == "上海******有限公司"
    assert services.abbreviate("示范水务公司") == "示范**公司"
    assert services.abbreviate("张三") == "张*"
    assert services.abbreviate("") == ""


# --- kinds, failures, retry ------------------------------------------------------------------


def test_a_failed_verification_gets_a_notice_of_verification_result(
    lab_profile, gauge_record, move, issue, settings, tmp_path
):
    from metrolab.records.tests.fixtures import gauge_cells

    settings.MEDIA_ROOT = tmp_path
    record = move(gauge_record, to="approved", cells=gauge_cells("1.0"))  # fails class 1.0
    assert record.decision == "fail"
    certificate = issue(record.certificates.get())
    assert certificate.kind == Certificate.Kind.VERIFICATION_FAIL
    assert certificate.number.startswith("JT")
    assert certificate.status == Certificate.Status.ISSUED, certificate.error


def test_an_issue_that_fails_says_why_and_can_be_retried(
    approved_record, issue, settings, tmp_path, cast
):
    settings.MEDIA_ROOT = tmp_path
    good_key = settings.METROLAB_SIGNING_P12
    settings.METROLAB_SIGNING_P12 = tmp_path / "missing.p12"
    certificate = issue(approved_record.certificates.get())
    assert certificate.status == Certificate.Status.FAILED
    assert "missing.p12" in certificate.error
    assert certificate.pdf_sha256 == ""
    settings.METROLAB_SIGNING_P12 = good_key
    with pytest.raises(services.ServiceError) as refused:
        services.certificate_retry(certificate=certificate, actor=cast["metrologist"])
    assert refused.value.code == "forbidden"
    certificate = services.certificate_retry(certificate=certificate, actor=cast["approver"])
    assert certificate.status == Certificate.Status.QUEUED
    certificate = issue(certificate)
    assert certificate.status == Certificate.Status.ISSUED
    assert certificate.attempts == 2


def test_a_record_gets_one_certificate(approved_record, cast):
    with pytest.raises(services.ServiceError) as refused:
        services.certificate_queue(record=approved_record, actor=cast["approver"])
    assert refused.value.code == "certificate_exists"
    assert approved_record.certificates.count() == 1


def test_a_record_not_approved_makes_no_certificate(lab_profile, gauge_record, move, cast):
    record = move(gauge_record, to="checked")
    with pytest.raises(services.ServiceError) as refused:
        services.certificate_queue(record=record, actor=cast["approver"])
    assert refused.value.code == "record_not_approved"
    assert not Certificate.objects.exists()


# --- revoke and replace ----------------------------------------------------------------------


def test_revoking_needs_a_manager_and_a_reason_and_is_audited(issued_certificate, cast):
    with pytest.raises(services.ServiceError) as refused:
        services.certificate_revoke(
            certificate=issued_certificate, actor=cast["metrologist"], reason="x"
        )
    assert refused.value.code == "forbidden"
    with pytest.raises(services.ServiceError) as refused:
        services.certificate_revoke(certificate=issued_certificate, actor=cast["approver"])
    assert refused.value.code == "reason_required"
    revoked = services.certificate_revoke(
        certificate=issued_certificate, actor=cast["approver"], reason="客户名称错误"
    )
    assert revoked.status == Certificate.Status.REVOKED
    assert revoked.revoke_reason == "客户名称错误"
    assert revoked.revoked_by == cast["approver"]
    event = AuditEvent.objects.get(action="certificate.revoke")
    assert event.reason == "客户名称错误"
    with pytest.raises(services.ServiceError) as refused:
        services.certificate_revoke(certificate=revoked, actor=cast["approver"], reason="again")
    assert refused.value.code == "certificate_status"


def test_a_replacement_gets_a_new_number_and_names_the_one_it_replaces(
    issued_certificate, issue, cast
):
    import xml.etree.ElementTree as ET

    new = services.certificate_replace(
        certificate=issued_certificate, actor=cast["director"], reason="地址更正"
    )
    assert new.number != issued_certificate.number
    assert new.replaces == issued_certificate
    issued_certificate.refresh_from_db()
    assert issued_certificate.status == Certificate.Status.ISSUED  # until the new one is issued
    new = issue(new)
    assert new.status == Certificate.Status.ISSUED, new.error
    issued_certificate.refresh_from_db()
    assert issued_certificate.status == Certificate.Status.REPLACED
    assert issued_certificate.revoke_reason == "地址更正"
    dcc = ET.fromstring(services.read_file(new.dcc_sha256))  # noqa: S314 (our own output)
    ns = {"dcc": "https://ptb.de/dcc"}
    replaced = dcc.find(".//dcc:reportAmendedSubstituted", ns)
    assert replaced is not None
    assert replaced.findtext("dcc:typeOfChange", namespaces=ns) == "substituted"
    assert replaced.findtext("dcc:replacedUniqueIdentifier", namespaces=ns) == (
        issued_certificate.identifier
    )
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"certificate.replace", "certificate.issue"} <= actions
    with pytest.raises(services.ServiceError):
        services.certificate_replace(
            certificate=issued_certificate, actor=cast["director"], reason="again"
        )


def test_an_approved_amendment_replaces_the_certificate_of_the_record_it_amends(
    issued_certificate, issue, cast, move
):
    from metrolab.records.services import record_amend

    record = issued_certificate.record
    amendment = record_amend(record=record, actor=cast["metrologist"], reason="读数抄错")
    amendment = move(amendment, to="approved")
    new = amendment.certificates.get()
    assert new.replaces == issued_certificate
    assert record.number in new.replace_reason and amendment.number in new.replace_reason
    issue(new)
    issued_certificate.refresh_from_db()
    assert issued_certificate.status == Certificate.Status.REPLACED


# --- the commission and reverse traceability -------------------------------------------------


def test_the_commission_reaches_certificate_issued_then_completed(issued_certificate, cast):
    from metrolab.commissions.models import Commission
    from metrolab.items.services import item_mark_awaiting_return, item_return

    commission = Commission.objects.get(pk=issued_certificate.commission_id)
    assert commission.status == "certificate_issued"
    item = issued_certificate.item
    item_mark_awaiting_return(item=item, actor=cast["item_keeper"])
    item_return(item=item, collected_by="客户", actor=cast["item_keeper"])
    commission.refresh_from_db()
    assert commission.status == "completed"
    nodes = list(commission.status_events.values_list("status", flat=True))
    assert nodes[-2:] == ["certificate_issued", "completed"]


def test_the_certificate_reports_only_deviations_the_customer_accepted(approved_record, cast):
    from metrolab.methods.models import Deviation

    line = approved_record.task.item.line
    method = approved_record.method
    for state, text in (("accepted", "只校准 0–1 MPa 段"), ("requested", "未批准的偏离")):
        Deviation.objects.create(
            line=line,
            method=method,
            description=text,
            justification="客户只在该段使用",
            state=state,
            requested_by=cast["metrologist"],
        )
    certificate = approved_record.certificates.get()
    document = services.document_for(certificate, lab=None)
    assert len(document["deviations"]) == 1
    assert document["deviations"][0].startswith("只校准 0–1 MPa 段")


def test_an_impact_review_lists_the_certificates_made_with_the_equipment(issued_certificate):
    import datetime as dt

    from metrolab.risk.trace import trace_extenders

    use = issued_certificate.record.equipment_used.first()
    start = issued_certificate.record.started_at - dt.timedelta(days=1)
    end = issued_certificate.issued_at + dt.timedelta(days=1)
    rows = [row for extend in trace_extenders for row in extend(use.equipment, start, end)]
    found = [row for row in rows if row.source == "certificate"]
    assert [row.reference for row in found] == [issued_certificate.number]


# --- the issued file -------------------------------------------------------------------------


def test_the_issued_pdf_carries_the_stored_identifier_and_the_records_data(issued_certificate):
    """The signed file as stored: PDF/A-3 in its XMP with the identifier equal to the stored
    one; the attached DCC with the certificate's number and the record's printed results and
    decision; no script, action or form field other than the signature."""
    import io
    import re
    import xml.etree.ElementTree as ET

    from pypdf import PdfReader

    certificate = issued_certificate
    record = certificate.record
    pdf = services.read_file(certificate.pdf_sha256)
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    # pyHanko rewrites the XMP packet when it signs (properties as attributes): still PDF/A-3B
    assert re.search(r'pdfaid:part(="|>)3', xmp) and re.search(r'pdfaid:conformance(="|>)B', xmp)
    assert f"ecid:{certificate.identifier}" in xmp
    assert f"ecid:{certificate.identifier}" in reader.metadata["/Keywords"]
    (attached,) = reader.attachments[f"{certificate.number}.xml"]
    assert attached == services.read_file(certificate.dcc_sha256)
    dcc = ET.fromstring(attached)  # noqa: S314 (the product's own output)
    ns = {"dcc": "https://ptb.de/dcc", "si": "https://ptb.de/si"}
    assert dcc.findtext(".//dcc:uniqueIdentifier", namespaces=ns) == certificate.identifier
    numbers = [e.text for e in dcc.findall(".//dcc:coreData//dcc:identification/dcc:value", ns)]
    assert certificate.number in numbers and record.number in numbers
    conformity = dcc.findtext(
        ".//dcc:statement[@refType='basic_conformity']/dcc:conformity", namespaces=ns
    )
    assert conformity == {"pass": "pass", "fail": "fail"}[record.decision]
    values = [v.text for v in dcc.findall(".//dcc:measurementResult//si:value", ns)]
    printed = [p["values"]["error_up"]["text"] for p in record.results["points"]]
    assert set(printed) <= set(values)
    fields = root.get("/AcroForm", {}).get("/Fields", []) if "/AcroForm" in root else []
    assert [f.get_object()["/FT"] for f in fields] == ["/Sig"]
    for forbidden in (b"/JavaScript", b"/JS ", b"/Launch", b"/OpenAction"):
        assert forbidden not in pdf
