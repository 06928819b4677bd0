"""The record pages in zh-Hans (R6.2, R4.4, R6.2c, R6.12a): made from the task on "my tasks",
the entry sheet of the JJG 52-2013 built-in with every cell, the live results of typed
readings (the engine's worked example), saving with and without a reason after a return, the
blocked banner, the signing forms (a wrong password refused, nothing written), the history
with old → new and the reason, the replay, the archive PDF, who may open what, and the list's
query count."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from metrolab.core.testing import assert_same_query_count_with_n_and_10n
from metrolab.records import services
from metrolab.records.models import Record, RecordChange, RecordSignature
from metrolab.records.tests.fixtures import PASSWORD, gauge_cells
from metrolab.tasks.models import Task

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def as_user(client, cast, settings):
    # The pages in zh-Hans (the language cookie the switch in the header sets).
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    def _as(username):
        client.force_login(cast[username], backend="metrolab.core.auth.ThrottledModelBackend")
        return client

    return _as


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _detail(record) -> str:
    return reverse("records:detail", args=[record.pk])


# --- from the task to a record ---------------------------------------------------------------


def test_my_tasks_offers_to_create_the_record_then_to_open_it(as_user, gauge_task):
    client = as_user("metrologist")
    page = _text(client.get(reverse("tasks:mine"), **ZH))
    assert "新建原始记录" in page and 'data-testid="create-record"' in page
    # Both pressure standards of the task fit the template's "standard": the button does not
    # guess, it shows the equipment with a role select each.
    response = client.post(reverse("records:create", args=[gauge_task.pk]), **ZH)
    page = _text(response)
    assert response.status_code == 200 and not Record.objects.filter(task=gauge_task).exists()
    assert 'data-testid="ask-roles"' in page and "设备及其角色" in page
    assert 'data-testid="role-YQ-001"' in page and 'data-testid="role-YQ-002"' in page
    assert "标准器" in page
    first, second = (e.pk for e in gauge_task.equipment.order_by("asset_no"))
    response = client.post(
        reverse("records:create", args=[gauge_task.pk]),
        {"roles_given": "1", f"role-{first}": "standard", f"role-{second}": ""},
        **ZH,
    )
    record = Record.objects.get(task=gauge_task)
    assert response.status_code == 302 and response["Location"] == _detail(record)
    assert dict(record.equipment_used.values_list("equipment__asset_no", "role")) == {
        "YQ-001": "standard",
        "YQ-002": "",
    }
    assert record.template_version.template.code == "jjg52-2013-pressure-gauge"
    page = _text(client.get(reverse("tasks:mine"), **ZH))
    assert "填写原始记录" in page and _detail(record) in page
    # The creation page of a task with an open record leads to it.
    again = client.post(reverse("records:create", args=[gauge_task.pk]), **ZH)
    assert again["Location"] == _detail(record)
    assert Record.objects.filter(task=gauge_task).count() == 1


def test_a_refused_creation_lists_every_reason(as_user, cast, start_task):
    # No approved template fits the task.
    task = start_task()
    response = as_user("metrologist").post(reverse("records:create", args=[task.pk]), **ZH)
    assert response.status_code == 422
    page = _text(response)
    assert 'data-testid="refused"' in page and "没有适用于本任务" in page
    assert not Record.objects.filter(task=task).exists()


# --- the entry sheet ---------------------------------------------------------------------------


def test_the_entry_sheet_has_every_cell_of_the_jjg52_template(as_user, gauge_record):
    from metrolab.records.calculation import input_cells

    response = as_user("metrologist").get(_detail(gauge_record), **ZH)
    assert response.status_code == 200
    page = _text(response)
    cells = input_cells(gauge_record)
    assert len(cells) == 7 + 1 + 6 * 5  # parameters, the typed header field, 6 points × 5
    for cell_id in cells:
        assert f'name="{cell_id}"' in page, cell_id
    # Readings are typed as decimals, with their unit; formulas and fixed text are not inputs.
    assert page.count('inputmode="decimal"') >= 30
    assert "标准器示值" in page and "MPa" in page and "升压示值误差" in page
    assert 'name="error_up.1"' not in page and 'name="mpe.1"' not in page
    assert "依据 JJG 52-2013 检定" in page
    assert 'src="/static/records/entry.js"' in page
    assert 'data-decision="incomplete"' in page


def test_typed_readings_are_evaluated_without_saving(as_user, gauge_record):
    client = as_user("metrologist")
    data = gauge_cells()
    response = client.post(_detail(gauge_record) + "?part=results", data, **ZH)
    assert response.status_code == 200
    page = _text(response)
    # The engine's worked example (metrolab/metrology/tests/test_builtin_templates.py, with
    # its hand calculation): point 2 rising error 0.010 MPa, MPE at 100 % 0.0400 MPa,
    # largest error 0.035 MPa, hysteresis 0.010 → 合格.
    point2 = re.search(r'<tr data-point="2">.*?</tr>', page.split('id="entry-results"')[1]).group(0)
    assert re.search(r'data-value="error_up">0\.010<', point2)
    assert re.search(r'data-value="mpe">0\.0400<', page)
    assert re.search(r'data-summary="max_error" class="num">0\.035 MPa', page)
    assert 'data-decision="pass"' in page and "合格" in page
    gauge_record.refresh_from_db()
    assert gauge_record.cells == {} and not gauge_record.changes.exists()


def test_class_1_0_makes_the_same_readings_fail(as_user, gauge_record):
    # The engine's worked example for class 1.0: P6's 0.035 MPa exceeds 0.0256 MPa → 不合格.
    page = _text(
        as_user("metrologist").post(
            _detail(gauge_record) + "?part=results", gauge_cells("1.0"), **ZH
        )
    )
    assert 'data-decision="fail"' in page and "不合格" in page
    assert re.search(r'<tr data-point="6">.*?data-value="ok">✗<', page)


def test_a_reading_that_is_not_a_number_is_shown_beside_its_cell(as_user, gauge_record):
    data = {**gauge_cells(), "up_after.3": "0,6x"}
    page = _text(as_user("metrologist").post(_detail(gauge_record) + "?part=results", data, **ZH))
    assert '<span data-cell="up_after.3">' in page
    assert 'data-problem-for="up_after.3">' in page and "这不是数值" in page
    assert 'data-decision="incomplete"' in page


def test_save_writes_the_values_and_the_trail(as_user, gauge_record):
    client = as_user("metrologist")
    response = client.post(_detail(gauge_record), gauge_cells(), **ZH)
    assert response.status_code == 302
    gauge_record.refresh_from_db()
    assert gauge_record.cells["up_after.2"] == "0.330"
    assert gauge_record.decision == "pass"
    page = _text(client.get(_detail(gauge_record), **ZH))
    assert 'data-decision="pass"' in page and 'data-testid="step-submit"' in page


def _returned(client, cast, record, move):
    record = move(record, "submitted")
    services.record_return(record=record, actor=cast["checker"], reason="点3 读数有误")
    record.refresh_from_db()
    return record


def test_after_a_return_a_change_needs_a_reason(as_user, cast, gauge_record, move):
    client = as_user("metrologist")
    record = _returned(client, cast, gauge_record, move)
    page = _text(client.get(_detail(record), **ZH))
    assert 'data-testid="reason-field"' in page and 'name="reason"' in page
    changes = RecordChange.objects.filter(record=record).count()
    data = {**gauge_cells(), "up_after.3": "0.646"}
    refused = client.post(_detail(record), data, **ZH)
    assert refused.status_code == 422
    assert 'data-testid="save-errors"' in _text(refused)
    record.refresh_from_db()
    assert record.cells["up_after.3"] == "0.645"
    assert RecordChange.objects.filter(record=record).count() == changes
    done = client.post(_detail(record), {**data, "reason": "复核读数"}, **ZH)
    assert done.status_code == 302
    change = RecordChange.objects.filter(record=record).latest("pk")
    assert (change.cell, change.old, change.new, change.reason) == (
        "up_after.3",
        "0.645",
        "0.646",
        "复核读数",
    )


def test_only_the_measurer_changes_a_draft(as_user, gauge_record):
    response = as_user("checker").post(_detail(gauge_record), gauge_cells(), **ZH)
    assert response.status_code == 403
    gauge_record.refresh_from_db()
    assert gauge_record.cells == {}
    page = _text(as_user("checker").get(_detail(gauge_record), **ZH))
    assert 'data-testid="entry-form"' not in page


def test_the_blocked_banner_disables_the_readings(as_user, cast, gauge_task):
    from metrolab.environment.models import Requirement, Room

    room = Room.objects.create(code="P-101", name="压力实验室")
    Requirement.objects.create(
        room=room, quantity="temperature", low=Decimal("18"), high=Decimal("22"), unit="℃"
    )
    record = services.record_create(task=gauge_task, actor=cast["metrologist"], room=room)
    page = _text(as_user("metrologist").get(_detail(record), **ZH))
    assert 'data-testid="blocked"' in page
    assert re.search(r'name="up_after\.1"[^>]*disabled', page)
    assert not re.search(r'name="param\.accuracy_class"[^>]*disabled', page)


# --- signing -------------------------------------------------------------------------------


def test_submit_asks_for_the_password_and_a_wrong_one_writes_nothing(
    as_user, cast, gauge_record, move
):
    record = move(gauge_record, "filled")
    client = as_user("metrologist")
    url = reverse("records:sign", args=[record.pk, "submit"])
    page = _text(client.get(url, **ZH))
    assert 'name="password"' in page and "我确认本记录数据真实" in page
    assert 'name="otp"' not in page
    wrong = client.post(url, {"password": "not-it"}, **ZH)
    assert wrong.status_code == 422 and "密码" in _text(wrong)
    record.refresh_from_db()
    assert record.status == Record.Status.DRAFT and not record.signatures.exists()
    done = client.post(url, {"password": PASSWORD}, **ZH)
    signature = RecordSignature.objects.get(record=record)
    assert done["Location"] == f"{_detail(record)}?signed={signature.pk}"
    page = _text(client.get(done["Location"], **ZH))
    assert 'data-testid="manifest"' in page and signature.printed_name in page
    assert "检定/校准员" in page or signature.get_meaning_display() in page
    record.refresh_from_db()
    assert record.status == Record.Status.SUBMITTED


def test_a_totp_account_is_asked_for_its_code(as_user, cast, gauge_record, move):
    record = move(gauge_record, "submitted")
    checker = cast["checker"]
    checker.totp_enabled = True
    checker.totp_secret = "JBSWY3DPEHPK3PXP"
    checker.save(update_fields=["totp_enabled", "totp_secret"])
    client = as_user("checker")
    url = reverse("records:sign", args=[record.pk, "check"])
    page = _text(client.get(url, **ZH))
    assert 'name="otp"' in page and "核验员" in page
    refused = client.post(url, {"password": PASSWORD}, **ZH)
    assert refused.status_code == 422
    record.refresh_from_db()
    assert record.status == Record.Status.SUBMITTED


def test_segregation_is_said_before_the_password_is_asked(as_user, gauge_record, move):
    record = move(gauge_record, "submitted")
    response = as_user("metrologist").get(reverse("records:sign", args=[record.pk, "check"]), **ZH)
    assert response.status_code == 403
    page = _text(response)
    assert 'data-testid="refused"' in page and 'name="password"' not in page


def test_check_and_approval_lock_the_record_and_finish_the_task(as_user, cast, gauge_record, move):
    record = move(gauge_record, "submitted")
    checker = as_user("checker")
    page = _text(checker.get(_detail(record), **ZH))
    assert 'data-testid="step-check"' in page and 'data-testid="step-return"' in page
    checker.post(reverse("records:sign", args=[record.pk, "check"]), {"password": PASSWORD})
    approver = as_user("approver")
    response = approver.post(
        reverse("records:sign", args=[record.pk, "approve"]), {"password": PASSWORD}
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == Record.Status.APPROVED and record.locked_at is not None
    assert record.task.status == Task.Status.DONE
    page = _text(approver.get(_detail(record), **ZH))
    assert page.count('data-valid="true"') == 3 and 'data-testid="locked"' in page


def test_a_signature_made_invalid_by_a_later_change_shows_so(as_user, cast, gauge_record, move):
    record = move(gauge_record, "checked")
    services.record_return(record=record, actor=cast["approver"], reason="点 2 读数抄错")
    client = as_user("metrologist")
    client.post(_detail(record), {"up_after.2": "0.331", "reason": "点 2 读数抄错"})
    page = _text(client.get(_detail(record), **ZH))
    assert page.count('data-valid="false"') == 2 and "无效" in page


def test_return_and_cancel_need_a_reason(as_user, cast, gauge_record, move):
    record = move(gauge_record, "submitted")
    client = as_user("checker")
    url = reverse("records:step", args=[record.pk, "return"])
    assert client.post(url, {"reason": ""}, **ZH).status_code == 422
    record.refresh_from_db()
    assert record.status == Record.Status.SUBMITTED
    assert client.post(url, {"reason": "点3 读数有误"}, **ZH).status_code == 302
    record.refresh_from_db()
    assert record.status == Record.Status.DRAFT
    assert record.transitions.latest("pk").reason == "点3 读数有误"
    cancel = reverse("records:step", args=[record.pk, "cancel"])
    refused = as_user("checker").post(cancel, {"reason": "x"}, **ZH)
    assert refused.status_code == 422
    assert as_user("metrologist").post(cancel, {"reason": "重新分配"}, **ZH).status_code == 302
    record.refresh_from_db()
    assert record.status == Record.Status.CANCELLED


# --- history, replay, archive ------------------------------------------------------------------


def test_history_shows_old_new_with_the_reason_and_replays_the_earlier_value(
    as_user, cast, gauge_record, move
):
    client = as_user("metrologist")
    record = _returned(client, cast, gauge_record, move)
    before = timezone.now()
    services.record_write(
        record=record,
        values={"up_after.3": "0.646"},
        actor=cast["metrologist"],
        reason="复核读数",
    )
    page = _text(client.get(reverse("records:history", args=[record.pk]), **ZH))
    rows = re.findall(r'<tr data-testid="change" data-cell="up_after.3">.*?</tr>', page)
    assert len(rows) == 2 and "∅</span> → <strong>0.645</strong>" in rows[0]
    row = rows[1]
    assert "0.645" in row and "0.646" in row and "复核读数" in row
    assert "点 3" in row and "升压 轻敲后" in row and "草稿" in row
    assert "点3 读数有误" in page  # the return's reason among the status changes
    at = timezone.localtime(before).strftime("%Y-%m-%dT%H:%M:%S.%f")
    replay = _text(client.get(reverse("records:history", args=[record.pk]), {"at": at}, **ZH))
    sheet = replay.split('data-testid="replay-sheet"')[1]
    assert re.search(r'<tr data-point="3">.*?>0\.645<', sheet)
    assert "0.646" not in sheet
    # The moment is given to the input as ISO, whatever the language renders dates like.
    assert re.search(r'name="at" value="\d{4}-\d\d-\d\dT\d\d:\d\d"', replay)


def test_the_archive_pdf_has_the_number_the_trail_and_the_signers(
    as_user, cast, gauge_record, move
):
    from pypdf import PdfReader

    client = as_user("metrologist")
    record = _returned(client, cast, gauge_record, move)
    services.record_write(
        record=record, values={"up_after.3": "0.646"}, actor=cast["metrologist"], reason="复核"
    )
    for step, who in (("submit", "metrologist"), ("check", "checker"), ("approve", "approver")):
        sign = getattr(services, f"record_{step}")
        record = sign(record=record, actor=cast[who], password=PASSWORD)
    response = client.get(reverse("records:archive", args=[record.pk]), **ZH)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert record.number in text
    assert "0.645" in text and "0.646" in text and "复核" in text
    names = {s.printed_name for s in record.signatures.all()}
    assert len(names) == 3 and all(name in text for name in names)
    pages = len(reader.pages)
    assert f"第 1 页 共 {pages} 页" in text
    assert f"第 {pages} 页 共 {pages} 页" in text


# --- access --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("metrologist", 200),
        ("checker", 200),
        ("approver", 200),
        ("director", 200),
        ("customer_a", 403),
        ("regulator", 403),
    ],
)
def test_who_opens_the_record_pages(as_user, gauge_record, username, status):
    client = as_user(username)
    for url in (
        reverse("records:list"),
        _detail(gauge_record),
        reverse("records:history", args=[gauge_record.pk]),
        reverse("records:archive", args=[gauge_record.pk]),
    ):
        assert client.get(url, **ZH).status_code == status, url


def test_customers_cannot_post_previews_or_steps(as_user, gauge_record):
    client = as_user("customer_a")
    assert client.post(_detail(gauge_record) + "?part=results", {}).status_code == 403
    url = reverse("records:sign", args=[gauge_record.pk, "submit"])
    assert client.post(url, {"password": PASSWORD}).status_code == 403


# --- the list ------------------------------------------------------------------------------


def test_the_queues(as_user, cast, gauge_record, move):
    record = move(gauge_record, "submitted")
    checker = as_user("checker")
    page = _text(checker.get(reverse("records:list"), {"queue": "check"}, **ZH))
    assert f'data-record="{record.number}"' in page and "待我核验" in page
    # The list is in the menu, with the items and tasks.
    assert re.search(r'<a href="/records/"[^>]*>.*?原始记录</a>', page)
    page = _text(checker.get(reverse("records:list"), {"queue": "approve"}, **ZH))
    assert f'data-record="{record.number}"' not in page
    mine = _text(as_user("metrologist").get(reverse("records:list"), {"queue": "mine"}, **ZH))
    assert f'data-record="{record.number}"' in mine
    theirs = _text(as_user("metrologist").get(reverse("records:list"), {"queue": "check"}, **ZH))
    assert f'data-record="{record.number}"' not in theirs


def test_the_list_searches_by_record_item_and_customer(as_user, gauge_record):
    """The list's search box (q) finds a record by its number, its item's number and its
    customer's name, and shows nothing for a text no record matches."""
    checker = as_user("director")
    item = gauge_record.task.item
    for text in (gauge_record.number, item.number, item.commission.customer.name):
        page = _text(checker.get(reverse("records:list"), {"q": text}, **ZH))
        assert f'data-record="{gauge_record.number}"' in page, text
        assert f'value="{text}"' in page
    page = _text(checker.get(reverse("records:list"), {"q": "没有这样的记录"}, **ZH))
    assert f'data-record="{gauge_record.number}"' not in page


