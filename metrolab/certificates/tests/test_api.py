"""`/api/v1/certificates/` (issue 15; R6.3, R9.1, R4.3, R7.2d): the list with the page's
filter and its query count, one certificate, the PDF and DCC downloads (audited), revoke /
replace / retry / batch issue with bodies validated strictly (nothing written on a refusal),
customers only their own, a device token nothing."""

from __future__ import annotations

import pytest

from metrolab.certificates.models import Certificate
from metrolab.certificates.tests.test_pages import copies, failed_certificate  # noqa: F401
from metrolab.core.models import AuditEvent
from metrolab.core.permissions import SYSTEM
from metrolab.core.services import api_token_create, user_create
from metrolab.core.testing import assert_same_query_count_with_n_and_10n, nothing_written

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

API = "/api/v1/certificates"


def _post(client, url, body=None, **extra):
    return client.post(url, body, content_type="application/json", **extra)


def test_the_list_is_paged_filtered_and_newest_first(issued_certificate, cast, login):
    c = issued_certificate
    client = login(cast["metrologist"])
    body = client.get(f"{API}/").json()
    assert body["count"] == 1
    row = body["items"][0]
    assert row == {
        "id": c.pk,
        "number": c.number,
        "identifier": c.identifier,
        "kind": "verification",
        "status": "issued",
        "in_progress": False,
        "record": c.record_id,
        "record_number": c.record.number,
        "commission": c.commission.number,
        "customer": c.commission.customer.name,
        "item": c.item.number,
        "item_name": c.item.name,
        "issued_on": c.issued_on.isoformat(),
        "issued_at": row["issued_at"],
        "created_at": row["created_at"],
    }
    assert row["issued_at"] is not None
    day = c.issued_on.isoformat()
    assert client.get(f"{API}/", {"status": "issued", "since": day}).json()["count"] == 1
    assert client.get(f"{API}/", {"status": "revoked"}).json()["count"] == 0
    assert client.get(f"{API}/", {"kind": "calibration"}).json()["count"] == 0
    assert client.get(f"{API}/", {"q": c.identifier}).json()["count"] == 1
    assert client.get(f"{API}/", {"until": "2000-01-01"}).json()["count"] == 0
    assert client.get(f"{API}/", {"status": "nonsense"}).status_code == 422
    answer = client.get(f"{API}/", {"since": "2026-12-02", "until": "2026-12-01"})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid"
    newer = copies(c, 2)
    numbers = [r["number"] for r in client.get(f"{API}/", {"limit": 2}).json()["items"]]
    assert numbers == [newer[1].number, newer[0].number]


def test_the_list_query_count_does_not_grow_with_its_rows(issued_certificate, cast, login):
    client = login(cast["director"])
    count = assert_same_query_count_with_n_and_10n(
        lambda: client.get(f"{API}/"), lambda k: copies(issued_certificate, k)
    )
    assert count < 15


def test_one_certificate_with_its_links(issued_certificate, issue, cast, login):
    c = issued_certificate
    client = login(cast["approver"])
    body = client.get(f"{API}/{c.pk}").json()
    assert (body["number"], body["status"], body["replaces"], body["replaced_by"]) == (
        c.number,
        "issued",
        None,
        None,
    )
    assert (body["pdf_sha256"], body["pdf_size"], body["dcc_sha256"]) == (
        c.pdf_sha256,
        c.pdf_size,
        c.dcc_sha256,
    )
    assert body["verification_code"] == c.verification_code
    assert body["verify_url"].endswith(f"/verify/{c.identifier}/?code={c.verification_code}")
    assert body["summary"]["serial_no"] == c.summary["serial_no"]
    answer = _post(client, f"{API}/{c.pk}/replace", {"reason": "地址更正"})
    assert answer.status_code == 201, answer.content
    new = answer.json()
    assert (new["status"], new["replaces"], new["replace_reason"]) == (
        "queued",
        c.number,
        "地址更正",
    )
    assert new["in_progress"] is True and new["verify_url"] is None
    assert client.get(f"{API}/{c.pk}").json()["replaced_by"] == new["number"]
    issue(Certificate.objects.get(pk=new["id"]))
    assert client.get(f"{API}/{c.pk}").json()["status"] == "replaced"
    assert client.get(f"{API}/999999").status_code == 404


