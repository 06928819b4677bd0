"""The radar page and `GET /api/v1/risk/radar` (R4.5): counts per horizon, filters by kind
and horizon, overdue rows in red and rows due within 30 days in amber, pagination; for the
quality manager, the equipment manager, the technical manager and administrators only."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.urls import reverse
from django.utils import timezone

from metrolab.core.testing import assert_same_query_count_with_n_and_10n

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
ALLOWED = {"quality_manager", "equipment_manager", "director", "admin"}


@pytest.fixture
def spread(lib, cast):
    """One thing per horizon, relative to today."""
    today = timezone.localdate()
    return {
        "overdue": lib.equipment(today - DAY, asset_no="EQ-LATE", custodian=cast["metrologist"]),
        "30": lib.certificate(today, person=cast["checker"], number="CERT-TODAY"),
        "60": lib.item(today + 45 * DAY, code="AI-45"),
        "90": lib.standard(today + 90 * DAY, name="温度标准装置 Temperature standard"),
        "beyond": lib.item(today + 91 * DAY, code="AI-91"),
    }


def test_radar_page(spread, cast, login):
    client = login(cast["quality_manager"])
    page = client.get(reverse("risk:radar"))
    assert page.status_code == 200
    html = page.content.decode()
    for bucket in ("overdue", "30", "60", "90"):
        assert f'data-testid="count-{bucket}"><span class="count">1</span>' in html
    assert 'class="risk-overdue" data-kind="calibration" data-bucket="overdue"' in html
    assert 'class="risk-soon" data-kind="personnel_certificate" data-bucket="30"' in html
    assert "1 day overdue" in html and "due today" in html
    assert "EQ-LATE" in html and "AI-45" in html and "AI-91" not in html
    assert reverse("equipment:detail", args=[spread["overdue"].pk]) in html
    # Sorted by due date: overdue first, the standard (90 days) last.
    assert html.index("EQ-LATE") < html.index("CERT-TODAY") < html.index("AI-45")
    assert html.index("AI-45") < html.index("温度标准装置")


def test_radar_filters(spread, cast, login):
    client = login(cast["equipment_manager"])
    html = client.get(reverse("risk:radar"), {"bucket": "overdue"}).content.decode()
    assert "EQ-LATE" in html and "AI-45" not in html
    html = client.get(reverse("risk:radar"), {"kind": "authorised_item"}).content.decode()
    assert "AI-45" in html and "EQ-LATE" not in html
    assert 'data-testid="count-overdue"><span class="count">0</span>' in html  # of that kind
    # As of a later day, the item due in 45 days is within 30 days.
    later = (timezone.localdate() + 20 * DAY).isoformat()
    html = client.get(reverse("risk:radar"), {"on": later, "bucket": "30"}).content.decode()
    assert "AI-45" in html
    bad = client.get(reverse("risk:radar"), {"bucket": "soon", "on": "tomorrow"})
    assert bad.status_code == 200
    assert 'role="alert"' in bad.content.decode()


def test_radar_pagination(lib, cast, login):
    today = timezone.localdate()
    for n in range(55):
        lib.item(today + (n % 80) * DAY, code=f"P-{n:02d}")
    client = login(cast["director"])
    first = client.get(reverse("risk:radar")).content.decode()
    assert first.count('data-kind="authorised_item"') == 50
    assert "Page 1 of 2 (55 in all)" in first
    second = client.get(reverse("risk:radar"), {"page": 2}).content.decode()
    assert second.count('data-kind="authorised_item"') == 5


def test_radar_page_access(cast, client):
    assert client.get(reverse("risk:radar")).status_code == 302  # anonymous: sign in
    for username, user in cast.items():
        client.force_login(user)
        expected = 200 if username in ALLOWED else 403
        assert client.get(reverse("risk:radar")).status_code == expected, username


def test_radar_api(spread, cast, client):
    client.force_login(cast["equipment_manager"])
    body = client.get("/api/v1/risk/radar").json()
    assert body["days"] == 90 and body["on"] == timezone.localdate().isoformat()
    assert body["counts"] == {"overdue": 1, "30": 1, "60": 1, "90": 1}
    first = body["entries"][0]
    assert first["kind"] == "calibration" and first["horizon"] == "overdue"
    assert first["days_left"] == -1 and first["responsible_users"] == ["metrologist"]
    assert first["url"] == reverse("equipment:detail", args=[spread["overdue"].pk])
    short = client.get("/api/v1/risk/radar", {"days": 30}).json()
    assert short["counts"] == {"overdue": 1, "30": 1, "60": 0, "90": 0}
    on = (timezone.localdate() + 46 * DAY).isoformat()
    later = client.get("/api/v1/risk/radar", {"days": 30, "on": on}).json()
    # All but the standard (now 44 days ahead) are overdue.
    assert later["counts"] == {"overdue": 3, "30": 0, "60": 0, "90": 0}
    only = client.get("/api/v1/risk/radar", {"kind": "authorised_item", "horizon": "60"}).json()
    assert [e["what"].split()[0] for e in only["entries"]] == ["AI-45"]
    for bad in ({"days": 45}, {"kind": "x"}, {"horizon": "soon"}, {"on": "tomorrow"}):
        assert client.get("/api/v1/risk/radar", bad).status_code == 422, bad


def test_radar_api_access(cast, client):
    assert client.get("/api/v1/risk/radar").status_code == 401
    for username, user in cast.items():
        client.force_login(user)
        expected = 200 if username in ALLOWED else 403
        assert client.get("/api/v1/risk/radar").status_code == expected, username


def test_radar_page_queries_do_not_grow_with_entries(lib, cast, login):
    """1 entry of every kind and 10: the same number of queries."""
    today = timezone.localdate()
    serial = itertools.count()

    def add(k):
        for _ in range(k):
            n = next(serial)
            due = today + (n * 7 - 10) * DAY
            lib.equipment(due, custodian=cast["metrologist"])
            lib.certificate(due, person=cast["checker"], number=f"Q-{n}")
            lib.authorisation(due)
            lib.standard(due, custodian=cast["equipment_manager"])
            lib.plan(due)
            lib.superseded(today + (n + 1) * DAY)

    client = login(cast["quality_manager"])

    def get():
        response = client.get(reverse("risk:radar"))
        assert response.status_code == 200
        return response

    assert_same_query_count_with_n_and_10n(get, add)
    response = get()
    assert response.context["total"] > 40  # 10 of each kind, less those beyond the horizon