def test_the_list_costs_the_same_queries_for_n_and_10n_records(
    as_user, cast, gauge_task, gauge_record
):
    client = as_user("checker")
    made = [0]

    def add(k):
        for _ in range(k):
            made[0] += 1
            Record.objects.create(
                number=f"JLX{made[0]:06d}",
                task=gauge_task,
                template_version=gauge_record.template_version,
                measured_by=cast["metrologist"],
                started_at=timezone.now() - dt.timedelta(minutes=made[0]),
                status=Record.Status.CANCELLED,
            )

    assert_same_query_count_with_n_and_10n(
        lambda: client.get(reverse("records:list"), **ZH), add, n=2
    )


def test_my_tasks_finds_each_tasks_record_without_a_query_per_task(
    as_user, cast, start_task, approved_version
):
    approved_version()
    client = as_user("metrologist")

    def add(k):
        for _ in range(k):
            services.record_create(task=start_task(), actor=cast["metrologist"])

    assert_same_query_count_with_n_and_10n(lambda: client.get(reverse("tasks:mine"), **ZH), add)
    page = _text(client.get(reverse("tasks:mine"), **ZH))
    assert page.count('data-testid="open-record"') == 10


def test_parameters_left_at_their_default_leave_no_trail(as_user, gauge_record):
    client = as_user("metrologist")
    data = {
        **gauge_cells(),
        "param.range_lower": "0",
        "param.range_upper": "1.6",
        "param.points": "0, 20, 40, 60, 80, 100",
        "param.stop_pin": "yes",
        "param.unit": "MPa",
        "param.interval_months": "6",
    }
    assert client.post(_detail(gauge_record), data, **ZH).status_code == 302
    gauge_record.refresh_from_db()
    assert "param.range_upper" not in gauge_record.cells
    assert not gauge_record.changes.filter(cell__startswith="param.range").exists()
    assert gauge_record.decision == "pass"