def test_downloads_are_audited_with_who(issued_certificate, cast, login):
    c = issued_certificate
    client = login(cast["checker"])
    pdf = client.get(f"{API}/{c.pk}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith(f'attachment; filename="{c.number}.pdf"')
    assert pdf.content.startswith(b"%PDF")
    dcc = client.get(f"{API}/{c.pk}/dcc")
    assert dcc.status_code == 200 and dcc["Content-Type"] == "application/xml"
    assert dcc["Content-Disposition"].startswith(f'attachment; filename="{c.number}.xml"')
    events = AuditEvent.objects.filter(action="certificate.download", object_id=str(c.pk))
    assert sorted((e.actor_label, e.changes["format"]) for e in events) == [
        ("checker", "dcc"),
        ("checker", "pdf"),
    ]


def test_a_certificate_without_a_file_answers_409(approved_record, cast, login):
    certificate = approved_record.certificates.get()
    answer = login(cast["approver"]).get(f"{API}/{certificate.pk}/pdf")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "certificate_status"


def test_revoke_validates_its_body_strictly(issued_certificate, cast, login):
    c = issued_certificate
    client = login(cast["quality_manager"])
    url = f"{API}/{c.pk}/revoke"
    for body in ('"wrong reason"', "[1]", '{"reason": {"text": "x"}}', "{}"):
        with nothing_written(Certificate):
            answer = client.post(url, body, content_type="application/json")
        assert answer.status_code == 422, body
        assert set(answer.json()) == {"error", "request_id"}
    with nothing_written(Certificate):
        answer = _post(client, url, {"reason": "  "})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "reason_required"
    answer = _post(client, url, {"reason": "客户名称错误"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["status"], body["revoke_reason"]) == ("revoked", "客户名称错误")
    assert body["revoked_at"] is not None
    with nothing_written(Certificate):
        answer = _post(client, url, {"reason": "again"})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "certificate_status"


def test_retry_queues_a_failed_issue_again(
    failed_certificate,  # noqa: F811 - the imported fixture, requested by name
    issued_certificate,
    cast,
    login,
):
    client = login(cast["approver"])
    body = client.get(f"{API}/{failed_certificate.pk}").json()
    assert body["status"] == "failed" and body["error"] == failed_certificate.error
    answer = _post(client, f"{API}/{failed_certificate.pk}/retry")
    assert answer.status_code == 200 and answer.json()["status"] == "queued"
    with nothing_written(Certificate):
        answer = _post(client, f"{API}/{issued_certificate.pk}/retry")
    assert answer.status_code == 409


def test_batch_issue(issued_certificate, cast, login):
    from metrolab.certificates.services import certificate_revoke

    c = certificate_revoke(certificate=issued_certificate, actor=cast["admin"], reason="错")
    client = login(cast["director"])
    url = f"{API}/batch-issue"
    for body in ('"records"', '{"records": "1"}', '{"records": []}', '{"records": {"1": 1}}'):
        with nothing_written(Certificate):
            answer = client.post(url, body, content_type="application/json")
        assert answer.status_code == 422, body
    with nothing_written(Certificate):
        answer = _post(client, url, {"records": [c.record_id, 999999]})
    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["loc"][-1] == "records"
    answer = _post(client, url, {"records": [c.record_id]})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["skipped"] == [] and len(body["queued"]) == 1
    assert body["queued"][0]["status"] == "queued" and body["queued"][0]["record"] == c.record_id
    again = _post(client, url, {"records": [c.record_id]}).json()
    assert again == {"queued": [], "skipped": [c.record_id]}
    assert _post(login(cast["metrologist"]), url, {"records": [c.record_id]}).status_code == 403


def test_customers_only_their_own(issued_certificate, approved_record, cast, login, client):
    c = issued_certificate
    login(cast["customer_a"])
    body = client.get(f"{API}/").json()
    assert [r["number"] for r in body["items"]] == [c.number]
    detail = client.get(f"{API}/{c.pk}").json()
    assert detail["verification_code"] is None and detail["error"] == ""
    assert client.get(f"{API}/{c.pk}/pdf").status_code == 200
    assert AuditEvent.objects.get(action="certificate.download").actor_label == "customer_a"
    assert _post(client, f"{API}/{c.pk}/revoke", {"reason": "x"}).status_code == 403
    login(cast["customer_b"])
    assert client.get(f"{API}/").json() == {"items": [], "count": 0}
    for url in (f"{API}/{c.pk}", f"{API}/{c.pk}/pdf", f"{API}/{c.pk}/dcc"):
        answer = client.get(url)
        assert answer.status_code == 404, url
        assert answer.json()["error"]["code"] == "not_found"
    assert AuditEvent.objects.filter(action="certificate.download").count() == 1


def test_a_device_token_reaches_nothing(issued_certificate, client):
    device = user_create(username="reader-1", password=None, roles=["device"], actor=SYSTEM)
    _token, raw = api_token_create(user=device, name="reader", roles=["device"], actor=SYSTEM)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    c = issued_certificate
    for url in (f"{API}/", f"{API}/{c.pk}", f"{API}/{c.pk}/pdf", f"{API}/{c.pk}/dcc"):
        assert client.get(url, **auth).status_code == 403, url
    assert _post(client, f"{API}/{c.pk}/revoke", {"reason": "x"}, **auth).status_code == 403
    assert not AuditEvent.objects.filter(action="certificate.download").exists()
