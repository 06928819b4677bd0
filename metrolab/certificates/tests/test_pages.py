"""Certificate pages (issue 15; R6.3, R9.1, R4.3): the list with its filter, one certificate
with the live state of its issue, downloads (audited, named after the number), revoke and
replace with a reason, retry, batch issue, the commission's and the record's pages, the
customers' portal, and the pages in English and in zh-Hans."""

from __future__ import annotations

import itertools
from html import escape

import pytest
from django.urls import reverse
from django.utils import timezone

from metrolab.certificates.models import Certificate
from metrolab.core.models import AuditEvent
from metrolab.core.testing import assert_same_query_count_with_n_and_10n, nothing_written

pytestmark = pytest.mark.django_db

LIST = "/certificates/"
_seq = itertools.count(1)


def _url(certificate, name="detail", *args):
    return reverse(f"certificates:{name}", args=[certificate.pk, *args])


def copies(certificate, k, **fields):
    """k more certificates like `certificate` (same record), with numbers of their own."""
    made = []
    for _ in range(k):
        n = next(_seq)
        made.append(
            Certificate.objects.create(
                number=f"JD2026-9{n:05d}",
                identifier=f"ML-2026-9{n:06d}-00",
                verification_code="ABCDEFGH",
                kind=certificate.kind,
                status=fields.get("status", Certificate.Status.REVOKED),
                record=certificate.record,
                task=certificate.task,
                item=certificate.item,
                commission=certificate.commission,
                issued_on=certificate.issued_on,
                issued_at=certificate.issued_at,
                pdf_sha256=certificate.pdf_sha256,
                pdf_size=certificate.pdf_size,
                dcc_sha256=certificate.dcc_sha256,
                summary=certificate.summary,
            )
        )
    return made


@pytest.fixture
def failed_certificate(lab_profile, gauge_task, start_task, move, issue, settings, tmp_path):
    """A second approved gauge record whose certificate failed to issue: the signing key
    file is missing."""
    from metrolab.records.services import record_create
    from metrolab.records.tests.fixtures import gauge_roles

    settings.MEDIA_ROOT = tmp_path / "media"
    task = start_task()  # the gauge task's template, another item
    record = record_create(task=task, actor=task.assignee, roles=gauge_roles(task))
    record = move(record, to="approved")
    good = settings.METROLAB_SIGNING_P12
    settings.METROLAB_SIGNING_P12 = tmp_path / "missing.p12"
    certificate = issue(record.certificates.get())
    settings.METROLAB_SIGNING_P12 = good
    assert certificate.status == Certificate.Status.FAILED
    return certificate


# --- the list ------------------------------------------------------------------------------


@pytest.mark.usefixtures("english")
def test_the_list_filters_by_status_kind_period_and_search(issued_certificate, cast, login):
    client = login(cast["receptionist"])
    c = issued_certificate
    page = client.get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-certificate="{c.number}"' in html
    assert c.record.number in html and c.commission.customer.name in html
    assert 'data-status="issued"' in html and "data-poll=" not in html

    def shown(**query):
        return f'data-certificate="{c.number}"' in client.get(LIST, query).content.decode()

    assert shown(status="issued") and not shown(status="revoked")
    assert shown(kind="verification") and not shown(kind="calibration")
    day = c.issued_on.isoformat()
    assert shown(since=day, until=day) and not shown(since="2099-01-01")
    assert shown(q=c.identifier) and shown(q=c.item.number) and shown(q="Customer A")
    assert not shown(q="no such thing")
    # A value that is not valid is shown on the form and left out; the rest still filter.
    page = client.get(LIST, {"since": "not a day", "status": "issued"})
    assert page.status_code == 200 and f'data-certificate="{c.number}"' in page.content.decode()
    assert "Enter a valid date." in page.content.decode()
    page = client.get(LIST, {"since": "2026-12-01", "until": "2026-11-01"})
    assert "The period ends before it starts." in page.content.decode()