def test_the_pages_in_english(as_user, cast, gauge_record, move, settings):
    record = move(gauge_record, "submitted")
    client = as_user("checker")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = _text(client.get(_detail(record), **ZH))
    assert "Check and sign" in page and "Computed results" in page and ">Pass<" in page
    assert "Error, rising" in page  # the template's own English label
    sign = _text(client.get(reverse("records:sign", args=[record.pk, "check"])))
    assert "I sign this record as its checker" in sign
    history = _text(client.get(reverse("records:history", args=[record.pk])))
    assert "Change trail" in history and "Replay" in history
    queue = _text(client.get(reverse("records:list"), {"queue": "check"}))
    assert "To check" in queue and record.number in queue


def test_an_approved_record_is_amended_as_a_new_revision(as_user, cast, gauge_record, move):
    record = move(gauge_record, "approved")
    client = as_user("metrologist")
    page = _text(client.get(_detail(record), **ZH))
    assert 'data-testid="step-amend"' in page and 'data-testid="entry-form"' not in page
    response = client.post(
        reverse("records:step", args=[record.pk, "amend"]), {"reason": "更正点2 读数"}, **ZH
    )
    amendment = Record.objects.get(amends=record)
    assert response["Location"] == _detail(amendment)
    assert amendment.number == f"{record.number}-R2" and amendment.status == Record.Status.DRAFT
    page = _text(client.get(_detail(amendment), **ZH))
    assert 'data-testid="entry-form"' in page and record.number in page


