"""`metrolab certificate list | export | verify` (issue 15, R6.3, R9.1): the stored files out,
and a PDF checked as the public verification does, with exit codes for scripts."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from django.core.management import CommandError, call_command

from metrolab.certificates import services
from metrolab.certificates.models import Certificate
from metrolab.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("certificate", *args, stdout=out)
    return out.getvalue()


def refused(*args) -> tuple[int, str, str]:
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("certificate", *args, stdout=out)
    return caught.value.returncode, str(caught.value), out.getvalue()


def test_list_shows_numbers_newest_first_with_status_and_date(cast, issued_certificate, issue):
    old = issued_certificate
    new = issue(
        services.certificate_replace(certificate=old, actor=cast["approver"], reason="地址更正")
    )
    lines = run("list").splitlines()
    assert lines == [
        f"{new.number}\tissued\t{new.issued_on.isoformat()}\t{new.identifier}",
        f"{old.number}\treplaced\t{old.issued_on.isoformat()}\t{old.identifier}",
    ]
    assert run("list", "--limit", "1").splitlines() == lines[:1]
    code, message, _out = refused("list", "--limit", "0")
    assert code == 2 and "--limit" in message


def test_export_writes_the_stored_pdf_and_dcc_and_is_audited(issued_certificate, tmp_path):
    c = issued_certificate
    pdf_path, dcc_path = tmp_path / "out.pdf", tmp_path / "out.xml"
    printed = run("export", c.number, str(pdf_path), "--dcc", str(dcc_path))
    assert hashlib.sha256(pdf_path.read_bytes()).hexdigest() == c.pdf_sha256
    assert hashlib.sha256(dcc_path.read_bytes()).hexdigest() == c.dcc_sha256
    assert c.number in printed and str(pdf_path) in printed
    formats = sorted(
        e.changes["format"]
        for e in AuditEvent.objects.filter(action="certificate.download", object_id=str(c.pk))
    )
    assert formats == ["dcc", "pdf"]


def test_export_of_a_certificate_without_a_file_is_refused(approved_record, tmp_path):
    queued = approved_record.certificates.get()
    assert queued.status == Certificate.Status.QUEUED
    out = tmp_path / "out.pdf"
    code, message, _out = refused("export", queued.number, str(out))
    assert code == 1
    assert message == (
        f"certificate {queued.number} has no file (queued): only an issued certificate can be "
        "exported"
    )
    assert not out.exists()
    code, message, _out = refused("export", "JD1999-000001", str(out))
    assert code == 1 and message == "no certificate JD1999-000001"


def test_verify_prints_the_answer_and_exits_0_only_when_valid(cast, issued_certificate, tmp_path):
    c = issued_certificate
    good = tmp_path / "good.pdf"
    good.write_bytes(services.read_file(c.pdf_sha256))
    answer = json.loads(run("verify", str(good)))
    assert answer["result"] == "valid" and answer["number"] == c.number
    assert answer["signature"]["status"] == "valid"
    assert answer["issued_on"] == c.issued_on.isoformat()

    changed = bytearray(good.read_bytes())
    changed[changed.index(b"Typst") + 1] ^= 0x01
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(changed))
    code, message, out = refused("verify", str(bad))
    assert code == 1 and message.endswith(": tampered")
    assert json.loads(out)["result"] == "tampered"

    services.certificate_revoke(certificate=c, actor=cast["approver"], reason="错误")
    code, message, out = refused("verify", str(good))
    assert code == 1 and json.loads(out)["result"] == "revoked"


def test_verify_refuses_a_file_that_is_not_a_pdf_or_cannot_be_read(db, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    code, message, out = refused("verify", str(text))
    # Commands speak the lab's language (LANGUAGE_CODE, zh-Hans).
    assert code == 1 and "该文件不是 PDF 文件" in message and out == ""
    code, message, _out = refused("verify", str(tmp_path / "missing.pdf"))
    assert code == 2 and "cannot read" in message
