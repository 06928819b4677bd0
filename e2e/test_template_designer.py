"""Browser journey (issue 14, R6.2d): on a 390 × 844 phone in Chinese, the author of a draft
of the JJG 52 pressure gauge template opens the designer, changes a sample reading in the
preview, and sees the computed indication error and the decision follow without a reload
(records/designer.js posts the form to `?part=preview` and swaps the fragment); a broken
formula shows its path beside the JSON. Arranged with the services. Screenshots:
/tmp/e2e-designer-*.png."""

from __future__ import annotations

import pytest
from django.db import connections
from playwright.sync_api import expect

from e2e.conftest import PHONE, SCREENSHOTS, sign_in

pytestmark = pytest.mark.browser


def test_designer_preview_follows_a_sample_reading(live_server, cast, new_page):
    from metrolab.metrology.record_template import builtin_templates
    from metrolab.records.services import template_create

    code = "jjg52-2013-pressure-gauge"
    version = template_create(
        code=code,
        title="弹性元件式一般压力表检定记录",
        service="verification",
        definition=builtin_templates()[code],
        actor=cast["metrologist"],
    )
    connections.close_all()
    base = live_server.url
    page = new_page(viewport=PHONE, locale="zh-CN")
    sign_in(page, base, "metrologist")
    page.goto(f"{base}/records/templates/{version.template_id}/v1/designer/")
    expect(page.locator("h1")).to_contain_text("设计器")
    expect(page.locator("[data-testid=definition-valid]")).to_be_visible()

    # Sample readings equal the nominal values: no error at point 2 (0.32 MPa).
    error_up = page.locator('tr[data-point="2"] td[data-value="error_up"]')
    expect(error_up).to_have_text("0.00")
    expect(page.locator("[data-testid=preview-decision]")).to_contain_text("合格")
    page.screenshot(path=str(SCREENSHOTS / "e2e-designer-before.png"), full_page=True)

    # The gauge reads 0.325 MPa rising after tapping: error +0.005 MPa.
    page.evaluate("window.__sameDocument = true")
    reading = page.locator('input[name="c:up_after.2"]')
    reading.scroll_into_view_if_needed()
    reading.fill("0.325")
    expect(error_up).to_have_text("0.005")
    expect(page.locator('tr[data-point="2"] td[data-value="hysteresis"]')).to_have_text("0.005")
    # Out of tolerance (0.96 MPa point reads 1.000: error 0.040 > MPE 0.0256): 不合格.
    page.locator('input[name="c:up_after.4"]').fill("1.000")
    expect(page.locator('tr[data-point="4"] td[data-value="error_up"]')).to_have_text("0.040")
    expect(page.locator("[data-testid=preview-decision]")).to_contain_text("不合格")
    assert page.evaluate("window.__sameDocument") is True
    # What was typed is kept across the swaps.
    expect(reading).to_have_value("0.325")

    # The readings table scrolls sideways inside its frame; the page itself does not.
    wrap = page.locator(".sheet-wrap")
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")
    # What sticks out of the screen, outside the two frames that scroll (for the message).
    wide = page.evaluate(
        "() => [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > 391"
        " && !e.closest('.sheet-wrap, .code-editor'))"
        ".map(e => e.tagName + '.' + e.className).slice(0, 10)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1, wide
    page.screenshot(path=str(SCREENSHOTS / "e2e-designer-after.png"), full_page=True)

    # A broken formula: its path is shown beside the JSON, the save button stays reachable.
    editor = page.locator("textarea[name=definition]")
    text = editor.input_value().replace('"up_after - standard"', '"up_after -"', 1)
    editor.fill(text)
    expect(page.locator('[data-path="computed.5.expr"]')).to_be_visible()
    save = page.locator("[data-testid=designer-save]")
    save.scroll_into_view_if_needed()
    expect(save).to_be_visible()
    box = save.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.screenshot(path=str(SCREENSHOTS / "e2e-designer-error.png"), full_page=True)
