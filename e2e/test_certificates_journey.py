"""Browser journey (issue 15), on a phone (390×844, zh-CN): the approver approves a checked
pressure-gauge record (signing with the password); the record's page links its certificate,
whose page shows it queued and polls its state; the worker's job runs (here, in the test);
the page turns to "issued" by itself and offers the downloads; the PDF downloads named after
the certificate's number, and the download is audited.

Arranged with the ORM and the services: the qualified set-up of the tasks tests, the built-in
JJG 52 template approved, a started task, its record filled, submitted and checked, the lab's
organisation profile (its name is printed on the certificate).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from e2e.conftest import CJK, PHONE, SCREENSHOTS, sign_in
from metrolab.certificates.models import Certificate
from metrolab.certificates.services import certificate_issue_run
from metrolab.certificates.tests.fixtures import lab_profile  # noqa: F401 - a fixture
from metrolab.core.models import AuditEvent
from metrolab.items.tests.fixtures import (  # noqa: F401 - pytest fixtures used by name
    customers,
    make_commission,
    receive,
)
from metrolab.records.tests.fixtures import (  # noqa: F401 - pytest fixtures used by name
    approved_version,
    gauge_record,
    gauge_task,
    move,
    start_task,
)
from metrolab.tasks.tests.fixtures import (  # noqa: F401 - pytest fixtures used by name
    qualified_assign,
    qualified_setup,
)

pytestmark = pytest.mark.browser

PASSWORD = "cast-password-1"
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"
# What in the page reaches past the phone's right edge (a long SHA-256 did; on a mobile
# viewport the layout viewport grows with the content, so the width is the phone's).
PAST_THE_EDGE = (
    "(width) => [...document.querySelectorAll('main *')]"
    ".filter(e => e.getBoundingClientRect().right > width + 1).map(e => e.outerHTML.slice(0, 80))"
)


def _run_worker_job(certificate_id: int) -> Certificate:
    """The worker's job, in a thread of its own as in the worker (signing runs an asyncio
    loop, which cannot nest in Playwright's), with its own database connection."""
    from django.db import connection

    done: list = []

    def run():
        try:
            done.append(certificate_issue_run(certificate_id=certificate_id))
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=120)
    assert done, "the worker's job did not finish"
    return done[0]


def test_approval_issues_the_certificate_and_the_pdf_downloads_on_a_phone(
    live_server,
    cast,
    new_page,
    settings,
    tmp_path,
    lab_profile,  # noqa: F811 - the imported fixtures, requested by name
    gauge_record,  # noqa: F811
    move,  # noqa: F811
):
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    record = move(gauge_record, to="checked")

    # 1. The approver signs the approval on a phone.
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(page, base, "approver")
    page.goto(f"{base}/records/{record.pk}/")
    page.click("[data-testid=step-approve]")
    page.wait_for_url(re.compile(rf"/records/{record.pk}/sign/approve/"))
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=sign]")
    page.wait_for_url(re.compile(rf"/records/{record.pk}/\?signed=\d+"))
    certificate = Certificate.objects.get(record=record)
    assert certificate.status == Certificate.Status.QUEUED

    # 2. The record's page links its certificate; its page shows it queued, polling.
    link = page.locator("[data-testid=certificate-link]")
    assert link.inner_text().strip() == certificate.number
    link.click()
    page.wait_for_url(re.compile(rf"/certificates/{certificate.pk}/$"))
    assert page.locator("#certificate-state").get_attribute("data-status") == "queued"
    assert page.locator("#certificate-body").get_attribute("data-poll")
    assert page.locator("[data-testid=download-pdf]").count() == 0
    assert CJK.search(page.inner_text("main"))
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=str(SCREENSHOTS / "e2e-certificates-1-queued.png"), full_page=True)

    # 3. The worker's job runs; the page turns to "issued" by itself.
    issued = _run_worker_job(certificate.pk)
    assert issued.status == Certificate.Status.ISSUED, issued.error
    page.wait_for_selector("#certificate-state[data-status=issued]")
    assert page.locator("#certificate-body").get_attribute("data-poll") is None
    assert page.locator("[data-testid=certificate-status]").inner_text().strip() == "已出具"
    page.screenshot(path=str(SCREENSHOTS / "e2e-certificates-2-issued.png"), full_page=True)
    assert page.evaluate(PAST_THE_EDGE, PHONE["width"]) == []

    # 4. The PDF downloads, named after the number, and the download is audited.
    with page.expect_download() as info:
        page.click("[data-testid=download-pdf]")
    download = info.value
    assert download.suggested_filename == f"{certificate.number}.pdf"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF") and len(data) == issued.pdf_size
    event = AuditEvent.objects.get(action="certificate.download")
    assert (event.actor_label, event.object_id) == ("approver", str(certificate.pk))

    # 5. The list shows it issued, within the phone's width.
    page.click("text=全部证书")
    page.wait_for_url(re.compile(r"/certificates/$"))
    row = page.locator(f"[data-certificate='{certificate.number}']")
    assert row.get_attribute("data-status") == "issued"
    assert page.evaluate(PAST_THE_EDGE, PHONE["width"]) == []
    page.screenshot(path=str(SCREENSHOTS / "e2e-certificates-3-list.png"), full_page=True)
