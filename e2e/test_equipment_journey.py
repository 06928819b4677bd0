"""Browser journey (issue 5, Proof): an item of equipment passes its calibration due date →
assigning a task that needs it is refused, the reason shown → the equipment manager enters a
new calibration and confirms it → the same assignment succeeds.

Arranged with the ORM: the qualified set-up of the tasks tests (method, authorised items,
the pressure standard made of YQ-001 and YQ-002, the metrologist's authorisations), a received
item whose calibration task nobody has yet, and YQ-001's confirmed calibration falling due
yesterday. Everything under test goes through the pages. The UI is left in its default
language (Chinese): the assertions read asset numbers, item numbers, ISO dates, URLs, CSS
states and ``data-testid`` hooks, never the wording.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connections
from django.utils import timezone

from e2e.conftest import SCREENSHOTS, sign_in
from metrolab.equipment.models import EquipmentCalibration
from metrolab.items.tests.fixtures import (  # noqa: F401 - pytest fixtures used by name
    customers,
    item_media_root,
    make_commission,
    receive,
)
from metrolab.tasks.models import Task
from metrolab.tasks.tests.fixtures import qualified_setup  # noqa: F401 - a pytest fixture

pytestmark = pytest.mark.browser

NEW_CERTIFICATE = "YJL2026-0101"


def _choose_and_submit(page, base: str, task, setup, person, action: str) -> None:
    """On the assignment list, open the task's set-up page, choose the authorised item,
    method, standard, both items of equipment (YQ-001 included) and the person, then press
    the button `action` ("check" or "assign")."""
    page.goto(f"{base}/tasks/assign/")
    page.click(f"[data-testid=setup-{task.pk}]")
    page.wait_for_url(re.compile(rf"/tasks/{task.pk}/assign/\?next="))
    form = page.locator("[data-testid=assign-form]")
    form.locator("select[name=scope]").select_option(str(setup.scope.pk))
    form.locator("select[name=method]").select_option(str(setup.method.pk))
    form.locator("select[name=standard]").select_option(str(setup.standard.pk))
    form.locator("select[name=equipment]").select_option([str(e.pk) for e in setup.equipment])
    form.locator("select[name=assignee]").select_option(str(person.pk))
    form.locator(f"button[value={action}]").click()


def test_overdue_equipment_refuses_assignment_until_recalibrated(
    live_server,
    cast,
    new_page,
    qualified_setup,  # noqa: F811 - the imported fixtures, requested by name
    make_commission,  # noqa: F811
    receive,  # noqa: F811
):
    base = live_server.url
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    next_due = today + dt.timedelta(days=365)
    yq1 = qualified_setup.equipment[0]
    assert yq1.asset_no == "YQ-001"
    metrologist = cast["metrologist"]

    # 1. Arrange: an item received for calibration, its task unassigned; YQ-001's confirmed
    #    calibration fell due yesterday (one object, saved on its own).
    commission = make_commission(lines=[("数字压力计 Pressure gauge", 1, "calibration")])
    item = receive(commission)
    task = item.tasks.get()
    assert task.status == Task.Status.UNASSIGNED
    old = qualified_setup.calibrations[0]
    assert old.equipment_id == yq1.pk
    old.due_date = yesterday
    old.save()
    connections.close_all()

    # 2. The technical manager tries to assign it with YQ-001: refused, the reason shown.
    director = new_page()
    sign_in(director, base, "director")
    _choose_and_submit(director, base, task, qualified_setup, metrologist, "assign")
    refusal = director.locator("[data-testid=refusal]")
    refusal.wait_for()
    reasons = refusal.locator("li").all_inner_texts()
    assert len(reasons) == 1, reasons
    assert "YQ-001" in reasons[0]
    assert yesterday.isoformat() in reasons[0]
    assert "YQ-002" not in refusal.inner_text()  # the valid item of equipment is not blamed
    # The person's verdict under the set-up that was tried says the same.
    verdict = director.locator(f"[data-testid=verdict-{metrologist.username}]")
    assert "not-ok" in verdict.get_attribute("class").split()
    assert "YQ-001" in verdict.inner_text()
    # The form keeps what was tried, so it can be put right and sent again.
    assert director.locator("select[name=assignee]").input_value() == str(metrologist.pk)
    chosen = director.locator("select[name=equipment] option:checked").all_inner_texts()
    assert any(text.startswith("YQ-001") for text in chosen), chosen
    director.screenshot(path=str(SCREENSHOTS / "e2e-equipment-1-refused.png"), full_page=True)

    task.refresh_from_db()
    assert task.status == Task.Status.UNASSIGNED
    assert task.assignee_id is None
    assert task.scope_id is None  # a refusal writes nothing, not even the set-up
    connections.close_all()

    # 3. The equipment manager sees YQ-001 overdue, enters its new calibration with a point...
    keeper = new_page()
    sign_in(keeper, base, "equipment_manager")
    keeper.goto(f"{base}/equipment/{yq1.pk}/")
    assert keeper.inner_text("[data-testid=asset-no]").strip() == "YQ-001"
    due = keeper.locator("[data-testid=calibration-due] [data-due]")
    assert due.get_attribute("data-due") == "overdue"
    assert yesterday.isoformat() in due.inner_text()

    keeper.click("[data-testid=calibration-new]")
    keeper.wait_for_url(re.compile(rf"/equipment/{yq1.pk}/calibrations/new/$"))
    entry = keeper.locator("[data-testid=calibration-form]")
    entry.locator("input[name=certificate_no]").fill(NEW_CERTIFICATE)
    entry.locator("input[name=body]").fill("省计量院 Provincial Institute of Metrology")
    entry.locator("input[name=date]").fill(today.isoformat())
    entry.locator("input[name=due_date]").fill(next_due.isoformat())
    entry.locator("input[name=points-0-nominal]").fill("10")
    entry.locator("input[name=points-0-unit]").fill("MPa")
    entry.locator("input[name=points-0-correction]").fill("0.002")
    entry.locator("input[name=points-0-expanded_uncertainty]").fill("0.001")
    entry.locator("input[name=points-0-coverage_factor]").fill("2")
    entry.locator("button[type=submit]").click()
    keeper.wait_for_url(re.compile(rf"/equipment/{yq1.pk}/(#calibrations)?$"))

    # ... which does not count until confirmed: YQ-001 is still overdue ...
    article = keeper.locator(f"article.calibration[data-certificate='{NEW_CERTIFICATE}']")
    assert article.locator(".badge.yellow").count() == 1
    assert article.locator("table.points tbody tr").count() == 1
    assert "10 MPa" in article.locator("table.points").inner_text()
    assert due.get_attribute("data-due") == "overdue"

    # ... and confirms it (metrological confirmation) through the confirmation form.
    article.locator("details.inline-form > summary").click()
    confirm = article.locator("form[data-testid^=confirm-form-]")
    confirm.locator("textarea[name=note]").fill("10 MPa 点修正值 0.002 MPa，满足 0.05 级使用要求")
    confirm.locator("button[type=submit]").click()
    keeper.wait_for_url(re.compile(rf"/equipment/{yq1.pk}/(#calibrations)?$"))
    article.locator(".badge.green").wait_for()
    assert article.locator("form").count() == 0
    assert due.get_attribute("data-due") == "ok"
    assert due.inner_text().strip() == next_due.isoformat()
    keeper.evaluate("window.scrollTo(0, 0)")  # the #calibrations anchor scrolled it down
    keeper.screenshot(path=str(SCREENSHOTS / "e2e-equipment-2-confirmed.png"), full_page=True)

    new = EquipmentCalibration.objects.get(equipment=yq1, certificate_no=NEW_CERTIFICATE)
    assert new.confirmed_by_id == cast["equipment_manager"].pk
    assert (new.date, new.due_date) == (today, next_due)
    assert new.points.count() == 1
    connections.close_all()

    # 4. The technical manager tries again: the metrologist is now eligible, and assigned.
    _choose_and_submit(director, base, task, qualified_setup, metrologist, "check")
    verdict.wait_for()
    assert "ok" in verdict.get_attribute("class").split()
    assert director.locator("[data-testid=refusal]").count() == 0
    director.locator("[data-testid=assign-form] button[value=assign]").click()
    director.wait_for_url(f"{base}/tasks/assign/")
    success = director.locator(".messages .msg.success")
    assert item.number in success.inner_text()
    assert director.locator(f"[data-testid=setup-{task.pk}]").count() == 0
    assert director.inner_text(f"[data-testid=open-{metrologist.username}]").strip() == "1"
    director.screenshot(path=str(SCREENSHOTS / "e2e-equipment-3-assigned.png"), full_page=True)

    task.refresh_from_db()
    assert task.status == Task.Status.ASSIGNED
    assert task.assignee_id == metrologist.pk
    assert task.assigned_by_id == cast["director"].pk
    assert task.scope_id == qualified_setup.scope.pk
    assert set(task.equipment.values_list("asset_no", flat=True)) == {"YQ-001", "YQ-002"}
    connections.close_all()
