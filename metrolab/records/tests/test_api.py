"""`/api/v1/records/` (R6.2, R4.4, R7.2d): the shapes, the one error shape with the refusal
codes, careless bodies refused 422, a device token writing readings (not signing), portal
customers refused, the list's query count independent of its length."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from metrolab.core.permissions import SYSTEM
from metrolab.core.services import api_token_create, user_create
from metrolab.core.testing import assert_same_query_count_with_n_and_10n
from metrolab.records import services
from metrolab.records.tests.fixtures import PASSWORD, gauge_cells, gauge_roles

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

API = "/api/v1/records"


def _json(client, method, url, body=None):
    return getattr(client, method)(url, body, content_type="application/json")


def test_the_whole_flow_through_the_api(cast, gauge_task, login, client):
    login(cast["metrologist"])
    roles = {str(pk): role for pk, role in gauge_roles(gauge_task).items()}
    answer = _json(client, "post", f"{API}/", {"task": gauge_task.pk, "roles": roles})
    assert answer.status_code == 201, answer.content
    record = answer.json()
    assert record["status"] == "draft" and record["number"].startswith("JL")
    assert record["cells"] == {} and record["signatures"] == []
    assert [(e["asset_no"], e["role"]) for e in record["equipment"]] == [
        ("YQ-001", "standard"),
        ("YQ-002", ""),
    ]
    assert [r["name"] for r in record["roles"]] == ["standard"] and record["missing_roles"] == []
    rid = record["id"]
    answer = _json(client, "patch", f"{API}/{rid}/cells", {"values": gauge_cells()})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["decision"] == "pass" and body["complete"] is True
    assert body["results"]["summary"]["max_error"]["text"] == "0.035"
    preview = _json(client, "post", f"{API}/{rid}/preview", {"values": {"up_after.6": "1.650"}})
    assert preview.status_code == 200
    assert preview.json()["decision"] == "fail"  # 0.050 > 0.040 MPa, not saved
    answer = _json(client, "post", f"{API}/{rid}/submit", {"password": "wrong"})
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "reauthentication_failed"
    answer = _json(client, "post", f"{API}/{rid}/submit", {"password": PASSWORD})
    assert answer.status_code == 200 and answer.json()["status"] == "submitted"
    login(cast["checker"])
    answer = _json(client, "post", f"{API}/{rid}/return", {"reason": "点 6 复测"})
    assert answer.json()["status"] == "draft"
    login(cast["metrologist"])
    answer = _json(client, "patch", f"{API}/{rid}/cells", {"values": {"up_after.6": "1.631"}})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "reason_required"
    answer = _json(
        client,
        "patch",
        f"{API}/{rid}/cells",
        {"values": {"up_after.6": "1.631"}, "reason": "复测"},
    )
    assert answer.status_code == 200
    assert [s["valid"] for s in answer.json()["signatures"]] == [False]
    mid = timezone.now()
    _json(client, "post", f"{API}/{rid}/submit", {"password": PASSWORD})
    login(cast["checker"])
    assert _json(client, "post", f"{API}/{rid}/check", {"password": PASSWORD}).status_code == 200
    login(cast["approver"])
    answer = _json(client, "post", f"{API}/{rid}/approve", {"password": PASSWORD})
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "approved" and body["locked"] is True
    assert [(s["meaning"], s["valid"]) for s in body["signatures"]] == [
        ("measured", False),
        ("measured", True),
        ("checked", True),
        ("approved", True),
    ]
    assert [t["target"] for t in body["transitions"]] == [
        "draft", "submitted", "draft", "submitted", "checked", "approved",
    ]  # fmt: skip
    history = client.get(
        f"{API}/{rid}/history", {"at": (mid - dt.timedelta(microseconds=1)).isoformat()}
    ).json()
    fields = {f["cell"]: f for f in history["fields"]}
    assert [(c["old"], c["new"], c["reason"]) for c in fields["up_after.6"]["changes"]] == [
        ("", "1.630", ""),
        ("1.630", "1.631", "复测"),
    ]
    assert history["state"]["cells"]["up_after.6"] == "1.631"
    assert history["state"]["status"] == "draft"
    # A locked record refuses further writes (409).
    login(cast["metrologist"])
    answer = _json(client, "patch", f"{API}/{rid}/cells", {"values": {"up_after.6": "1"}})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "record_locked"


@pytest.mark.parametrize(
    "body",
    [
        {"values": '{"standard.1": "0"}'},  # a JSON string where an object belongs
        {"values": {"standard.1": 0}},  # a number, not text
        {"values": ["standard.1"]},
        {"values": {"standard.1": "9" * 301}},
        {},
    ],
)
def test_careless_bodies_are_refused(cast, gauge_record, login, client, body):
    login(cast["metrologist"])
    answer = _json(client, "patch", f"{API}/{gauge_record.pk}/cells", body)
    assert answer.status_code == 422, answer.content
    assert set(answer.json()) == {"error", "request_id"}
    answer = client.patch(
        f"{API}/{gauge_record.pk}/cells", '"text"', content_type="application/json"
    )
    assert answer.status_code == 422


def test_unknown_and_protected_cells_name_their_codes(cast, gauge_record, login, client):
    login(cast["metrologist"])
    answer = _json(client, "patch", f"{API}/{gauge_record.pk}/cells", {"values": {"mpe.1": "1"}})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "protected_cell"
    answer = _json(client, "patch", f"{API}/{gauge_record.pk}/cells", {"values": {"x.1": "1"}})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "unknown_cell"


def test_a_device_token_writes_readings_but_cannot_sign(cast, gauge_record, client):
    device = user_create(username="press-1", password=None, roles=["device"], actor=SYSTEM)
    _token, raw = api_token_create(user=device, name="press", roles=["device"], actor=SYSTEM)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    answer = client.patch(
        f"{API}/{gauge_record.pk}/cells",
        {"values": {"standard.1": "0", "up_before.1": "0"}},
        content_type="application/json",
        **auth,
    )
    assert answer.status_code == 200, answer.content
    change = gauge_record.changes.first()
    assert (change.by, change.source) == (device, "device")
    answer = client.post(
        f"{API}/{gauge_record.pk}/submit",
        {"password": "x"},
        content_type="application/json",
        **auth,
    )
    assert answer.status_code == 403
    assert client.get(f"{API}/", **auth).status_code == 403


def test_customers_see_nothing(cast, gauge_record, login, client):
    login(cast["customer_a"])
    assert client.get(f"{API}/").status_code == 403
    assert client.get(f"{API}/{gauge_record.pk}").status_code == 403


def test_list_filters_and_query_count(cast, login, client, approved_version, start_task):
    approved_version()
    login(cast["director"])

    def add(k):
        for _ in range(k):
            services.record_create(task=start_task(), actor=cast["metrologist"])

    count = assert_same_query_count_with_n_and_10n(lambda: client.get(f"{API}/"), add, n=1)
    assert count < 15
    body = client.get(f"{API}/", {"status": "draft", "measured_by": "metrologist"}).json()
    assert body["count"] == 10 and len(body["items"]) == 10
    assert client.get(f"{API}/", {"status": "approved"}).json()["count"] == 0
    assert client.get(f"{API}/", {"status": "nonsense"}).status_code == 422
    first = body["items"][-1]
    assert client.get(f"{API}/", {"q": first["number"]}).json()["count"] == 1
    assert client.get(f"{API}/", {"task": first["task"]}).json()["count"] == 1
    assert client.get(f"{API}/", {"template": "jjg52-2013-pressure-gauge"}).json()["count"] == 10


def test_the_record_page(cast, gauge_record, move, login, client):
    record = move(gauge_record, "approved")
    login(cast["checker"])
    page = client.get(f"/records/{record.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert record.number in text and "0.035" in text and 'data-valid="true"' in text
    login(cast["customer_a"])
    assert client.get(f"/records/{record.pk}/").status_code in (302, 403)


def test_amend_and_cancel_through_the_api(cast, gauge_record, move, login, client):
    record = move(gauge_record, "approved")
    login(cast["metrologist"])
    answer = _json(client, "post", f"{API}/{record.pk}/amend", {"reason": ""})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "reason_required"
    answer = _json(client, "post", f"{API}/{record.pk}/amend", {"reason": "客户地址更正"})
    assert answer.status_code == 201, answer.content
    amendment = answer.json()
    assert amendment["amends"] == record.number and amendment["revision"] == 2
    assert amendment["cells"] == record.cells and amendment["status"] == "draft"
    answer = _json(client, "post", f"{API}/{amendment['id']}/cancel", {"reason": "不需要更正"})
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    original = client.get(f"{API}/{record.pk}").json()
    assert original["status"] == "approved" and original["amendments"] == [amendment["number"]]


def test_delete_only_after_retention_through_the_api(cast, gauge_record, login, client):
    """R6.12a: a lab manager deletes a record through the API only once its retention period
    has ended (409 record_retained before, 403 for anyone else); nothing is deleted on a
    refusal."""
    from django.db import connection

    from metrolab.records.models import Record

    url = f"{API}/{gauge_record.pk}/delete"
    login(cast["metrologist"])
    answer = _json(client, "post", url, {"reason": "清理"})
    assert answer.status_code == 403
    login(cast["director"])
    answer = _json(client, "post", url, {"reason": "清理"})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "record_retained"
    assert Record.objects.filter(pk=gauge_record.pk).exists()
    with connection.cursor() as cursor:  # time passes: the period has ended
        cursor.execute(
            "UPDATE records_record SET retain_until = %s WHERE id = %s",
            [timezone.localdate() - dt.timedelta(days=2), gauge_record.pk],
        )
    answer = _json(client, "post", url, {"reason": "保存期满"})
    assert answer.status_code == 204
    assert not Record.objects.filter(pk=gauge_record.pk).exists()
