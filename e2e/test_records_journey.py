"""Browser journey (issue 14, Proof), on a phone (390×844, zh-CN): a metrologist opens a
started pressure-gauge task, creates its original record (choosing which of the task's two
pressure standards is the standard), types the readings of the JJG 52-2013 worked example
and sees the errors and 合格 appear without saving, saves and submits
(password); a checker returns it with a reason; the metrologist corrects one reading giving a
reason and resubmits; the history shows old → new with the reason; the checker and the
approver sign; the record is approved and locked, the task done, and the commission stays at
检测/数据核查 (what the status derivation gives until a certificate exists).

Arranged with the ORM: the qualified set-up of the tasks tests (JJG 52 method, the pressure
standard YQ-001 / YQ-002, the people's authorisations to perform, check and approve), the
built-in JJG 52 template approved, a received item whose verification task is started, and
the room P-101 (where the equipment stands) with a temperature requirement of 18–22 ℃ held
by its sensor's readings. Everything under test goes through the pages.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from e2e.conftest import PHONE, SCREENSHOTS, sign_in
from metrolab.commissions.choices import CommissionStatus
from metrolab.commissions.status import derived_status
from metrolab.items.tests.fixtures import (  # noqa: F401 - pytest fixtures used by name
    customers,
    item_media_root,
    make_commission,
    receive,
)
from metrolab.records.models import Record, RecordChange
from metrolab.records.tests.fixtures import (  # noqa: F401 - pytest fixtures used by name
    GAUGE_READINGS,
    approved_version,
    gauge_task,
    start_task,
)
from metrolab.tasks.models import Task
from metrolab.tasks.tests.fixtures import (  # noqa: F401 - pytest fixtures used by name
    qualified_assign,
    qualified_setup,
)

pytestmark = pytest.mark.browser

PASSWORD = "cast-password-1"
NAMES = ("standard", "up_before", "up_after", "down_before", "down_after")
RETURN_REASON = "点3 升压轻敲后读数抄错"
CHANGE_REASON = "按原始读数更正点3"
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def _room_holding(qualified_setup):  # noqa: F811
    """P-101, where the equipment stands, requiring 18–22 ℃; its sensor reads 20.1–20.3 ℃
    over the last quarter of an hour (the window measurement is checked against)."""
    from decimal import Decimal

    from metrolab.environment.ingest import ingest_readings
    from metrolab.environment.models import Requirement, Room, Sensor

    room = Room.objects.create(code="P-101", name="压力实验室")
    Requirement.objects.create(
        room=room, quantity="temperature", low=Decimal("18"), high=Decimal("22"), unit="℃"
    )
    sensor = Sensor.objects.create(
        code="P101-T",
        name="温度",
        room=room,
        quantity="temperature",
        unit="℃",
        installed_at=timezone.now() - dt.timedelta(days=2),
    )
    now = timezone.now()
    result = ingest_readings(
        [
            {
                "sensor": sensor.code,
                "time": (now - dt.timedelta(seconds=s)).isoformat(),
                "value": 20.1 + (s % 3) / 10,
            }
            for s in range(900, 0, -30)
        ],
        channel="simulated",
    )
    assert not result.rejected, result.rejected
    for equipment in qualified_setup.equipment:
        equipment.location = room.code
        equipment.save(update_fields=["location"])
    return room


def _sign(page, step: str, base: str, record) -> None:
    page.goto(f"{base}/records/{record.pk}/")
    page.click(f"[data-testid=step-{step}]")
    page.wait_for_url(re.compile(rf"/records/{record.pk}/sign/{step}/"))
    assert page.locator("[data-testid=meaning]").inner_text().strip()
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=sign]")
    page.wait_for_url(re.compile(rf"/records/{record.pk}/\?signed=\d+"))
    manifest = page.locator("[data-testid=manifest]")
    assert manifest.is_visible()
    assert page.locator("[data-testid=manifest-name]").inner_text().strip()


def test_record_entry_check_and_approval_on_a_phone(
    live_server,
    cast,
    new_page,
    qualified_setup,  # noqa: F811 - the imported fixtures, requested by name
    gauge_task,  # noqa: F811
):
    base = live_server.url
    room = _room_holding(qualified_setup)
    task = gauge_task
    assert task.status == Task.Status.IN_PROGRESS

    # 1. The metrologist opens the started task on "my tasks" and creates its record.
    metrologist = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(metrologist, base, "metrologist")
    metrologist.goto(f"{base}/tasks/")
    metrologist.click("[data-testid=create-record]")
    # Both pressure standards of the task fit the template's standard: the page asks which.
    metrologist.wait_for_selector("[data-testid=ask-roles]")
    assert Record.objects.filter(task=task).count() == 0
    metrologist.select_option("[data-testid=role-YQ-001]", "standard")
    metrologist.click("[data-testid=create-form] [data-testid=create-record]")
    metrologist.wait_for_url(re.compile(r"/records/\d+/$"))
    record = Record.objects.get(task=task)
    assert record.room == room and record.status == Record.Status.DRAFT
    assert dict(record.equipment_used.values_list("equipment__asset_no", "role")) == {
        "YQ-001": "standard",
        "YQ-002": "",
    }
    assert metrologist.locator("[data-testid=missing-roles]").count() == 0
    assert metrologist.locator("[data-testid=blocked]").count() == 0
    assert metrologist.get_attribute("#entry-decision [data-decision]", "data-decision") == (
        "incomplete"
    )

    # 2. Typing the readings: the errors and 合格 appear at once, nothing is saved.
    metrologist.fill("input[name='header.appearance']", "无异常")
    for point, values in GAUGE_READINGS.items():
        for name, text in zip(NAMES, values, strict=True):
            metrologist.fill(f"input[name='{name}.{point}']", text)
    metrologist.wait_for_selector("#entry-decision [data-decision=pass]")
    assert "合格" in metrologist.inner_text("#entry-decision")
    error = metrologist.locator("#entry-results tr[data-point='2'] td[data-value=error_up]")
    assert error.inner_text().strip() == "0.010"
    summary = metrologist.locator("#entry-results [data-summary=max_error]")
    assert summary.inner_text().strip() == "0.035 MPa"
    record.refresh_from_db()
    assert record.cells == {} and not record.changes.exists()
    # On the phone the readings table scrolls sideways and the decision stays in view.
    scroll = metrologist.locator("#entry-readings .entry-scroll")
    assert scroll.evaluate("el => el.scrollWidth > el.clientWidth")
    box = metrologist.locator("#entry-decision").bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
    assert metrologist.get_attribute("input[name='up_after.1']", "inputmode") == "decimal"
    assert metrologist.evaluate(NO_SIDEWAYS_SCROLL)  # only the table scrolls sideways
    metrologist.screenshot(path=str(SCREENSHOTS / "e2e-records-1-entry-phone.png"))
    metrologist.screenshot(path=str(SCREENSHOTS / "e2e-records-1-entry.png"), full_page=True)

    # 3. Save, then submit with the password.
    metrologist.click("[data-testid=save]")
    metrologist.wait_for_selector(".msg.success")
    record.refresh_from_db()
    assert record.cells["up_after.3"] == "0.645" and record.decision == "pass"
    _sign(metrologist, "submit", base, record)
    record.refresh_from_db()
    assert record.status == Record.Status.SUBMITTED
    task.refresh_from_db()
    assert task.status == Task.Status.CHECKING

    # 4. The checker finds it in the queue and returns it with a reason.
    checker = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(checker, base, "checker")
    checker.goto(f"{base}/records/?queue=check")
    checker.click(f"[data-record='{record.number}'] a")
    checker.wait_for_url(re.compile(rf"/records/{record.pk}/$"))
    checker.click("[data-testid=step-return]")
    checker.fill("textarea[name=reason]", RETURN_REASON)
    checker.click("[data-testid=confirm]")
    checker.wait_for_url(re.compile(rf"/records/{record.pk}/$"))
    record.refresh_from_db()
    assert record.status == Record.Status.DRAFT

    # 5. The metrologist corrects one reading, giving a reason, and resubmits.
    metrologist.goto(f"{base}/tasks/")
    metrologist.click("[data-testid=open-record]")
    metrologist.wait_for_url(re.compile(rf"/records/{record.pk}/$"))
    assert RETURN_REASON in metrologist.inner_text("[data-testid=transitions]")
    assert metrologist.locator("[data-testid=reason-field]").is_visible()
    metrologist.fill("input[name='up_after.3']", "0.646")
    metrologist.wait_for_function(
        "() => (document.querySelector(\"#entry-results tr[data-point='3'] "
        "td[data-value=error_up]\") || {}).textContent.trim() === '0.006'"
    )
    metrologist.fill("textarea[name=reason]", CHANGE_REASON)
    metrologist.click("[data-testid=save]")
    metrologist.wait_for_selector(".msg.success")
    change = RecordChange.objects.filter(record=record).latest("pk")
    assert (change.old, change.new, change.reason) == ("0.645", "0.646", CHANGE_REASON)
    _sign(metrologist, "submit", base, record)

    # 6. The history shows old → new with the reason.
    metrologist.goto(f"{base}/records/{record.pk}/history/")
    rows = metrologist.locator("[data-testid=change][data-cell='up_after.3']")
    assert rows.count() == 2
    corrected = rows.nth(1).inner_text()
    assert "0.645" in corrected and "0.646" in corrected and CHANGE_REASON in corrected
    metrologist.screenshot(path=str(SCREENSHOTS / "e2e-records-2-history.png"), full_page=True)
    assert metrologist.evaluate(NO_SIDEWAYS_SCROLL)

    # 7. The checker and the approver sign.
    _sign(checker, "check", base, record)
    approver = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(approver, base, "approver")
    approver.goto(f"{base}/records/?queue=approve")
    assert approver.locator(f"[data-record='{record.number}']").count() == 1
    _sign(approver, "approve", base, record)
    assert approver.get_attribute("[data-testid=record-status]", "data-status") == "approved"
    assert approver.locator("[data-testid=locked]").is_visible()
    valid = approver.locator("[data-testid=signature][data-valid=true]")
    assert valid.count() == 3  # the second "measured", "checked", "approved"
    assert approver.locator("[data-testid=signature][data-valid=false]").count() == 1
    approver.screenshot(path=str(SCREENSHOTS / "e2e-records-3-approved.png"), full_page=True)
    assert approver.evaluate(NO_SIDEWAYS_SCROLL)

    # 8. The record is locked, the task done; the commission stays at 检测/数据核查 until a
    # certificate exists.
    record.refresh_from_db()
    assert record.status == Record.Status.APPROVED and record.locked_at is not None
    task.refresh_from_db()
    assert task.status == Task.Status.DONE
    commission = task.item.commission
    commission.refresh_from_db()
    assert derived_status(commission) == CommissionStatus.TESTING
    assert commission.status == CommissionStatus.TESTING
