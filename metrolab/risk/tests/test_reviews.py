"""Impact reviews (R4.5): the quality manager (or the technical manager, an administrator)
opens one on what the reverse traceability lists, the technical manager is told, the affected
customers are shown, and it is closed with a conclusion — through the service, the pages and
the API; the equipment manager reads only; metrologists, customers and anonymous users are
refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from metrolab.core.service import ServiceError
from metrolab.notifications.models import Notification
from metrolab.risk.models import ImpactReview
from metrolab.risk.services import REVIEW_OPENED_EVENT, impact_review_close, impact_review_open
from metrolab.risk.trace import day_period
from metrolab.tasks.models import Task

pytestmark = pytest.mark.django_db

START, END = day_period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
API = "/api/v1/risk"


@pytest.fixture
def used(lib, cast, make_commission, receive):
    """Equipment YQ-001 used in March by a task of customer A and a task of customer B."""
    from metrolab.equipment.models import UsageRecord

    eq = lib.equipment(dt.date(2027, 1, 1), asset_no="YQ-001", name="数字压力计")
    tasks = []
    for customer in ("a", "b"):
        item = receive(make_commission(customer))
        task = item.tasks.get()
        task.equipment.set([eq])
        task.assignee = cast["metrologist"]
        task.assigned_at = START + dt.timedelta(days=2)
        task.status = Task.Status.IN_PROGRESS
        task.save()
        tasks.append(task)
    UsageRecord.objects.create(
        equipment=eq,
        user=cast["metrologist"],
        started_at=START + dt.timedelta(days=3),
        ended_at=START + dt.timedelta(days=3, hours=2),
        note="manual use",
    )
    return eq, tasks


# --- the service ----------------------------------------------------------------------------


def test_lifecycle(used, cast):
    eq, tasks = used
    review = impact_review_open(
        equipment=eq,
        start=START,
        end=END,
        reason="Found out of tolerance at calibration",
        actor=cast["quality_manager"],
    )
    assert review.state == ImpactReview.State.OPEN
    assert set(review.tasks.all()) == set(tasks)
    assert [r["source"] for r in review.snapshot] == ["task", "task", "usage"]
    told = Notification.objects.get(event=REVIEW_OPENED_EVENT)
    assert told.recipient == cast["director"]
    assert "YQ-001" in told.subject and told.related_id == str(review.pk)

    with pytest.raises(ServiceError) as empty:
        impact_review_close(review=review, conclusion="  ", actor=cast["quality_manager"])
    assert empty.value.field == "conclusion"
    closed = impact_review_close(
        review=review, conclusion="Re-calibrate both items.", actor=cast["quality_manager"]
    )
    assert closed.state == ImpactReview.State.CLOSED and closed.closed_by == cast["quality_manager"]
    assert closed.closed_at is not None
    with pytest.raises(ServiceError) as again:
        impact_review_close(review=review, conclusion="Again", actor=cast["quality_manager"])
    assert again.value.code == "invalid_transition"
    review.refresh_from_db()
    assert review.conclusion == "Re-calibrate both items."


def test_refusals_write_nothing(used, cast):
    eq, _tasks = used
    for actor in ("metrologist", "equipment_manager", "customer_a"):
        with pytest.raises(ServiceError) as refused:
            impact_review_open(equipment=eq, start=START, end=END, reason="x", actor=cast[actor])
        assert refused.value.code == "forbidden"
    with pytest.raises(ServiceError) as no_reason:
        impact_review_open(equipment=eq, start=START, end=END, reason=" ", actor=cast["admin"])
    assert no_reason.value.field == "reason"
    with pytest.raises(ServiceError) as backwards:
        impact_review_open(equipment=eq, start=END, end=START, reason="x", actor=cast["admin"])
    assert backwards.value.field == "end"
    assert not ImpactReview.objects.exists()
    assert not Notification.objects.filter(event=REVIEW_OPENED_EVENT).exists()


def test_the_director_opening_one_is_not_told_of_it(used, cast):
    eq, _tasks = used
    impact_review_open(equipment=eq, start=START, end=END, reason="x", actor=cast["director"])
    assert not Notification.objects.filter(event=REVIEW_OPENED_EVENT).exists()


# --- pages ----------------------------------------------------------------------------------


def _trace_url(eq):
    return reverse("risk:trace") + f"?equipment={eq.pk}&start=2026-03-01&end=2026-03-31"


def test_trace_page_for_readers_and_editors(used, cast, login):
    eq, tasks = used
    client = login(cast["equipment_manager"])
    page = client.get(_trace_url(eq))
    html = page.content.decode()
    assert page.status_code == 200
    assert tasks[0].item.number in html and tasks[1].item.number in html
    assert "manual use" in html
    assert 'data-testid="trace-note"' not in html  # original records extend the trace now
    assert 'data-testid="review-open"' not in html  # reads only
    client = login(cast["quality_manager"])
    html = client.get(_trace_url(eq)).content.decode()
    assert 'data-testid="review-open"' in html


def test_trace_page_finds_equipment(used, cast, lib, login):
    _eq, _tasks = used
    lib.equipment(dt.date(2027, 1, 1), asset_no="YQ-010", name="数字压力计 B")
    client = login(cast["director"])
    exact = client.get(reverse("risk:trace"), {"q": "yq-001"}).content.decode()
    assert 'data-testid="trace"' in exact  # an exact asset no. is chosen at once
    several = client.get(reverse("risk:trace"), {"q": "数字压力计"}).content.decode()
    assert 'data-testid="candidates"' in several and "YQ-010" in several
    none = client.get(reverse("risk:trace"), {"q": "nothing"}).content.decode()
    assert "No equipment matches." in none
    bad = client.get(
        reverse("risk:trace"), {"q": "YQ-001", "start": "2026-04-01", "end": "2026-03-01"}
    )
    assert bad.status_code == 200 and "must end on or after" in bad.content.decode()
    assert client.get(reverse("risk:trace")).status_code == 200  # the list of reviews


def test_review_through_the_pages(used, cast, login):
    eq, _tasks = used
    client = login(cast["quality_manager"])
    form = {"equipment": eq.pk, "start": "2026-03-01", "end": "2026-03-31", "reason": ""}
    refused = client.post(reverse("risk:review_open"), form)
    assert refused.status_code == 302 and not ImpactReview.objects.exists()
    form["reason"] = "Found out of tolerance"
    opened = client.post(reverse("risk:review_open"), form)
    review = ImpactReview.objects.get()
    assert opened.url == reverse("risk:review_detail", args=[review.pk])
    assert review.period_start == START and review.period_end == END
    html = client.get(opened.url).content.decode()
    assert "甲方仪表厂 Customer A" in html and "乙方化工 Customer B" in html
    assert 'data-testid="review-close"' in html
    client.post(reverse("risk:review_close", args=[review.pk]), {"conclusion": ""})
    review.refresh_from_db()
    assert review.state == ImpactReview.State.OPEN
    client.post(reverse("risk:review_close", args=[review.pk]), {"conclusion": "No impact."})
    review.refresh_from_db()
    assert review.state == ImpactReview.State.CLOSED
    html = client.get(opened.url).content.decode()
    assert "No impact." in html and 'data-testid="review-close"' not in html

    # The equipment manager reads; they cannot open or close.
    client = login(cast["equipment_manager"])
    assert client.get(opened.url).status_code == 200
    assert client.post(reverse("risk:review_open"), form).status_code == 403
    assert client.post(reverse("risk:review_close", args=[review.pk]), {}).status_code == 403


@pytest.mark.parametrize("username", ["metrologist", "customer_a", "receptionist"])
def test_pages_refused(used, cast, login, username):
    eq, _tasks = used
    review = impact_review_open(
        equipment=eq, start=START, end=END, reason="x", actor=cast["quality_manager"]
    )
    client = login(cast[username])
    assert client.get(_trace_url(eq)).status_code == 403
    assert client.get(reverse("risk:review_detail", args=[review.pk])).status_code == 403
    form = {"equipment": eq.pk, "start": "2026-03-01", "end": "2026-03-31", "reason": "x"}
    assert client.post(reverse("risk:review_open"), form).status_code == 403
    assert client.post(reverse("risk:review_close", args=[review.pk]), {}).status_code == 403


def test_pages_anonymous(used, client):
    eq, _tasks = used
    for url in (_trace_url(eq), reverse("risk:review_detail", args=[1])):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response.url
    assert client.post(reverse("risk:review_open"), {}).status_code == 302
    assert not ImpactReview.objects.exists()


def test_missing_review_is_404(cast, login):
    client = login(cast["quality_manager"])
    assert client.get(reverse("risk:review_detail", args=[9999])).status_code == 404


# --- API ------------------------------------------------------------------------------------


def test_api_trace(used, cast, client):
    eq, tasks = used
    client.force_login(cast["equipment_manager"])
    body = client.get(
        f"{API}/trace", {"equipment": eq.pk, "start": "2026-03-01", "end": "2026-03-31"}
    ).json()
    assert {r["task_id"] for r in body["rows"]} == {tasks[0].pk, tasks[1].pk, None}
    assert {c["code"] for c in body["customers"]} == {"CA", "CB"}
    assert body["equipment"]["asset_no"] == "YQ-001"
    assert body["end"].startswith("2026-03-31T23:59:59.999")  # JSON keeps milliseconds
    assert body["note"] == ""  # original records extend the trace now
    # A narrower period with date-times: the tasks assigned after it fall out.
    body = client.get(
        f"{API}/trace",
        {"equipment": eq.pk, "start": "2026-03-01T00:00", "end": "2026-03-02T12:00"},
    ).json()
    assert body["rows"] == []
    # Without a period: since the current calibration (2026-01-01 here) up to today.
    since = client.get(f"{API}/trace", {"equipment": eq.pk}).json()
    assert since["start"].startswith("2026-01-01T00:00:00")
    bad = client.get(f"{API}/trace", {"equipment": eq.pk, "start": "March", "end": "2026-03-31"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["loc"] == ["start"]
    backwards = client.get(
        f"{API}/trace", {"equipment": eq.pk, "start": "2026-03-31", "end": "2026-03-01"}
    )
    assert backwards.status_code == 422
    missing = client.get(
        f"{API}/trace", {"equipment": 999, "start": "2026-03-01", "end": "2026-03-31"}
    )
    assert missing.status_code == 422


def test_api_review_lifecycle(used, cast, client):
    eq, tasks = used
    payload = {
        "equipment_id": eq.pk,
        "start": "2026-03-01",
        "end": "2026-03-31",
        "reason": "Out of tolerance",
    }
    client.force_login(cast["quality_manager"])
    created = client.post(f"{API}/reviews", payload, content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert body["state"] == "open" and body["opened_by"] == "quality_manager"
    assert body["task_ids"] == sorted(t.pk for t in tasks)
    assert {c["code"] for c in body["customers"]} == {"CA", "CB"}
    assert len(body["rows"]) == 3
    pk = body["id"]

    client.force_login(cast["equipment_manager"])
    assert client.get(f"{API}/reviews/{pk}").json()["reason"] == "Out of tolerance"
    assert client.get(f"{API}/reviews").json()["items"][0]["id"] == pk
    closing = client.post(
        f"{API}/reviews/{pk}/close", {"conclusion": "x"}, content_type="application/json"
    )
    assert closing.status_code == 403

    client.force_login(cast["director"])
    closed = client.post(
        f"{API}/reviews/{pk}/close", {"conclusion": "No impact"}, content_type="application/json"
    )
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert closed.json()["closed_by"] == "director"
    again = client.post(
        f"{API}/reviews/{pk}/close", {"conclusion": "x"}, content_type="application/json"
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    assert client.get(f"{API}/reviews/9999").status_code == 404


def test_api_refusals(used, cast, client):
    eq, _tasks = used
    payload = {"equipment_id": eq.pk, "start": "2026-03-01", "end": "2026-03-31", "reason": "x"}
    assert (
        client.post(f"{API}/reviews", payload, content_type="application/json").status_code == 401
    )
    assert client.get(f"{API}/trace", {"equipment": eq.pk}).status_code == 401
    for username in ("metrologist", "customer_a", "equipment_manager"):
        client.force_login(cast[username])
        response = client.post(f"{API}/reviews", payload, content_type="application/json")
        assert response.status_code == 403, username
    for username in ("metrologist", "customer_a"):
        client.force_login(cast[username])
        assert client.get(f"{API}/reviews").status_code == 403
        assert (
            client.get(
                f"{API}/trace", {"equipment": eq.pk, "start": "2026-03-01", "end": "2026-03-31"}
            ).status_code
            == 403
        )
    client.force_login(cast["quality_manager"])
    bad = client.post(f"{API}/reviews", {**payload, "reason": ""}, content_type="application/json")
    assert bad.status_code == 422
    assert bad.json()["error"]["details"] == [
        {"loc": ["reason"], "message": bad.json()["error"]["message"]}
    ]
    bad = client.post(f"{API}/reviews", {**payload, "end": "soon"}, content_type="application/json")
    assert bad.status_code == 422
    assert not ImpactReview.objects.exists()
