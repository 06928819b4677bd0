"""Browser journey (issue 4, Proof): a customer applies online and books a slot; the
receptionist reviews and accepts it, receives the item and prints its label; the public status
page then shows the nodes the commission has reached."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from e2e.conftest import SCREENSHOTS, sign_in
from metrolab.commissions.choices import CommissionStatus, Service
from metrolab.commissions.models import (
    AppointmentSlot,
    Commission,
    Discipline,
    PriceListEntry,
)
from metrolab.core.permissions import SYSTEM
from metrolab.customers.services import contact_create, customer_create, portal_account_link

pytestmark = pytest.mark.browser


def _master_data(cast) -> AppointmentSlot:
    """A bookable slot with a price, and customer_a linked to its organisation."""
    discipline = Discipline.objects.create(code="PRS", name="压力")
    PriceListEntry.objects.create(
        discipline=discipline,
        instrument="压力表",
        service=Service.VERIFICATION,
        unit_price=Decimal("80.00"),
    )
    slot = AppointmentSlot.objects.create(
        discipline=discipline,
        date=timezone.localdate() + dt.timedelta(days=2),
        period=AppointmentSlot.Period.MORNING,
        capacity=5,
    )
    customer = customer_create(
        data={"code": "C-E2E", "name": "旅程仪表厂"}, reason="e2e", actor=SYSTEM
    )
    contact = contact_create(
        customer=customer, data={"name": "王工", "phone": "13800000000"}, reason="e2e", actor=SYSTEM
    )
    portal_account_link(
        user=cast["customer_a"], customer=customer, contact=contact, reason="e2e", actor=SYSTEM
    )
    return slot


def test_apply_accept_receive_label_then_public_status(live_server, cast, new_page):
    slot = _master_data(cast)
    base = live_server.url

    # 1. The customer applies online and books the slot.
    customer = new_page()
    sign_in(customer, base, "customer_a")
    customer.goto(f"{base}/commissions/apply/")
    customer.check(f"[data-testid=slot-picker] input[name=slot][value='{slot.pk}']")
    customer.fill("input[name=lines-0-instrument_name]", "压力表")
    customer.select_option("select[name=lines-0-service]", Service.VERIFICATION.value)
    customer.click("[data-testid=show-quote]")
    customer.wait_for_selector("[data-testid=quote]")
    assert "80" in customer.inner_text("[data-testid=quote]")
    customer.screenshot(path=str(SCREENSHOTS / "e2e-journey-1-quote.png"), full_page=True)
    customer.click("[data-testid=submit-commission]")
    customer.wait_for_url(re.compile(r"/commissions/\d+/$"))
    number = customer.inner_text("[data-testid=commission-number]").strip()
    code = customer.inner_text("[data-testid=query-code]").strip()
    customer.screenshot(path=str(SCREENSHOTS / "e2e-journey-2-applied.png"), full_page=True)

    commission = Commission.objects.get(number=number)
    assert commission.query_code == code
    assert commission.slot_id == slot.pk
    assert commission.channel == Commission.Channel.PORTAL
    assert commission.review == Commission.Review.PENDING
    connections.close_all()

    # 2. The receptionist accepts it in contract review ...
    desk = new_page()
    sign_in(desk, base, "receptionist")
    desk.goto(f"{base}/commissions/{commission.pk}/")
    desk.check("[data-testid=review] input[name=decision][value=accepted]")
    desk.click("[data-testid=review-submit]")
    desk.wait_for_url(re.compile(rf"/commissions/{commission.pk}/$"))
    desk.wait_for_selector("[data-testid=review] form", state="detached")
    desk.screenshot(path=str(SCREENSHOTS / "e2e-journey-3-accepted.png"), full_page=True)
    commission.refresh_from_db()
    assert commission.review == Commission.Review.ACCEPTED
    connections.close_all()

    # ... receives its item ...
    desk.goto(f"{base}/items/receive/{commission.pk}/")
    form = desk.locator("[data-testid=receive-form]").first
    form.locator("input[name$=serial_no]").fill("SN-E2E-1")
    form.locator("button[type=submit]").click()
    desk.wait_for_selector("[data-testid=received-items]")
    desk.screenshot(path=str(SCREENSHOTS / "e2e-journey-4-received.png"), full_page=True)
    commission.refresh_from_db()
    assert commission.status == CommissionStatus.ITEMS_RECEIVED
    connections.close_all()

    # ... and prints its label.
    label = desk.locator("[data-testid=received-items] a[href$='label.pdf']").first
    response = desk.request.get(base + label.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    # 3. Anyone with the number and code reads the nodes reached on the public status page.
    public = new_page()
    public.goto(f"{base}/commissions/status/")
    public.fill("input[name=number]", number)
    public.fill("input[name=code]", code)
    public.click("[data-testid=status-query]")
    public.wait_for_selector("[data-testid=status-result]")
    public.screenshot(path=str(SCREENSHOTS / "e2e-journey-5-status.png"), full_page=True)
    stamp = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
    for status, label_text in [
        (CommissionStatus.APPLIED, "申请/预约"),
        (CommissionStatus.ITEMS_RECEIVED, "样品接收"),
    ]:
        node = public.locator(f"[data-testid=status-result] li[data-node={status.value}]")
        assert label_text in node.locator("strong").inner_text()
        assert stamp.fullmatch(node.locator(".muted").inner_text().strip())
