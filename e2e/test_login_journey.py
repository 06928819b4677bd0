"""Browser journeys: sign in, read the dashboard in Chinese, switch to English; the phone menu.

The browser fixture is in e2e/conftest.py.
"""

from __future__ import annotations

import re

import pytest

from conftest import CAST_PASSWORD
from e2e.conftest import CJK, PHONE, SCREENSHOTS, sign_in

pytestmark = pytest.mark.browser


def test_sign_in_read_dashboard_in_chinese_then_switch_to_english(live_server, cast, new_page):
    # An English-language browser: the lab's pages are still Chinese until the user switches.
    page = new_page(locale="en-US")
    page.goto(f"{live_server.url}/")
    # Not signed in: the dashboard sends us to the login page, which is Chinese by default.
    page.wait_for_url(re.compile(r"/login/\?next=/$"))
    assert page.get_attribute("html", "lang") == "zh-CN"
    page.screenshot(path=str(SCREENSHOTS / "e2e-login-zh.png"), full_page=True)

    page.fill("input[name=username]", "receptionist")
    page.fill("input[name=password]", CAST_PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/")

    assert page.get_attribute("html", "lang") == "zh-CN"
    page.screenshot(path=str(SCREENSHOTS / "e2e-dashboard-zh.png"), full_page=True)
    heading = page.inner_text("main h1")
    assert CJK.search(heading), f"dashboard heading is not Chinese: {heading!r}"
    nav = page.inner_text("nav#nav")
    assert CJK.search(nav), f"navigation is not Chinese: {nav!r}"

    switch = page.locator("[data-testid=lang-switch]")
    assert switch.inner_text().strip() == "English"
    with page.expect_navigation():
        switch.click()
    page.wait_for_url(f"{live_server.url}/")

    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("main h1").strip() == "Dashboard"
    assert page.locator("[data-testid=lang-switch]").inner_text().strip() == "中文"
    page.screenshot(path=str(SCREENSHOTS / "e2e-dashboard-en.png"), full_page=True)


def test_phone_menu_button_reveals_navigation(live_server, cast, new_page):
    page = new_page(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    sign_in(page, live_server.url, "receptionist")

    toggle = page.locator(".menu-toggle")
    nav_links = page.locator("nav#nav a")
    assert toggle.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert nav_links.count() > 0
    assert not nav_links.first.is_visible()
    page.screenshot(path=str(SCREENSHOTS / "e2e-phone-closed.png"), full_page=True)

    toggle.tap()

    assert toggle.get_attribute("aria-expanded") == "true"
    for i in range(nav_links.count()):
        assert nav_links.nth(i).is_visible(), nav_links.nth(i).inner_text()
    page.screenshot(path=str(SCREENSHOTS / "e2e-phone-open.png"), full_page=True)

    # The page itself must fit the phone: no sideways scrolling.
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], f"page is {scroll_width}px wide on a phone"
