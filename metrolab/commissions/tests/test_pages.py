"""Commission pages: who may open them, the desk / on-site form with its quote, the portal
application with the slot picker, review and cancellation from the card, the day's arrivals,
the receipt and the public status page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from metrolab.commissions.models import AppointmentSlot, Commission
from metrolab.commissions.services import commission_create
from metrolab.core.roles import LAB_STAFF
from metrolab.core.testing import assert_same_query_count_with_n_and_10n

pytestmark = pytest.mark.django_db

LINE = {"instrument_name": "压力表", "service": "calibration", "quantity": 1}
CUSTOMERS = {"customer", "customer_a", "customer_b"}

PAGE_ACCESS = {
    "/commissions/": set(LAB_STAFF) | CUSTOMERS,
    "/commissions/new/": {"admin", "receptionist", "metrologist"},
    "/commissions/apply/": CUSTOMERS,
    "/commissions/arrivals/": {"admin", "director", "receptionist", "item_keeper"},
}


@pytest.mark.parametrize("url", sorted(PAGE_ACCESS))
def test_pages_open_only_for_their_roles(cast, client, url):
    for username, user in cast.items():
        client.force_login(user)
        status = client.get(url).status_code
        expected = 200 if username in PAGE_ACCESS[url] else 403
        assert status == expected, f"{username} on {url}: {status}, expected {expected}"


@pytest.fixture
def mine(cast, org_a, slot):
    return commission_create(
        customer=org_a, lines=[LINE], channel="portal", slot=slot, actor=cast["customer_a"]
    )


@pytest.fixture
def theirs(cast, org_b, slot):
    return commission_create(
        customer=org_b, lines=[LINE], channel="portal", slot=slot, actor=cast["customer_b"]
    )


def test_a_customer_sees_only_their_own(cast, client, mine, theirs):
    client.force_login(cast["customer_a"])
    html = client.get("/commissions/").content.decode()
    assert mine.number in html and theirs.number not in html
    assert client.get(f"/commissions/{mine.pk}/").status_code == 200
    for url in (f"/commissions/{theirs.pk}/", f"/commissions/{theirs.pk}/receipt/"):
        assert client.get(url).status_code == 404
    assert client.get(f"/commissions/?customer={theirs.customer_id}").status_code == 404
    response = client.post(f"/commissions/{theirs.pk}/cancel/", {"reason": "x"})
    assert response.status_code == 404
    assert Commission.objects.get(pk=theirs.pk).status == "applied"
    client.force_login(cast["customer"])  # a customer-role user with no organisation
    assert theirs.number not in client.get("/commissions/").content.decode()
    assert client.get(f"/commissions/{theirs.pk}/").status_code == 404


@pytest.mark.parametrize("username", ["receptionist", "customer_a"])
def test_the_list_does_not_grow_with_rows(cast, client, org_a, username):
    """1 commission and 10 listed (staff and portal): the same number of queries."""

    def add(k):
        for n in range(k):
            commission_create(
                customer=org_a,
                lines=[{**LINE, "serial_no": f"S{n}"}, LINE],
                channel="desk",
                actor=cast["receptionist"],
            )

    client.force_login(cast[username])

    def get():
        response = client.get("/commissions/")
        assert response.status_code == 200
        return response

    assert_same_query_count_with_n_and_10n(get, add)
    assert len(get().context["page"]) == 10


def test_staff_filter_the_list(cast, client, mine, theirs):
    client.force_login(cast["receptionist"])
    html = client.get("/commissions/").content.decode()
    assert mine.number in html and theirs.number in html
    html = client.get("/commissions/", {"q": "示范水务"}).content.decode()
    assert theirs.number in html and mine.number not in html
    html = client.get("/commissions/", {"status": "cancelled"}).content.decode()
    assert mine.number not in html
    page = client.get("/commissions/", {"customer": mine.customer_id})
    assert page.context["customer"] == mine.customer
    assert [c.pk for c in page.context["page"]] == [mine.pk]


def _lines_post(*lines):
    data = {
        "lines-TOTAL_FORMS": len(lines),
        "lines-INITIAL_FORMS": 0,
        "lines-MIN_NUM_FORMS": 1,
        "lines-MAX_NUM_FORMS": 50,
    }
    for n, line in enumerate(lines):
        data |= {f"lines-{n}-{k}": v for k, v in line.items()}
    return data


def test_desk_form_picks_the_customer_shows_the_quote_and_creates(cast, client, org_a, pressure):
    client.force_login(cast["receptionist"])
    picker = client.get("/commissions/new/", {"q": "示范制造"}).content.decode()
    assert f"?customer={org_a.pk}" in picker
    form = client.get("/commissions/new/", {"customer": org_a.pk})
    assert form.status_code == 200 and 'id="line-template"' in form.content.decode()
    data = {"customer": org_a.pk, "channel": "desk", "contact": org_a.contacts.get().pk}
    data |= _lines_post(
        {**LINE, "quantity": 2},
        {"instrument_name": "秒表", "service": "verification", "quantity": 1},
    )
    quoted = client.post("/commissions/new/", {**data, "action": "quote"})
    assert quoted.status_code == 200 and Commission.objects.count() == 0
    html = quoted.content.decode()
    assert 'data-testid="quote-total">160.00<' in html
    assert quoted.context["quote"]["complete"] is False  # 秒表 has no price-list entry
    created = client.post("/commissions/new/", {**data, "action": "save"})
    commission = Commission.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/commissions/{commission.pk}/"
    assert commission.channel == "desk" and commission.lines.count() == 2
    detail = client.get(created["Location"]).content.decode()
    assert commission.number in detail and commission.query_code in detail


def test_metrologist_on_site_has_only_the_onsite_channel(cast, client, org_a, pressure):
    client.force_login(cast["metrologist"])
    form = client.get("/commissions/new/", {"customer": org_a.pk}).context["form"]
    assert [v for v, _label in form.fields["channel"].choices] == ["onsite"]
    data = {"customer": org_a.pk, "channel": "onsite", "action": "save"} | _lines_post(LINE)
    assert client.post("/commissions/new/", data).status_code == 302
    assert Commission.objects.get().channel == "onsite"
    refused = client.post("/commissions/new/", {**data, "channel": "desk"})
    assert refused.status_code == 200 and "channel" in refused.context["form"].errors
    assert Commission.objects.count() == 1


def test_bad_lines_in_the_form_change_nothing(cast, client, org_a, pressure):
    client.force_login(cast["receptionist"])
    base = {"customer": org_a.pk, "channel": "desk", "action": "save"}
    unknown = client.post("/commissions/new/", base | _lines_post({**LINE, "service": "repair"}))
    assert unknown.status_code == 200
    assert "service" in unknown.context["lines"].forms[0].errors
    zero = client.post("/commissions/new/", base | _lines_post({**LINE, "quantity": 0}))
    assert "quantity" in zero.context["lines"].forms[0].errors
    empty = client.post("/commissions/new/", base | _lines_post({}))
    assert "instrument_name" in empty.context["lines"].forms[0].errors
    past = client.post(
        "/commissions/new/",
        base | {"promised_date": "2000-01-01"} | _lines_post(LINE),
    )
    assert "in the past" in str(past.context["form"].errors)
    assert Commission.objects.count() == 0


def test_portal_application_with_the_slot_picker(cast, client, org_a, slot):
    client.force_login(cast["customer_a"])
    page = client.get("/commissions/apply/")
    html = page.content.decode()
    assert 'type="radio"' in html and "2" in html
    choices = [label for _v, label in page.context["form"].fields["slot"].choices]
    assert len(choices) == 1 and "2" in choices[0]
    data = {"slot": slot.pk} | _lines_post(LINE)
    quoted = client.post("/commissions/apply/", {**data, "action": "quote"})
    assert 'data-testid="quote-total">80.00<' in quoted.content.decode()
    created = client.post("/commissions/apply/", {**data, "action": "save"})
    assert created.status_code == 302
    commission = Commission.objects.get()
    assert commission.channel == "portal" and commission.customer == org_a
    assert commission.contact == org_a.contacts.get()


def test_a_full_slot_is_not_offered_and_refused(cast, client, org_a, slot):
    slot.capacity = 1
    slot.save()
    client.force_login(cast["customer_a"])
    data = {"slot": slot.pk, "action": "save"} | _lines_post(LINE)
    assert client.post("/commissions/apply/", data).status_code == 302
    assert client.get("/commissions/apply/").context["form"].fields["slot"].choices == []
    again = client.post("/commissions/apply/", data)
    assert again.status_code == 200 and "slot" in again.context["form"].errors
    assert Commission.objects.count() == 1


def test_a_customer_without_an_organisation_cannot_apply(cast, client, slot):
    client.force_login(cast["customer"])
    page = client.get("/commissions/apply/")
    assert page.status_code == 200 and page.context["no_account"]
    data = {"slot": slot.pk, "action": "save"} | _lines_post(LINE)
    assert client.post("/commissions/apply/", data).status_code == 200
    assert Commission.objects.count() == 0


def test_review_from_the_card(cast, client, mine):
    client.force_login(cast["customer_a"])
    assert client.get(f"/commissions/{mine.pk}/").context["review_form"] is None
    assert (
        client.post(f"/commissions/{mine.pk}/review/", {"decision": "accepted"}).status_code == 403
    )
    client.force_login(cast["director"])
    assert client.get(f"/commissions/{mine.pk}/").context["can_review"]
    response = client.post(f"/commissions/{mine.pk}/review/", {"decision": "rejected", "note": ""})
    assert response.status_code == 302
    assert Commission.objects.get(pk=mine.pk).review == "pending"  # a reason is required
    client.post(f"/commissions/{mine.pk}/review/", {"decision": "rejected", "note": "超出能力范围"})
    assert Commission.objects.get(pk=mine.pk).review == "rejected"
    client.force_login(cast["customer_a"])
    html = client.get(f"/commissions/{mine.pk}/").content.decode()
    assert "超出能力范围" in html and 'data-review="rejected"' in html


def test_customer_cancels_their_own_from_the_card(cast, client, mine):
    client.force_login(cast["customer_a"])
    assert client.get(f"/commissions/{mine.pk}/").context["can_cancel"]
    assert client.post(f"/commissions/{mine.pk}/cancel/", {"reason": "改期"}).status_code == 302
    mine.refresh_from_db()
    assert mine.status == "cancelled"
    html = client.get(f"/commissions/{mine.pk}/").content.decode()
    assert 'data-node="cancelled" data-reached="1"' in html


def test_arrivals_list_the_days_appointments(cast, client, org_a, pressure, lab_clock):
    lab_clock(9)  # this morning's slot is ahead
    today = AppointmentSlot.objects.create(
        discipline=pressure, date=timezone.localdate(), period="am", capacity=3
    )
    tomorrow = AppointmentSlot.objects.create(
        discipline=pressure,
        date=timezone.localdate() + dt.timedelta(days=1),
        period="pm",
        capacity=3,
    )
    now = commission_create(
        customer=org_a, lines=[LINE], channel="portal", slot=today, actor=cast["customer_a"]
    )
    later = commission_create(
        customer=org_a, lines=[LINE], channel="portal", slot=tomorrow, actor=cast["customer_a"]
    )
    client.force_login(cast["receptionist"])
    html = client.get("/commissions/arrivals/").content.decode()
    assert now.number in html and later.number not in html
    html = client.get("/commissions/arrivals/", {"day": tomorrow.date.isoformat()}).content
    assert later.number in html.decode()


def test_the_card_needs_few_queries(cast, client, org_a, pressure, django_assert_max_num_queries):
    lines = [{**LINE, "serial_no": f"S{n}"} for n in range(10)]
    commission = commission_create(
        customer=org_a, lines=lines, channel="desk", actor=cast["receptionist"]
    )
    client.force_login(cast["receptionist"])
    with django_assert_max_num_queries(15):
        assert client.get(f"/commissions/{commission.pk}/").status_code == 200


def test_receipt_carries_the_query_code_and_a_qr(cast, client, mine):
    client.force_login(cast["customer_a"])
    html = client.get(f"/commissions/{mine.pk}/receipt/").content.decode()
    assert mine.query_code in html and "<svg" in html


# --- public status page -------------------------------------------------------------------------


def test_public_status_page(client, mine):
    page = client.get("/commissions/status/")
    assert page.status_code == 200
    found = client.post("/commissions/status/", {"number": mine.number, "code": mine.query_code})
    html = found.content.decode()
    assert found.status_code == 200 and 'data-node="applied"' in html
    assert "示范制造" not in html and "张工" not in html
    wrong = client.post("/commissions/status/", {"number": mine.number, "code": "AAAAAAAA"})
    nobody = client.post("/commissions/status/", {"number": "WT1999-000009", "code": "AAAAAAAA"})
    assert wrong.context["error"] == nobody.context["error"]
    assert wrong.context["result"] is None
    by_link = client.get("/commissions/status/", {"number": mine.number, "code": mine.query_code})
    assert by_link.context["result"]["number"] == mine.number


def test_public_status_page_is_rate_limited(client, mine):
    for _ in range(10):
        client.post("/commissions/status/", {"number": mine.number, "code": "X"})
    limited = client.post("/commissions/status/", {"number": mine.number, "code": mine.query_code})
    assert limited.status_code == 429 and limited.context["result"] is None


def test_the_slot_picker_shows_one_discipline_at_a_time(cast, client, org_a, slot):
    from metrolab.commissions.models import Discipline

    mass = Discipline.objects.create(code="M", name="质量")
    other = AppointmentSlot.objects.create(discipline=mass, date=slot.date, period="pm", capacity=4)
    client.force_login(cast["customer_a"])
    first = client.get("/commissions/apply/")  # the first discipline by code: M
    assert first.context["discipline"] == mass
    assert [v for v, _l in first.context["form"].fields["slot"].choices] == [other.pk]
    pressure = client.get("/commissions/apply/", {"discipline": "P"})
    assert [v for v, _l in pressure.context["form"].fields["slot"].choices] == [slot.pk]
    data = {"discipline": "M", "slot": slot.pk, "action": "save"} | _lines_post(LINE)
    mismatch = client.post("/commissions/apply/", data)
    assert "slot" in mismatch.context["form"].errors and Commission.objects.count() == 0
    data["discipline"] = "P"
    assert client.post("/commissions/apply/", data).status_code == 302


def test_a_10000_character_requirement_in_the_form_is_refused(cast, client, org_a, pressure):
    """特殊要求 of 10 000 characters pasted into the desk form (R7.2): the browser is not asked
    to cut it (no maxlength attribute), the form shows an error naming the limit, and nothing
    is created."""
    from metrolab.core.models import AuditEvent
    from metrolab.core.text import NOTE

    client.force_login(cast["receptionist"])
    form = client.get("/commissions/new/", {"customer": org_a.pk}).content.decode()
    for name in ("lines-0-requirements", "requirements"):
        [tag] = re.findall(rf'<(?:input|textarea)[^>]* name="{name}"[^>]*>', form)
        assert f'data-maxlength="{NOTE}"' in tag and " maxlength=" not in tag
    events = AuditEvent.objects.count()
    base = {"customer": org_a.pk, "channel": "desk", "action": "save"}
    line = {**LINE, "requirements": "要" * 10_000}
    refused = client.post("/commissions/new/", base | _lines_post(line))
    assert refused.status_code == 200
    errors = refused.context["lines"].forms[0].errors["requirements"]
    assert errors == [f"Ensure this value has at most {NOTE} characters (it has 10000)."]
    assert errors[0] in refused.content.decode()
    own = client.post(
        "/commissions/new/", base | {"requirements": "x" * 10_000} | _lines_post(LINE)
    )
    assert own.context["form"].errors["requirements"] == [
        f"Ensure this value has at most {NOTE} characters (it has 10000)."
    ]
    assert not Commission.objects.exists()
    assert AuditEvent.objects.count() == events
