"""Prices confirmed at contract review (R6.1a): each line's price from the price list or set by
hand with the reason, the quoted total recomputed, kept with the commission (audited), and the
confirmed quote shown to the customer in the portal, on the receipt and in the API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from metrolab.commissions.models import Commission, CommissionLine, PriceListEntry
from metrolab.commissions.services import commission_create, commission_review
from metrolab.core.models import AuditEvent
from metrolab.core.service import ServiceError

pytestmark = pytest.mark.django_db

PRICED = {"instrument_name": "压力表", "service": "calibration", "quantity": 1}
UNPRICED = {"instrument_name": "数字温度计", "service": "calibration", "quantity": 2}


@pytest.fixture
def applied(cast, org_a, slot):
    """A portal application: one line from the price list (80.00), one not in it."""
    return commission_create(
        customer=org_a,
        lines=[PRICED, UNPRICED],
        channel="portal",
        slot=slot,
        actor=cast["customer_a"],
    )


def _lines(commission):
    return list(CommissionLine.objects.filter(commission=commission).order_by("pk"))


def test_the_quote_before_review_is_incomplete(applied):
    first, second = _lines(applied)
    assert (first.unit_price, first.priced, second.unit_price, second.priced) == (
        Decimal("80.00"),
        True,
        Decimal("0.00"),
        False,
    )
    assert applied.quote_total == Decimal("80.00")


def test_accepting_needs_a_price_for_every_line(cast, applied):
    with pytest.raises(ServiceError, match="Line 2: “数字温度计” has no price yet") as error:
        commission_review(commission=applied, decision="accepted", actor=cast["director"])
    assert error.value.field == "prices.1.unit_price"
    applied.refresh_from_db()
    assert applied.review == "pending" and applied.quote_total == Decimal("80.00")
    assert not any(line.price_confirmed for line in _lines(applied))


def test_a_price_set_by_hand_needs_its_reason(cast, applied):
    second = _lines(applied)[1]
    with pytest.raises(ServiceError, match="Line 2: give the reason") as error:
        commission_review(
            commission=applied,
            decision="accepted",
            prices=[{"line": second.pk, "unit_price": "95"}],
            actor=cast["director"],
        )
    assert error.value.field == "prices.1.reason"
    assert Commission.objects.get(pk=applied.pk).review == "pending"


def test_accepting_confirms_each_price_and_the_total(cast, applied):
    first, second = _lines(applied)
    commission_review(
        commission=applied,
        decision="accepted",
        prices=[
            {"line": second.pk, "unit_price": Decimal("95.50"), "reason": "非标量程，按协议价"}
        ],
        actor=cast["director"],
    )
    first, second = _lines(applied)
    assert (first.unit_price, first.price_confirmed, first.price_note) == (
        Decimal("80.00"),
        True,
        "",
    )
    assert (second.unit_price, second.price_confirmed, second.price_note) == (
        Decimal("95.50"),
        True,
        "非标量程，按协议价",
    )
    applied.refresh_from_db()
    assert applied.quote_total == Decimal("271.00")  # 80 × 1 + 95.50 × 2
    changes = [e.changes for e in AuditEvent.objects.filter(action="commission.review")]
    assert {"before": "0.00", "after": "95.50"} in [c.get("unit_price") for c in changes]
    assert {"before": "80.00", "after": "271.00"} in [c.get("quote_total") for c in changes]


def test_a_price_list_entry_of_the_lines_service_sets_its_price(cast, applied, pressure):
    second = _lines(applied)[1]
    entry = PriceListEntry.objects.create(
        discipline=pressure, instrument="数字温度计", service="calibration", unit_price="120.00"
    )
    wrong = PriceListEntry.objects.get(instrument="压力表", service="verification")
    with pytest.raises(ServiceError, match="Line 2: the price-list entry is for another service"):
        commission_review(
            commission=applied,
            decision="accepted",
            prices=[{"line": second.pk, "price_entry": wrong.pk}],
            actor=cast["director"],
        )
    commission_review(
        commission=applied,
        decision="accepted",
        prices=[{"line": second.pk, "price_entry": entry.pk}],
        actor=cast["director"],
    )
    second = _lines(applied)[1]
    assert (second.price_entry, second.unit_price, second.price_note) == (
        entry,
        Decimal("120.00"),
        "",
    )
    assert Commission.objects.get(pk=applied.pk).quote_total == Decimal("320.00")


def test_a_rejection_leaves_the_prices(cast, applied):
    second = _lines(applied)[1]
    commission_review(
        commission=applied,
        decision="rejected",
        note="超出能力范围",
        prices=[{"line": second.pk, "unit_price": "1", "reason": "x"}],
        actor=cast["director"],
    )
    assert _lines(applied)[1].unit_price == Decimal("0.00")
    assert not _lines(applied)[1].price_confirmed


def test_review_api_takes_line_prices(cast, client, applied):
    second = _lines(applied)[1]
    client.force_login(cast["director"])
    url = f"/api/v1/commissions/{applied.pk}/review"
    refused = client.post(url, {"decision": "accepted"}, content_type="application/json")
    assert refused.status_code == 422
    assert "has no price yet" in refused.content.decode()
    body = {
        "decision": "accepted",
        "prices": [{"line_id": second.pk, "unit_price": "95.50", "reason": "协议价"}],
    }
    answer = client.post(url, body, content_type="application/json")
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert data["quote_total"] == "271.00"
    assert [(x["unit_price"], x["price_confirmed"], x["price_note"]) for x in data["lines"]] == [
        ("80.00", True, ""),
        ("95.50", True, "协议价"),
    ]
    # The customer reads the confirmed quote through the API too.
    client.force_login(cast["customer_a"])
    mine = client.get(f"/api/v1/commissions/{applied.pk}").json()
    assert mine["quote_total"] == "271.00" and mine["lines"][1]["price_confirmed"] is True


def test_review_page_confirms_prices_and_the_customer_sees_them(cast, client, applied):
    first, second = _lines(applied)
    client.force_login(cast["customer_a"])
    before = client.get(f"/commissions/{applied.pk}/").content.decode()
    assert 'data-confirmed="0"' in before and "price to be confirmed" in before

    client.force_login(cast["director"])
    page = client.get(f"/commissions/{applied.pk}/")
    assert page.context["prices_form"] is not None
    assert f'name="price-price_{second.pk}"' in page.content.decode()
    post = {
        "decision": "accepted",
        "note": "",
        f"price-entry_{first.pk}": str(first.price_entry_id),
        f"price-price_{first.pk}": "",
        f"price-reason_{first.pk}": "",
        f"price-entry_{second.pk}": "",
        f"price-price_{second.pk}": "95.50",
        f"price-reason_{second.pk}": "",
    }
    client.post(f"/commissions/{applied.pk}/review/", post)
    assert Commission.objects.get(pk=applied.pk).review == "pending"  # no reason given
    post[f"price-reason_{second.pk}"] = "非标量程"
    client.post(f"/commissions/{applied.pk}/review/", post)
    applied.refresh_from_db()
    assert applied.review == "accepted" and applied.quote_total == Decimal("271.00")

    client.force_login(cast["customer_a"])
    for url in (f"/commissions/{applied.pk}/", f"/commissions/{applied.pk}/receipt/"):
        html = client.get(url).content.decode()
        assert 'data-confirmed="1"' in html
        assert "price to be confirmed" not in html
        assert 'data-testid="quote-total">271.00<' in html
        assert "95.50" in html and "非标量程" in html
