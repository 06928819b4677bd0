"""Browser journey at phone width (issue 12, points 15): on a 390 × 844 phone in Chinese, a
list page's filters fold behind a 筛选 button so that the first screen shows the results, and
open when asked; the environment rooms overview's header shows the time of the last refresh
of its cards (updated by the polling script), not of the page load.

Arranged with the services / ORM. Screenshots: /tmp/e2e-phone-*.png.
"""

from __future__ import annotations

import re

import pytest
from django.db import connections
from playwright.sync_api import expect

from e2e.conftest import PHONE, SCREENSHOTS, sign_in
from metrolab.environment import views as environment_views

pytestmark = pytest.mark.browser


def test_list_filters_fold_behind_a_toggle_on_a_phone(live_server, cast, new_page):
    from metrolab.customers.services import customer_create

    for n in range(3):
        customer_create(
            data={"code": f"C00{n}", "name": f"示范客户{n}有限公司"}, actor=cast["receptionist"]
        )
    connections.close_all()
    base = live_server.url
    page = new_page(viewport=PHONE)
    sign_in(page, base, "receptionist")
    page.goto(f"{base}/customers/")

    toggle = page.locator("[data-testid=filters-toggle]")
    expect(toggle).to_be_visible()
    expect(toggle).to_contain_text("筛选")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    form = page.locator("form.filters")
    expect(form).to_be_hidden()
    # The first screen shows results: the first customer row starts within 844 px.
    first_row = page.locator("table.table tbody tr").first
    expect(first_row).to_be_visible()
    assert first_row.bounding_box()["y"] < PHONE["height"]
    page.screenshot(path=str(SCREENSHOTS / "e2e-phone-filters-closed.png"), full_page=True)

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(form).to_be_visible()
    page.fill("form.filters input[name=q]", "示范客户1")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"q="))
    # After filtering: folded again, the button counts the active filter, one result.
    expect(page.locator("form.filters")).to_be_hidden()
    expect(page.locator("[data-testid=filters-toggle] .filters-count")).to_have_text("1")
    expect(page.locator("table.table tbody tr")).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "e2e-phone-filters-count.png"), full_page=True)

    # On a wide screen the filters are simply shown, without a toggle.
    wide = new_page(viewport={"width": 1280, "height": 900})
    sign_in(wide, base, "receptionist")
    wide.goto(f"{base}/customers/")
    expect(wide.locator("form.filters")).to_be_visible()
    expect(wide.locator("[data-testid=filters-toggle]")).to_be_hidden()


def test_rooms_overview_shows_the_time_of_the_last_refresh(
    live_server, cast, new_page, monkeypatch
):
    from metrolab.environment.models import Room

    monkeypatch.setattr(environment_views, "ROOMS_REFRESH_SECONDS", 1)
    Room.objects.create(code="TL-1", name="温度实验室")
    connections.close_all()
    base = live_server.url
    page = new_page(viewport=PHONE)
    sign_in(page, base, "metrologist")
    page.goto(f"{base}/environment/")
    stamp = page.locator("[data-testid=rooms-refreshed]")
    loaded = stamp.inner_text().strip()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", loaded)
    # The cards refresh every second; the header follows them, not the page load.
    expect(stamp).not_to_have_text(loaded, timeout=10_000)
    refreshed = stamp.inner_text().strip()
    assert refreshed > loaded
    cards_stamp = page.locator("#env-rooms").get_attribute("data-poll-stamp")
    assert cards_stamp >= refreshed
    page.screenshot(path=str(SCREENSHOTS / "e2e-phone-rooms.png"), full_page=True)
