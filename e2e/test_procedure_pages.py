"""Browser journey of the procedure pages (issue 16, procedures versioned and approved like
record templates) on a 390 × 844 phone in Chinese and on a desk: the list, a version with its
steps as a table that fits the phone's width, and the edit page of a draft refusing a broken
definition with the fault shown at its step.

Arranged with the services. Screenshots: /tmp/e2e-procedure-*.png.
"""

from __future__ import annotations

import copy
import json

import pytest
from django.db import connections
from playwright.sync_api import expect

from e2e.conftest import PHONE, SCREENSHOTS, sign_in

pytestmark = pytest.mark.browser


def test_procedure_pages_on_a_phone_and_a_desk(live_server, cast, new_page):
    from metrolab.core.permissions import SYSTEM
    from metrolab.instruments.procedure import builtin_procedures
    from metrolab.instruments.procedure_services import procedure_create, procedures_load_builtin
    from metrolab.records.services import templates_load_builtin

    templates_load_builtin(actor=SYSTEM)
    procedures_load_builtin(actor=SYSTEM)
    definition = copy.deepcopy(builtin_procedures()["dmm-dc-voltage"])
    definition["code"] = "dmm-dcv-quick"
    draft = procedure_create(definition=definition, actor=cast["metrologist"])
    connections.close_all()
    base = live_server.url

    page = new_page(viewport=PHONE)
    sign_in(page, base, "metrologist")
    page.goto(f"{base}/instruments/procedures/")
    expect(page.locator("[data-testid=procedure-row]")).to_have_count(2)
    page.screenshot(path=str(SCREENSHOTS / "e2e-procedure-list.png"), full_page=True)

    page.goto(f"{base}/instruments/procedures/{draft.procedure_id}/v1/")
    expect(page.locator("[data-testid=step-row]")).to_have_count(5)
    expect(page.locator("[data-testid=submit]")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width  # nothing wider than the phone (the digest wraps)
    page.screenshot(path=str(SCREENSHOTS / "e2e-procedure-version.png"), full_page=True)

    page.goto(f"{base}/instruments/procedures/{draft.procedure_id}/v1/edit/")
    broken = copy.deepcopy(definition)
    broken["steps"][3]["cells"] = "nope.{point}.{repeat}"
    page.fill("textarea[name=definition]", json.dumps(broken, ensure_ascii=False, indent=2))
    page.click("[data-testid=save]")
    faults = page.locator("[data-testid=step-faults][data-path='steps.3']")
    expect(faults).to_be_visible()
    expect(faults).to_contain_text("steps.3.cells")
    page.screenshot(path=str(SCREENSHOTS / "e2e-procedure-edit-fault.png"), full_page=True)

    desk = new_page(viewport={"width": 1280, "height": 900})
    sign_in(desk, base, "checker")
    desk.goto(f"{base}/instruments/procedures/{draft.procedure_id}/v1/")
    expect(desk.locator("table.steps")).to_be_visible()
    expect(desk.locator("[data-testid=submit]")).to_have_count(0)
    desk.screenshot(path=str(SCREENSHOTS / "e2e-procedure-version-desk.png"), full_page=True)