def test_repeated_readings_are_columns_of_their_input(as_user, cast, start_task, approved_version):
    approved_version("digital-thermometer-sprt")
    task = start_task(service="calibration", name="数字温度计 Digital thermometer")
    record = services.record_create(task=task, actor=cast["metrologist"])
    page = _text(as_user("metrologist").get(_detail(record), **ZH))
    # Two header rows: the inputs, then their repeats; each repeat its own input.
    assert page.count("<thead> <tr>") >= 1 and 'rowspan="2"' in page
    assert 'name="std.1.1"' in page and 'name="uut.1.2"' in page


def test_the_history_shows_the_corrections_only_when_asked(as_user, cast, gauge_record, move):
    client = as_user("metrologist")
    record = _returned(client, cast, gauge_record, move)
    services.record_write(
        record=record, values={"up_after.3": "0.646"}, actor=cast["metrologist"], reason="复核"
    )
    url = reverse("records:history", args=[record.pk])
    every = _text(client.get(url, **ZH))
    assert every.count('data-testid="change"') == len(gauge_cells()) + 1
    only = _text(client.get(url, {"only": "corrections"}, **ZH))
    assert only.count('data-testid="change"') == 1 and "复核" in only


def test_when_several_templates_fit_the_page_asks_which(
    as_user, cast, start_task, approved_version
):
    approved_version("digital-thermometer-sprt")
    dmm = approved_version("dmm-dc-voltage")
    task = start_task(service="calibration", name="数字多用表 Multimeter")
    client = as_user("metrologist")
    url = reverse("records:create", args=[task.pk])
    asked = client.post(url, **ZH)
    assert asked.status_code == 422
    page = _text(asked)
    assert 'name="template_version"' in page and "dmm-dc-voltage" in page
    assert not Record.objects.filter(task=task).exists()
    made = client.post(url, {"template_version": dmm.pk}, **ZH)
    record = Record.objects.get(task=task)
    assert made["Location"] == _detail(record) and record.template_version == dmm


