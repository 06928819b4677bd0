"""Browser journey (issue 11, R7.2): a customer pastes 10 000 characters of 特殊要求 into an
online application. The browser keeps all of them (nothing is cut without a word), the field
counts them against the limit, and the form refuses the application with a message naming the
limit; nothing is created."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connections
from django.utils import timezone

from e2e.conftest import SCREENSHOTS, sign_in
from metrolab.commissions.choices import Service
from metrolab.commissions.models import AppointmentSlot, Commission, Discipline
from metrolab.core.permissions import SYSTEM
from metrolab.core.text import NOTE
from metrolab.customers.services import contact_create, customer_create, portal_account_link

pytestmark = pytest.mark.browser


def test_pasted_requirements_beyond_the_limit_are_refused_not_cut(live_server, cast, new_page):
    slot = AppointmentSlot.objects.create(
        discipline=Discipline.objects.create(code="PRS", name="压力"),
        date=timezone.localdate() + dt.timedelta(days=2),
        period=AppointmentSlot.Period.MORNING,
        capacity=5,
    )
    customer = customer_create(
        data={"code": "C-E2E", "name": "旅程仪表厂"}, reason="e2e", actor=SYSTEM
    )
    contact = contact_create(customer=customer, data={"name": "王工"}, reason="e2e", actor=SYSTEM)
    portal_account_link(
        user=cast["customer_a"], customer=customer, contact=contact, reason="e2e", actor=SYSTEM
    )
    connections.close_all()

    page = new_page()
    sign_in(page, live_server.url, "customer_a")
    page.goto(f"{live_server.url}/commissions/apply/")
    page.check(f"[data-testid=slot-picker] input[name=slot][value='{slot.pk}']")
    page.fill("input[name=lines-0-instrument_name]", "压力表")
    page.select_option("select[name=lines-0-service]", Service.VERIFICATION.value)
    field = "input[name=lines-0-requirements]"
    page.focus(field)
    page.keyboard.insert_text("要" * 10_000)  # as a paste does
    assert len(page.input_value(field)) == 10_000
    assert page.inner_text(f"{field} + .length-count") == f"10000 / {NOTE}"
    page.click("[data-testid=submit-commission]")
    error = page.wait_for_selector("[data-testid=line] .has-error .error").inner_text()
    assert str(NOTE) in error and "10000" in error  # 确保该值不超过 5000 个字符（现在有 10000 个）
    page.screenshot(path=str(SCREENSHOTS / "e2e-text-limit.png"), full_page=True)
    assert len(page.input_value(field)) == 10_000  # shown again whole, to be shortened
    assert not Commission.objects.exists()
