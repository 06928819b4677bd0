"""The public status query's entry points (R6.1b, R9.1): linked from the sign-in page and the
portal; the receipt and the applicant's notifications carry the full link (absolute, from
METROLAB_SITE_URL) and its QR code; the page and the API show the expected completion date
and each item's state."""

from __future__ import annotations

import datetime as dt
from html import escape
from urllib.parse import urlencode

import pytest
import segno
from django.utils import timezone

from metrolab.commissions import links
from metrolab.commissions.services import commission_create, commission_review
from metrolab.notifications.models import Notification

pytestmark = pytest.mark.django_db

SITE = "https://lab.example.cn"
LINE = {"instrument_name": "压力表", "service": "calibration", "quantity": 2}


@pytest.fixture
def site(settings):
    settings.METROLAB_SITE_URL = SITE


@pytest.fixture
def mine(cast, org_a, slot, site):
    return commission_create(
        customer=org_a, lines=[LINE], channel="portal", slot=slot, actor=cast["customer_a"]
    )


def _link(commission) -> str:
    query = urlencode({"number": commission.number, "code": commission.query_code})
    return f"{SITE}/commissions/status/?{query}"


def test_sign_in_page_and_portal_link_to_the_status_query(cast, client, mine):
    html = client.get("/login/").content.decode()
    assert 'href="/commissions/status/"' in html and 'data-testid="login-status-query"' in html
    client.force_login(cast["customer_a"])
    listing = client.get("/commissions/").content.decode()
    assert 'data-testid="status-query-link"' in listing
    card = client.get(f"/commissions/{mine.pk}/").content.decode()
    assert f'href="{escape(_link(mine))}" data-testid="status-link"' in card


def test_receipt_carries_the_absolute_link_and_its_qr(cast, client, mine):
    client.force_login(cast["receptionist"])
    response = client.get(f"/commissions/{mine.pk}/receipt/")
    html = response.content.decode()
    assert response.context["status_url"] == _link(mine)
    assert f'href="{escape(_link(mine))}"' in html
    assert segno.make(_link(mine), error="m").svg_inline(scale=3) in html


def test_without_the_setting_pages_use_the_request_and_notices_a_known_address(
    cast, client, mine, settings
):
    settings.METROLAB_SITE_URL = ""
    client.force_login(cast["receptionist"])
    receipt = client.get(f"/commissions/{mine.pk}/receipt/")
    assert receipt.context["status_url"].startswith("http://testserver/commissions/status/?")
    assert links.status_url(mine).startswith("http://localhost:8000/commissions/status/?")
    settings.PRODUCTION = True
    settings.ALLOWED_HOSTS = [".metrology.example.cn", "*"]
    assert links.status_url(mine).startswith("https://metrology.example.cn/commissions/status/?")


def test_notifications_carry_the_full_link_and_the_inbox_its_qr(cast, client, mine):
    applied = Notification.objects.filter(payload__number=mine.number).order_by("pk").first()
    assert _link(mine) in applied.body and mine.query_code in applied.body
    assert applied.payload["status_url"] == _link(mine)
    assert applied.payload["query_code"] == mine.query_code
    commission_review(
        commission=mine,
        decision="accepted",
        note="",
        actor=cast["director"],
    )
    reviewed = Notification.objects.filter(event="commission.reviewed").order_by("pk").last()
    assert _link(mine) in reviewed.body and "160.00" in reviewed.body  # 2 × 80.00
    client.force_login(cast["customer_a"])
    inbox = client.get("/notifications/").content.decode()
    assert f'<a href="{escape(_link(mine))}"' in inbox  # clickable
    assert 'data-testid="status-qr"' in inbox
    assert segno.make(_link(mine), error="m").svg_inline(scale=2) in inbox


def _receive_two(cast, commission):
    from metrolab.items.services import items_receive_batch

    commission_review(commission=commission, decision="accepted", actor=cast["director"])
    return items_receive_batch(
        line=commission.lines.get(), count=2, actor=cast["receptionist"], reason="desk"
    )


def test_status_page_and_api_show_expected_completion_and_items(
    cast, client, org_a, pressure, site
):
    promised = timezone.localdate() + dt.timedelta(days=7)
    commission = commission_create(
        customer=org_a,
        lines=[LINE],
        channel="desk",
        promised_date=promised,
        actor=cast["receptionist"],
    )
    items = _receive_two(cast, commission)
    query = {"number": commission.number, "code": commission.query_code}
    page = client.get("/commissions/status/", query)
    html = page.content.decode()
    assert f'data-testid="expected-completion">{promised:%Y-%m-%d}<' in html
    for item in items:
        assert f'data-item="{item.number}" data-state="received"' in html
    api = client.get(
        f"/api/v1/public/commissions/{commission.number}/status",
        {"code": commission.query_code},
    ).json()
    assert api["expected_completion"] == promised.isoformat()
    assert api["status"] == "items_received"
    assert [(i["number"], i["state"]) for i in api["items"]] == [
        (item.number, "received") for item in items
    ]
    assert "示范" not in str(api)  # still nothing about the customer


def test_expected_completion_falls_back_to_the_lines(cast, org_a, site):
    from metrolab.commissions.selectors import commission_expected_date

    later = timezone.localdate() + dt.timedelta(days=12)
    commission = commission_create(
        customer=org_a,
        lines=[LINE, {**LINE, "promised_date": later}],
        channel="desk",
        actor=cast["receptionist"],
    )
    assert commission_expected_date(commission) == later
