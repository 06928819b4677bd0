"""Past appointment slots (issue 12, point 2; R9.1): a slot is over once its half-day has
ended in the lab's time zone (Asia/Shanghai): the morning at 12:00, the afternoon at 17:30
(`AppointmentSlot.PERIOD_ENDS`). Over, it is neither offered (form, slot list of the API)
nor booked (the service refuses it with a translated message). "Now" is set by the tests."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from metrolab.commissions.models import AppointmentSlot, Commission
from metrolab.commissions.selectors import slot_list_available
from metrolab.commissions.services import commission_create
from metrolab.core.service import ServiceError

pytestmark = pytest.mark.django_db

LINE = {"instrument_name": "压力表", "service": "calibration", "quantity": 1}
DAY = dt.date(2026, 12, 7)  # a Monday


@pytest.fixture
def slots(pressure):
    """This morning's, this afternoon's and tomorrow morning's slot of pressure."""

    def make(day, period):
        return AppointmentSlot.objects.create(
            discipline=pressure, date=day, period=period, capacity=5
        )

    return {
        "am": make(DAY, "am"),
        "pm": make(DAY, "pm"),
        "next": make(DAY + dt.timedelta(days=1), "am"),
    }


def offered() -> set[str]:
    keys = {(s.date, s.period): s for s in slot_list_available()}
    return {f"{d.isoformat()} {p}" for d, p in keys}


def test_a_half_day_is_offered_until_it_ends(lab_clock, slots):
    lab_clock(11, 59, DAY)
    assert offered() == {"2026-12-07 am", "2026-12-07 pm", "2026-12-08 am"}
    lab_clock(12, 0, DAY)
    assert offered() == {"2026-12-07 pm", "2026-12-08 am"}
    lab_clock(17, 29, DAY)
    assert offered() == {"2026-12-07 pm", "2026-12-08 am"}
    lab_clock(17, 49, DAY)
    assert offered() == {"2026-12-08 am"}


def test_the_lab_time_zone_decides_not_utc(monkeypatch, slots):
    # 03:59 UTC is 11:59 in Shanghai: the morning is still open; 04:00 UTC is noon there.
    utc = ZoneInfo("UTC")
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 12, 7, 3, 59, tzinfo=utc))
    assert "2026-12-07 am" in offered()
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 12, 7, 4, 0, tzinfo=utc))
    assert "2026-12-07 am" not in offered()
    # 16:30 UTC on the 7th is already 00:30 on the 8th in Shanghai: the whole 7th is over.
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 12, 7, 16, 30, tzinfo=utc))
    assert offered() == {"2026-12-08 am"}


@pytest.mark.parametrize("channel, who", [("portal", "customer_a"), ("desk", "receptionist")])
def test_booking_a_past_slot_is_refused_with_a_translated_message(
    cast, org_a, slots, lab_clock, channel, who
):
    lab_clock(17, 49, DAY)
    for period in ("am", "pm"):
        with pytest.raises(ServiceError) as caught:
            commission_create(
                customer=org_a, lines=[LINE], channel=channel, slot=slots[period], actor=cast[who]
            )
        assert caught.value.code == "slot_past" and caught.value.field == "slot"
    assert caught.value.message == (
        "The appointment slot of 2026-12-07 afternoon is over; choose a later one."
    )
    with translation.override("zh-hans"), pytest.raises(ServiceError) as caught:
        commission_create(
            customer=org_a, lines=[LINE], channel=channel, slot=slots["am"], actor=cast[who]
        )
    assert caught.value.message == "2026-12-07 上午的预约时段已过，请选择之后的时段。"
    assert Commission.objects.count() == 0
    later = commission_create(
        customer=org_a, lines=[LINE], channel=channel, slot=slots["next"], actor=cast[who]
    )
    assert later.slot == slots["next"]


def test_this_mornings_slot_is_booked_before_noon(cast, org_a, slots, lab_clock):
    lab_clock(11, 30, DAY)
    commission = commission_create(
        customer=org_a, lines=[LINE], channel="portal", slot=slots["am"], actor=cast["customer_a"]
    )
    assert commission.slot == slots["am"]


def test_the_api_neither_lists_nor_books_a_past_slot(cast, client, org_a, slots, lab_clock):
    lab_clock(17, 49, DAY)
    client.force_login(cast["customer_a"])
    listed = client.get("/api/v1/commissions/slots").json()["items"]
    assert [(s["date"], s["period"]) for s in listed] == [("2026-12-08", "am")]
    refused = client.post(
        "/api/v1/commissions/",
        {"slot_id": slots["am"].pk, "lines": [LINE]},
        content_type="application/json",
    )
    assert refused.status_code == 409  # the slot's time is over (core/errors.py)
    error = refused.json()["error"]
    assert error["code"] == "slot_past" and "2026-12-07" in error["message"]
    assert Commission.objects.count() == 0


def _lines_post(line: dict) -> dict:
    return {
        "lines-TOTAL_FORMS": 1,
        "lines-INITIAL_FORMS": 0,
        "lines-MIN_NUM_FORMS": 1,
        "lines-MAX_NUM_FORMS": 50,
        **{f"lines-0-{k}": v for k, v in line.items()},
    }


def test_the_forms_neither_offer_nor_book_a_past_slot(cast, client, org_a, slots, lab_clock):
    # The customer opened the form in the morning and sends it after noon.
    lab_clock(11, 55, DAY)
    client.force_login(cast["customer_a"])
    page = client.get("/commissions/apply/")
    assert f'name="slot" value="{slots["am"].pk}"' in page.content.decode()
    lab_clock(17, 49, DAY)
    page = client.get("/commissions/apply/")
    html = page.content.decode()
    assert [v for v, _label in page.context["form"].fields["slot"].choices] == [slots["next"].pk]
    for past in ("am", "pm"):
        assert f'name="slot" value="{slots[past].pk}"' not in html
    data = {"slot": slots["am"].pk, "action": "save"} | _lines_post(LINE)
    sent = client.post("/commissions/apply/", data)
    assert sent.status_code == 200
    assert sent.context["form"].errors["slot"] == [
        "This appointment slot is no longer open (its half-day is over or it is full); "
        "choose another one."
    ]
    # The desk's form does not offer them either.
    client.force_login(cast["receptionist"])
    desk = client.get("/commissions/new/", {"customer": org_a.pk})
    assert [v for v, _label in desk.context["form"].fields["slot"].choices] == [
        "",
        slots["next"].pk,
    ]
    assert Commission.objects.count() == 0