DMM_CELLS = {
    "param.range": "10",
    "param.points": "1, 10",
    "param.repeats": "5",
    "reading.1.1": "1.00002", "reading.1.2": "1.00003", "reading.1.3": "1.00002",
    "reading.1.4": "1.00001", "reading.1.5": "1.00002",
    "reading.2.1": "10.00040", "reading.2.2": "10.00042", "reading.2.3": "10.00041",
    "reading.2.4": "10.00040", "reading.2.5": "10.00042",
}  # fmt: skip


def test_an_expanded_uncertainty_below_the_cmc_is_shown_beside_it(
    as_user, cast, start_task, approved_version
):
    # The engine's DMM worked example with a CMC of 20 ppm: U = 160 µV at 10 V is 16 ppm,
    # below the CMC (metrolab/metrology/tests/test_builtin_templates.py).
    approved_version("dmm-dc-voltage")
    task = start_task(service="calibration", name="数字多用表 Multimeter")
    record = services.record_create(task=task, actor=cast["metrologist"])
    record.context = {**record.context, "cmc": {"value": "20", "unit": "ppm", "relative": True}}
    record.save(update_fields=["context", "updated_at"])
    record.refresh_from_db()
    page = _text(as_user("metrologist").post(_detail(record) + "?part=results", DMM_CELLS, **ZH))
    assert 'data-decision="undecided"' in page and "待定" in page
    point2 = re.search(r'<tr data-point="2">.*?</tr>', page.split('id="entry-results"')[1])
    cell = re.search(r'<td class="num has-error" data-value="U">0\.00016<.*?</td>', point2.group(0))
    assert cell and "第 2 点：扩展不确定度小于授权的 CMC" in cell.group(0)
    assert '<li data-code="below_cmc">' in page
