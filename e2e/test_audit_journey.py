"""Browser journey: the quality manager asks for an audit-chain verification; the page shows
its progress and then the result, without a reload, while the background worker runs it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connections

from e2e.conftest import SCREENSHOTS, sign_in

pytestmark = pytest.mark.browser


def test_verification_progress_then_result_without_reload(live_server, cast, new_page):
    page = new_page(locale="zh-CN")
    sign_in(page, live_server.url, "quality_manager")
    page.goto(f"{live_server.url}/audit/")
    page.click("form[action='/audit/verify/'] button")
    page.wait_for_selector(".verification.queued .spinner")
    page.evaluate("window.__sameDocument = true")  # lost if the page reloads

    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    # Playwright's event loop gives this thread a context of its own for Django's
    # connections: close the worker's here, or PostgreSQL cannot drop the test database.
    connections.close_all()

    page.wait_for_selector(".verification.intact")
    assert page.evaluate("window.__sameDocument") is True
    text = page.inner_text("#verification")
    assert "审计链完整" in text
    page.screenshot(path=str(SCREENSHOTS / "e2e-audit-verified.png"))
