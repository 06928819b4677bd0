"""Browser journey (issue 16, Proof), on a phone (390×844, zh-CN) and on a desk: the
metrologist opens a draft DMM calibration record, follows "运行程序" to the start page (the
record's calibrator preselected), gives the VISA address of the DMM under test and starts
the built-in dmm-dc-voltage procedure; the run page shows the operator prompt, the
metrologist confirms it, watches the steps advance (the page's live part polls), and once the
run is done sees the record filled: its readings and its decision on the record's page.

Arranged with the ORM and the services: the simulated SCPI bench (calibrator + DMM on
loopback ports) started in the test, the lab's calibrator YQ-201 registered with a confirmed
calibration and its connection, a started DMM calibration task with its draft record in the
room LAB-E1 where the calibrator stands. The worker's job runs in a thread of its own as in
the worker, each time the pages queue it (`services._enqueue`).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from e2e.conftest import CJK, PHONE, sign_in
from metrolab.instruments import services
from metrolab.instruments.models import Run
from metrolab.instruments.tests.runs_fixtures import (  # noqa: F401 - fixtures used by name
    TIMEOUT_MS,
    dmm_bench,
    dmm_record,
    lab_calibrator,
)
from metrolab.items.tests.fixtures import (  # noqa: F401 - pytest fixtures used by name
    customers,
    make_commission,
    receive,
)
from metrolab.records.tests.fixtures import (  # noqa: F401 - pytest fixtures used by name
    approved_version,
    start_task,
)
from metrolab.tasks.tests.fixtures import (  # noqa: F401 - pytest fixtures used by name
    qualified_assign,
    qualified_setup,
)

pytestmark = pytest.mark.browser

SHOTS = Path("/work/shots-runs")
DESK = {"width": 1280, "height": 900}
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"
PAST_THE_EDGE = (
    "(width) => [...document.querySelectorAll('main *')]"
    ".filter(e => e.getBoundingClientRect().right > width + 1).map(e => e.outerHTML.slice(0, 80))"
)


@pytest.fixture
def worker(monkeypatch):
    """Each run the pages queue is run by the worker's job in a thread of its own (with its
    own database connection), as the worker would."""
    from django.db import connection

    threads: list[threading.Thread] = []

    def enqueue(run_id: int) -> None:
        def work():
            try:
                services.run_execute(run_id=run_id)
            finally:
                connection.close()

        thread = threading.Thread(target=work, daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(services, "_enqueue", enqueue)
    yield threads
    for thread in threads:
        thread.join(timeout=60)


def _arrange(record, calibrator) -> None:
    from metrolab.environment.models import Room
    from metrolab.records.models import RecordEquipment

    room = Room.objects.create(code="LAB-E1", name="电学实验室 1")
    record.room = room
    record.save()
    calibrator.location = "LAB-E1"
    calibrator.save()
    RecordEquipment.objects.create(record=record, equipment=calibrator, role="calibrator")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_a_run_started_on_a_phone_fills_the_record(
    live_server,
    cast,
    new_page,
    worker,
    dmm_record,  # noqa: F811 - the imported fixtures, requested by name
    lab_calibrator,  # noqa: F811
    dmm_bench,  # noqa: F811
):
    base = live_server.url
    _arrange(dmm_record, lab_calibrator)
    resource = dmm_bench.dmm.connection("dmm34401", TIMEOUT_MS)["resource"]

    # 1. The metrologist opens the draft record on a phone and follows "运行程序".
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(page, base, "metrologist")
    page.goto(f"{base}/records/{dmm_record.pk}/")
    page.click("[data-testid=run-procedure]")
    page.wait_for_url(re.compile(rf"/instruments/runs/new/\?record={dmm_record.pk}$"))
    form = page.locator("[data-testid=run-start-form]")
    assert form.locator("select[name=role-source]").input_value() == str(lab_calibrator.pk)
    assert CJK.search(page.inner_text("main"))
    form.locator("select[name=conn-uut-driver]").select_option("dmm34401")
    form.locator("input[name=conn-uut-address]").fill(resource)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    _shot(page, "runs-1-start-phone.png")

    # 2. It starts; the run stops at the operator prompt, which the page shows.
    form.locator("[data-testid=start]").click()
    page.wait_for_url(re.compile(r"/instruments/runs/\d+/$"))
    run = Run.objects.get(record=dmm_record)
    page.wait_for_selector("#run-live[data-status=waiting_prompt]")
    prompt = page.inner_text("[data-testid=prompt-text]")
    assert "低热电势测试线" in prompt
    assert page.locator("#run-live").get_attribute("data-poll")
    where = page.inner_text("[data-testid=where-source]")
    assert "LAB-E1" in where and "在记录的房间" in where
    assert page.evaluate(PAST_THE_EDGE, PHONE["width"]) == []
    _shot(page, "runs-2-prompt-phone.png")

    # 3. Confirmed, the steps advance: each point settles and is read; the page follows.
    page.click("[data-testid=confirm]")
    page.wait_for_url(re.compile(rf"/instruments/runs/{run.pk}/$"))
    seen: list[str] = []
    for step in ("4", "5", "6", "7"):
        locator = page.locator(f"#run-live[data-step='{step}'], #run-live[data-status=done]")
        locator.wait_for(timeout=30_000)
        seen.append(page.locator("#run-live").get_attribute("data-step") or "done")
        if step == "5" and seen[-1] == "5":
            # the point settling: the readings so far and their standard deviation
            settle = page.locator("[data-testid=settle]")
            settle.wait_for(timeout=10_000)
            assert "标准偏差" in settle.inner_text()
            _shot(page, "runs-3-running-phone.png")
    assert len(set(seen)) >= 2, seen  # the page saw the run move from step to step
    page.wait_for_selector("#run-live[data-status=done]", timeout=60_000)
    assert page.locator("#run-live").get_attribute("data-poll") is None
    assert page.locator("[data-testid=step-row][data-passed=yes]").count() == 4
    assert "4 个点已测" in page.inner_text("[data-testid=run-summary]")
    assert page.evaluate(PAST_THE_EDGE, PHONE["width"]) == []
    _shot(page, "runs-4-done-phone.png")

    # 4. The record's page shows the readings written and the decision.
    run.refresh_from_db()
    assert run.status == Run.Status.DONE, run.reason
    page.click("[data-testid=record-link]")
    page.wait_for_url(re.compile(rf"/records/{dmm_record.pk}/$"))
    dmm_record.refresh_from_db()
    readings = {k: v for k, v in dmm_record.cells.items() if k.startswith("reading.")}
    assert len(readings) == 20
    for cell in ("reading.1.1", "reading.3.5", "reading.4.2"):
        assert page.input_value(f"input[name='{cell}']") == readings[cell]
    decision = page.get_attribute("#entry-decision [data-decision]", "data-decision")
    assert decision == "pass"
    assert "合格" in page.inner_text("#entry-decision")
    runs = page.inner_text("[data-testid=record-runs]")
    assert f"#{run.pk}" in runs and "已完成" in runs
    _shot(page, "runs-5-record-phone.png")

    # 5. On a desk: the run page, the transcript and the list.
    desk = new_page(viewport=DESK)
    sign_in(desk, base, "metrologist")
    desk.goto(f"{base}/instruments/runs/{run.pk}/")
    assert desk.locator("#run-live[data-status=done]").count() == 1
    _shot(desk, "runs-6-done-desk.png")
    desk.click("[data-testid=events-link]")
    desk.wait_for_url(re.compile(rf"/instruments/runs/{run.pk}/events/$"))
    assert desk.locator("[data-testid=event][data-kind=command]").count() > 0
    assert "127.0.0.1" in desk.inner_text("[data-testid=events]")
    _shot(desk, "runs-7-transcript-desk.png")
    desk.goto(f"{base}/instruments/runs/")
    assert desk.locator(f"[data-testid=run-row][data-run='{run.pk}']").count() == 1
    _shot(desk, "runs-8-list-desk.png")
