"""Browser fixtures shared by the journeys in e2e/.

Python Playwright drives Debian's Chromium (``/usr/bin/chromium``); Playwright's own browser
download is never used (no network here). The pages are served by pytest-django's
``live_server``, which shares the file-based SQLite (or PostgreSQL) test database.
Screenshots go to ``/tmp/e2e-*.png`` so a person can look at what the browser saw.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CAST_PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
CJK = re.compile(r"[\u4e00-\u9fff]")
SCREENSHOTS = Path("/tmp")
TIMEOUT_MS = 15_000


@pytest.fixture
def browser(monkeypatch) -> Iterator:
    """A headless Chromium, or a skip (a failure when METROLAB_REQUIRE_BROWSER=1) without one."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        reason = f"{CHROMIUM} is missing (Debian package `chromium`)"
        if os.environ.get("METROLAB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and METROLAB_REQUIRE_BROWSER=1 requires browser tests")
        pytest.skip(reason)

    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in this thread while the browser is
    # open, and Django refuses ORM calls from there (SynchronousOnlyOperation). A journey that
    # checks the database between clicks needs this; monkeypatch limits it to browser tests.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/")
    page.wait_for_url(re.compile(r"/login/"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", CAST_PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base_url}/")


@pytest.fixture
def new_page(browser):
    """new_page(**context_options) -> a page in a fresh browser context, closed after the test."""
    contexts = []

    def _new_page(**options):
        context = browser.new_context(**{"locale": "zh-CN", **options})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield _new_page
    for context in contexts:
        context.close()