def test_the_list_query_count_does_not_grow_with_its_rows(issued_certificate, cast, login):
    client = login(cast["director"])
    count = assert_same_query_count_with_n_and_10n(
        lambda: client.get(LIST), lambda k: copies(issued_certificate, k)
    )
    assert count < 20


def test_the_list_of_rows_polls_while_a_certificate_is_being_issued(
    approved_record, issue, cast, login, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    certificate = approved_record.certificates.get()
    client = login(cast["approver"])
    html = client.get(LIST, {"status": "queued"}).content.decode()
    assert 'data-poll="/certificates/?status=queued&amp;part=rows"' in html
    issue(certificate)
    rows = client.get(LIST, {"part": "rows"}).content.decode()
    assert rows.startswith('<div id="certificate-rows"') and "data-poll=" not in rows
    assert 'data-status="issued"' in rows


# --- one certificate -------------------------------------------------------------------------


@pytest.mark.usefixtures("english")
def test_a_queued_certificate_polls_its_state_until_issued(
    approved_record, issue, cast, login, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    certificate = approved_record.certificates.get()
    client = login(cast["approver"])
    html = client.get(_url(certificate)).content.decode()
    assert f'data-poll="/certificates/{certificate.pk}/?part=body"' in html
    assert 'data-status="queued"' in html and "download-pdf" not in html
    assert "/static/core/poll.js" in html
    certificate = issue(certificate)
    state = client.get(_url(certificate), {"part": "body"}).content.decode()
    assert state.startswith('<div id="certificate-body"') and "data-poll=" not in state
    # The whole body is fresh: the time of issue and the forms of an issued certificate.
    assert timezone.localtime(certificate.issued_at).strftime("%Y-%m-%d %H:%M:%S") in state
    assert 'data-testid="revoke"' in state and 'data-testid="replace"' in state
    assert 'data-status="issued"' in state
    assert f'href="/certificates/{certificate.pk}/download/pdf/"' in state
    assert f'href="/certificates/{certificate.pk}/download/dcc/"' in state


@pytest.mark.usefixtures("english")
def test_the_detail_shows_every_field_and_its_links(issued_certificate, cast, login):
    c = issued_certificate
    html = login(cast["checker"]).get(_url(c)).content.decode()
    for value in (c.number, c.identifier, c.verification_code, c.pdf_sha256, c.dcc_sha256):
        assert value in html
    assert f'href="/records/{c.record_id}/"' in html
    assert f'href="/commissions/{c.commission_id}/"' in html
    assert f'href="/items/{c.item.number}/"' in html
    assert f"/verify/{c.identifier}/?code={c.verification_code}" in html
    assert timezone.localtime(c.issued_at).strftime("%Y-%m-%d %H:%M:%S") in html
    # A checker does not manage certificates: no revoke, replace or retry.
    assert 'data-testid="revoke"' not in html and 'data-testid="replace"' not in html


@pytest.mark.usefixtures("english")
def test_a_failed_issue_shows_the_error_and_a_retry_for_managers(failed_certificate, cast, login):
    certificate = failed_certificate
    html = login(cast["metrologist"]).get(_url(certificate)).content.decode()
    assert "The issue failed after 1 attempt." in html and 'data-status="failed"' in html
    assert certificate.error and escape(certificate.error) in html
    assert 'data-testid="retry"' not in html and "data-poll=" not in html
    assert login(cast["metrologist"]).post(_url(certificate, "retry")).status_code == 403
    client = login(cast["approver"])
    assert 'data-testid="retry"' in client.get(_url(certificate)).content.decode()
    answer = client.post(_url(certificate, "retry"))
    assert answer.status_code == 302 and answer["Location"] == _url(certificate)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.QUEUED
    assert AuditEvent.objects.filter(
        action="certificate.retry", object_id=str(certificate.pk), actor_label="approver"
    ).exists()
    # Retrying one that did not fail is refused and said so.
    answer = client.post(_url(certificate, "retry"), follow=True)
    assert "Only a certificate whose issue failed can be retried." in answer.content.decode()


@pytest.mark.usefixtures("english")
def test_downloads_are_attachments_named_after_the_number_and_audited(
    issued_certificate, cast, login
):
    c = issued_certificate
    client = login(cast["receptionist"])
    pdf = client.get(_url(c, "download", "pdf"))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith(f'attachment; filename="{c.number}.pdf"')
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) == c.pdf_size
    dcc = client.get(_url(c, "download", "dcc"))
    assert dcc.status_code == 200 and dcc["Content-Type"] == "application/xml"
    assert dcc["Content-Disposition"].startswith(f'attachment; filename="{c.number}.xml"')
    assert c.number.encode() in dcc.content
    events = AuditEvent.objects.filter(action="certificate.download", object_id=str(c.pk))
    assert sorted(e.changes["format"] for e in events) == ["dcc", "pdf"]
    assert {e.actor_label for e in events} == {"receptionist"}
    assert client.get(f"/certificates/{c.pk}/download/exe/").status_code == 404


@pytest.mark.usefixtures("english")
def test_a_queued_certificate_has_nothing_to_download(approved_record, cast, login):
    certificate = approved_record.certificates.get()
    client = login(cast["approver"])
    answer = client.get(_url(certificate, "download", "pdf"), follow=True)
    assert answer.redirect_chain[-1][0] == _url(certificate)
    assert f"Certificate {certificate.number} has no file yet." in answer.content.decode()
    assert not AuditEvent.objects.filter(action="certificate.download").exists()


@pytest.mark.usefixtures("english")
def test_revoking_needs_a_reason_and_a_confirmation(issued_certificate, cast, login):
    c = issued_certificate
    url = _url(c, "revoke")
    assert login(cast["metrologist"]).post(url, {"revoke-reason": "x"}).status_code == 403
    client = login(cast["quality_manager"])
    with nothing_written(Certificate):
        answer = client.post(url, {"revoke-reason": "", "revoke-confirm": "on"})
    assert answer.status_code == 422
    assert "This field is required." in answer.content.decode()
    with nothing_written(Certificate):
        answer = client.post(url, {"revoke-reason": "客户名称错误"})
    assert answer.status_code == 422
    # A reason of spaces is refused by the service, shown on the form.
    with nothing_written(Certificate):
        answer = client.post(url, {"revoke-reason": " ", "revoke-confirm": "on"})
    assert answer.status_code == 422
    answer = client.post(url, {"revoke-reason": "客户名称错误", "revoke-confirm": "on"})
    assert answer.status_code == 302
    c.refresh_from_db()
    assert (c.status, c.revoke_reason, c.revoked_by) == (
        "revoked",
        "客户名称错误",
        cast["quality_manager"],
    )
    html = client.get(_url(c)).content.decode()
    assert 'data-status="revoked"' in html and "客户名称错误" in html
    # Revoked: it cannot be revoked again (no form; a post is refused on the form).
    assert 'data-testid="revoke"' not in html
    answer = client.post(url, {"revoke-reason": "again", "revoke-confirm": "on"})
    assert answer.status_code == 422
    assert "it cannot be revoked" in answer.content.decode()


@pytest.mark.usefixtures("english")
def test_replacing_queues_a_new_certificate_that_links_both_ways(
    issued_certificate, issue, cast, login
):
    old = issued_certificate
    client = login(cast["approver"])
    answer = client.post(
        _url(old, "replace"), {"replace-reason": "地址更正", "replace-confirm": "on"}
    )
    assert answer.status_code == 302
    new = Certificate.objects.get(replaces=old)
    assert answer["Location"] == _url(new)
    assert (new.status, new.replace_reason) == ("queued", "地址更正")
    html = client.get(_url(old)).content.decode()
    assert f'href="{_url(new)}" data-testid="replaced-by-link"' in html
    assert 'data-testid="replace"' not in html  # already being replaced
    new = issue(new)
    old.refresh_from_db()
    assert (new.status, old.status) == ("issued", "replaced")
    html = client.get(_url(new)).content.decode()
    assert f'href="{_url(old)}" data-testid="replaces-link"' in html


# --- batch issue -----------------------------------------------------------------------------


@pytest.mark.usefixtures("english")
def test_approved_records_without_a_certificate_are_issued_in_a_batch(
    issued_certificate, cast, login
):
    from metrolab.certificates.services import certificate_revoke

    record = issued_certificate.record
    assert login(cast["metrologist"]).get("/certificates/pending/").status_code == 403
    client = login(cast["director"])
    html = client.get("/certificates/pending/").content.decode()
    assert f'data-record="{record.number}"' not in html  # it has a valid certificate
    certificate_revoke(certificate=issued_certificate, actor=cast["director"], reason="错")
    html = client.get("/certificates/pending/").content.decode()
    assert f'data-record="{record.number}"' in html
    assert issued_certificate.number in html  # its last certificate, revoked
    with nothing_written(Certificate):
        answer = client.post("/certificates/batch-issue/", {}, follow=True)
    assert "Choose at least one record." in answer.content.decode()
    answer = client.post("/certificates/batch-issue/", {"records": [record.pk]}, follow=True)
    assert "1 certificate queued for issue." in answer.content.decode()
    queued = Certificate.objects.get(record=record, status="queued")
    assert f'data-certificate="{queued.number}"' in answer.content.decode()
    assert "data-poll=" in answer.content.decode()
    assert (
        f'data-record="{record.number}"'
        not in client.get("/certificates/pending/").content.decode()
    )


# --- the commission's and the record's pages, the portal ------------------------------------


@pytest.mark.usefixtures("english")
def test_the_commission_and_record_pages_show_the_certificates(issued_certificate, cast, login):
    c = issued_certificate
    client = login(cast["approver"])
    html = client.get(f"/commissions/{c.commission_id}/").content.decode()
    assert 'data-testid="certificates"' in html and f'data-certificate="{c.number}"' in html
    assert f'href="{_url(c, "download", "pdf")}"' in html
    html = client.get(f"/records/{c.record_id}/").content.decode()
    assert f'<a href="{_url(c)}" data-testid="certificate-link"><code>{c.number}</code></a>' in html
    assert 'data-status="issued"' in html


@pytest.mark.usefixtures("english")
def test_customers_see_and_download_only_their_own(issued_certificate, cast, login, client):
    c = issued_certificate
    login(cast["customer_a"])
    html = client.get(f"/commissions/{c.commission_id}/").content.decode()
    assert f'data-certificate="{c.number}"' in html
    assert f'href="{_url(c, "download", "dcc")}"' in html
    assert f'data-certificate="{c.number}"' in client.get(LIST).content.decode()
    page = client.get(_url(c)).content.decode()
    assert c.identifier in page
    assert c.record.number not in page  # the lab's own record
    pdf = client.get(_url(c, "download", "pdf"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(_url(c, "download", "dcc")).status_code == 200
    events = AuditEvent.objects.filter(action="certificate.download", object_id=str(c.pk))
    assert events.count() == 2 and {e.actor_label for e in events} == {"customer_a"}
    assert client.post(_url(c, "revoke"), {"revoke-reason": "x"}).status_code == 403
    login(cast["customer_b"])
    assert client.get(f"/commissions/{c.commission_id}/").status_code == 404
    assert client.get(_url(c)).status_code == 404
    assert client.get(_url(c, "download", "pdf")).status_code == 404
    assert f'data-certificate="{c.number}"' not in client.get(LIST).content.decode()
    assert AuditEvent.objects.filter(action="certificate.download").count() == 2


def test_a_customer_does_not_see_a_certificate_without_a_file(approved_record, cast, login):
    certificate = approved_record.certificates.get()
    client = login(cast["customer_a"])
    assert client.get(_url(certificate)).status_code == 404
    html = client.get(f"/commissions/{certificate.commission_id}/").content.decode()
    assert certificate.number not in html


def test_a_device_and_the_lab_staff_without_records_get_403(issued_certificate, cast, login):
    for username in ("device", "equipment_manager", "driver"):
        client = login(cast[username])
        assert client.get(LIST).status_code == 403
        assert client.get(_url(issued_certificate)).status_code == 403


# --- in English and in Chinese ---------------------------------------------------------------


def _pages(certificate):
    return [LIST, _url(certificate), "/certificates/pending/"]


@pytest.mark.usefixtures("english")
def test_the_pages_read_in_english(issued_certificate, cast, login):
    client = login(cast["admin"])
    for url in _pages(issued_certificate):
        page = client.get(url)
        assert page.status_code == 200
        assert 'lang="en"' in page.content.decode()
    assert (
        "Electronic certificate identifier" in client.get(_url(issued_certificate)).content.decode()
    )


def test_the_pages_have_no_english_in_chinese(
    issued_certificate, failed_certificate, cast, login, settings
):
    from metrolab.certificates.services import certificate_replace
    from metrolab.core.tests.test_chinese_crawl import ALLOWED, VisibleText, english_runs

    settings.LANGUAGE_CODE = "zh-hans"
    allowed = (
        ALLOWED
        | {"Customer", "Pressure", "gauge", "YQ", "JD"}
        | {u.username for u in cast.values()}
        | {"Director", "Approver", "Admin", "Checker", "Receptionist", "Metrologist", "Acme"}
    )
    c = issued_certificate
    new = certificate_replace(certificate=c, actor=cast["approver"], reason="更正地址")
    urls = [*_pages(c), _url(new), _url(failed_certificate), f"/commissions/{c.commission_id}/"]
    urls += [f"/records/{c.record_id}/", f"{LIST}?since=bad&until=2026-01-01"]
    findings = {}
    for username in ("admin", "customer_a"):
        client = login(cast[username])
        for url in urls:
            page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
            if page.status_code != 200:
                continue
            assert 'lang="zh-CN"' in page.content.decode()
            parser = VisibleText()
            parser.feed(page.content.decode())
            runs = english_runs("\n".join(parser.parts), allowed)
            if runs:
                findings[f"{username} {url}"] = runs
    assert findings == {}, findings
    html = login(cast["admin"]).get(_url(c)).content.decode()
    assert "电子证书标识" in html or "证书" in html


def test_the_status_badges_read_as_certificate_states_in_chinese(
    issued_certificate, cast, login, settings
):
    """The words "issued" and "revoked" alone are translated for other meanings (a
    qualification's date of issue, an API token's state): a certificate's badge read 发证日期."""
    from metrolab.certificates.services import certificate_revoke

    settings.LANGUAGE_CODE = "zh-hans"
    c = issued_certificate
    client = login(cast["admin"])
    html = client.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert 'data-status="issued">已出具</span>' in html and "发证日期</span>" not in html
    certificate_revoke(certificate=c, actor=cast["admin"], reason="错")
    html = client.get(_url(c), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert 'data-status="revoked" data-testid="certificate-status">已作废</span>' in html


def test_the_commission_page_query_count_does_not_grow_with_its_certificates(
    issued_certificate, cast, login
):
    c = issued_certificate
    client = login(cast["customer_a"])
    url = f"/commissions/{c.commission_id}/"
    assert_same_query_count_with_n_and_10n(lambda: client.get(url), lambda k: copies(c, k))
    html = client.get(url).content.decode()
    assert html.count("data-certificate=") == 11  # the issued one and 10 more
