"""Browser journey (issue 12, point 1): in the default Chinese interface, with a Chinese
browser (locale zh-CN, time zone Asia/Shanghai), every form with a date shows its dates and
saving it untouched changes nothing.

Django writes a date as 2026/12/07 in Chinese, which `<input type="date">` refuses: the
browser showed the field empty, and saving erased the stored date (a method's 发布日期 was
lost on edit). Here each edit page with a date is opened, the browser's own value of every
date / time input is read (`input.value`, empty when the browser refused the value), the
form is saved as it is, and the stored row is compared with what it was. The forms that
propose a date (new calibration, check result, maintenance, receiving an item, a new
authorisation) must show it, and saving them untouched stores it.

Arranged with the ORM; the assertions read ISO dates, URLs and ``data-testid`` hooks, never
the wording.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connections
from django.utils import timezone

from e2e.conftest import SCREENSHOTS, sign_in
from metrolab.customers.models import Instrument
from metrolab.equipment.models import (
    EquipmentCalibration,
    IntermediateCheckResult,
    MaintenanceRecord,
)
from metrolab.items.models import Item
from metrolab.items.tests.fixtures import (  # noqa: F401 - pytest fixtures used by name
    customers,
    item_media_root,
    make_commission,
)
from metrolab.methods.models import Method
from metrolab.qualifications.models import PersonnelCertificate, StaffProfile
from metrolab.tasks.tests.fixtures import qualified_setup  # noqa: F401 - a pytest fixture

pytestmark = pytest.mark.browser

DATE_INPUTS = "input[type=date], input[type=time], input[type=datetime-local]"
CHINESE_BROWSER = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
# The same journey with the English interface chosen (the language cookie) in an English
# browser: Django's English date format (2026-12-07 / Dec. 7, 2026) must not leak either.
ENGLISH_BROWSER = {"locale": "en-GB", "timezone_id": "Europe/London"}


def _open(new_page, base: str, browser_options: dict):
    page = new_page(**browser_options)
    if not browser_options["locale"].startswith("zh"):
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    return page


SKIPPED = {"id", "updated_at", "created_at"}


def _row(obj) -> dict:
    """The stored values of a row (its own columns, timestamps aside)."""
    obj = type(obj).objects.get(pk=obj.pk)
    return {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.attname not in SKIPPED
    }


def _shown(form) -> dict[str, tuple[str, str]]:
    """{name: (value written in the page, value the browser took)} of the form's date and
    time inputs; the browser takes "" for a value it cannot read."""
    pairs = form.locator(DATE_INPUTS).evaluate_all(
        "els => els.map(e => [e.name, e.getAttribute('value') || '', e.value])"
    )
    return {name: (written, taken) for name, written, taken in pairs}


def _assert_shown(form, expected: dict[str, dt.date | None], where: str) -> None:
    shown = _shown(form)
    for name, (written, taken) in shown.items():
        assert written == taken, f"{where}: the browser refused {name}={written!r}"
    for name, value in expected.items():
        key = next(k for k in shown if k == name or k.endswith(f"-{name}"))
        iso = value.isoformat() if value else ""
        assert shown[key][1] == iso, f"{where}: {name} shows {shown[key][1]!r}, stored {iso!r}"


def _save(page, form, where: str, *, redirected_to: str | None = None) -> None:
    """Press the form's main button; a save redirects (to another page, or `redirected_to`),
    a refused form is shown again at its own address."""
    before = page.url
    with page.expect_navigation():
        form.locator("button[type=submit].primary").first.click()
    saved = page.url.endswith(redirected_to) if redirected_to else page.url != before
    if not saved:
        page.screenshot(path=str(SCREENSHOTS / "e2e-dates-failed.png"), full_page=True)
        raise AssertionError(f"{where}: the untouched form was not saved")


def _edit_untouched(page, base: str, url: str, form_selector: str, obj, dates: list[str]):
    """Open an edit page, check its dates are shown, save it untouched, and check the stored
    row is unchanged."""
    before = _row(obj)
    page.goto(f"{base}{url}")
    form = page.locator(form_selector)
    _assert_shown(form, {name: before[name] for name in dates}, url)
    _save(page, form, url)
    assert _row(obj) == before, url
    # Playwright's loop gives this thread connections of its own: close them, or PostgreSQL
    # cannot drop the test database at the end.
    connections.close_all()


@pytest.mark.parametrize("browser_options", [CHINESE_BROWSER, ENGLISH_BROWSER], ids=["zh", "en"])
def test_forms_keep_and_propose_their_dates(
    browser_options,
    live_server,
    cast,
    new_page,
    qualified_setup,  # noqa: F811 - the imported fixtures, requested by name
    customers,  # noqa: F811
    make_commission,  # noqa: F811
):
    base = live_server.url
    today = timezone.localdate()
    setup = qualified_setup
    yq1 = setup.equipment[0]

    # Arrange: every kind of stored date, on the rows the edit pages change.
    jjf = Method.objects.create(
        kind=Method.Kind.JJF,
        code="JJF 1059.1",
        year="2012",
        title="测量不确定度评定与表示",
        published_date=dt.date(2012, 12, 3),
        effective_date=dt.date(2013, 6, 3),
        services="calibration",
    )
    yq1.purchase_date, yq1.commissioning_date = dt.date(2019, 5, 20), dt.date(2019, 6, 1)
    yq1.save()
    setup.standard.certificate_issued = today - dt.timedelta(days=300)
    setup.standard.save()
    metrologist = cast["metrologist"]
    profile = StaffProfile.objects.create(
        user=metrologist, employee_no="E-007", joined=dt.date(2018, 3, 1)
    )
    certificate = PersonnelCertificate.objects.create(
        person=metrologist,
        kind=PersonnelCertificate.Kind.REGISTERED_METROLOGIST,
        number="ZJ-2021-0042",
        issue_date=dt.date(2021, 4, 1),
        expiry_date=dt.date(2027, 3, 31),
    )
    instrument = Instrument.objects.create(
        customer=customers["a"],
        name="压力表",
        serial_no="YB-01",
        last_service_date=dt.date(2025, 12, 1),
        next_due_date=dt.date(2026, 12, 1),
    )
    promised = today + dt.timedelta(days=10)
    commission = make_commission(promised_date=promised)
    connections.close_all()

    # 1. The quality manager: methods and qualifications.
    page = _open(new_page, base, browser_options)
    sign_in(page, base, "quality_manager")
    _edit_untouched(
        page,
        base,
        f"/methods/{jjf.pk}/edit/",
        "form.method-form",
        jjf,
        ["published_date", "effective_date", "abolished_date"],
    )
    jjf.refresh_from_db()
    assert jjf.published_date == dt.date(2012, 12, 3)  # the date the issue saw erased
    connections.close_all()
    qualification_form = "[data-testid=qualification-form]"
    for url, obj, dates in [
        (
            f"/qualifications/items/{setup.scope.pk}/edit/",
            setup.scope,
            ["valid_from", "valid_until"],
        ),
        (f"/qualifications/people/{metrologist.pk}/profile/", profile, ["joined"]),
        (
            f"/qualifications/certificates/{certificate.pk}/edit/",
            certificate,
            ["issue_date", "expiry_date"],
        ),
    ]:
        _edit_untouched(page, base, url, qualification_form, obj, dates)
    # A new authorisation proposes today as its start.
    page.goto(f"{base}/qualifications/authorisations/new/")
    _assert_shown(page.locator(qualification_form), {"valid_from": today}, "authorisation")

    # 2. The equipment manager: the register, the check plan, the standard, and the forms
    #    that propose today: a new calibration, a check result, a maintenance record.
    page = _open(new_page, base, browser_options)
    sign_in(page, base, "equipment_manager")
    edit_form = "[data-testid=edit-form]"
    for url, obj, dates in [
        (f"/equipment/{yq1.pk}/edit/", yq1, ["purchase_date", "commissioning_date"]),
        (f"/equipment/plans/{setup.plan.pk}/edit/", setup.plan, ["first_due"]),
        (
            f"/equipment/standards/{setup.standard.pk}/edit/",
            setup.standard,
            ["certificate_issued", "certificate_expiry"],
        ),
    ]:
        _edit_untouched(page, base, url, edit_form, obj, dates)

    page.goto(f"{base}/equipment/{yq1.pk}/calibrations/new/")
    form = page.locator("[data-testid=calibration-form]")
    shown = _shown(form)
    assert shown["date"] == (today.isoformat(), today.isoformat()), shown
    due = dt.date.fromisoformat(shown["due_date"][1])
    assert due > today, shown
    form.locator("input[name=certificate_no]").fill("YJL2026-0707")
    form.locator("input[name=body]").fill("省计量院")
    _save(page, form, "new calibration")
    calibration = EquipmentCalibration.objects.get(certificate_no="YJL2026-0707")
    assert (calibration.date, calibration.due_date) == (today, due)
    connections.close_all()

    page.goto(f"{base}/equipment/{yq1.pk}/")
    # Every date and time input of the equipment card holds a value the browser takes.
    _assert_shown(page.locator("main"), {}, "equipment card")
    form = page.locator(f"[data-testid=result-form-{setup.plan.pk}]")
    page.locator("details.inline-form", has=form).locator("summary").click()
    _assert_shown(form, {"date": today}, "check result")
    form.locator("input[name$=value]").fill("10.002")
    _save(page, form, "check result")
    assert IntermediateCheckResult.objects.filter(plan=setup.plan).latest("pk").date == today
    connections.close_all()

    page.goto(f"{base}/equipment/{yq1.pk}/")
    form = page.locator("[data-testid=maintenance-form]")
    page.locator("details.inline-form", has=form).locator("summary").click()
    _assert_shown(form, {"date": today}, "maintenance")
    form.locator("textarea[name=description]").fill("清洁活塞")
    _save(page, form, "maintenance")
    assert MaintenanceRecord.objects.filter(equipment=yq1).latest("pk").date == today
    connections.close_all()

    # 3. The receptionist: a customer's instrument, and receiving an item (the commission's
    #    promised date is proposed and kept).
    page = _open(new_page, base, browser_options)
    sign_in(page, base, "receptionist")
    _edit_untouched(
        page,
        base,
        f"/customers/instruments/{instrument.pk}/edit/",
        "main form.card.form-grid",
        instrument,
        ["last_service_date", "next_due_date"],
    )
    page.goto(f"{base}/items/receive/{commission.pk}/")
    form = page.locator("[data-testid=receive-form]").first
    _assert_shown(form, {"promised_date": promised}, "receive")
    _save(page, form, "receive", redirected_to=f"/items/receive/{commission.pk}/")
    assert Item.objects.get(commission=commission).promised_date == promised
    page.screenshot(path=str(SCREENSHOTS / "e2e-dates-receive.png"), full_page=True)
    connections.close_all()
