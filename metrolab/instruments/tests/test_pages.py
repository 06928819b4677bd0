"""The run pages (issue 16; R8b, R8c, R6.9d) through Django's test client, in Chinese unless
said otherwise, with the REAL simulated SCPI bench: starting a run on a draft record (the
record's calibrator preselected, the DMM under test by its VISA address), refusals shown on
the form with nothing written, the run page and its polled live part (steps, settle state,
readings and step reports, the operator prompt and its confirmation, where each instrument
is), who sees which buttons, pause / resume / abort with a reason, each action logged with
who did it and from which client address, the transcript and the list paginated and
filtered, the record page's runs, and no query per row."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from metrolab.core.testing import assert_same_query_count_with_n_and_10n
from metrolab.instruments import services
from metrolab.instruments.models import Run, RunEvent
from metrolab.instruments.tests.runs_fixtures import *  # noqa: F403
from metrolab.instruments.tests.runs_fixtures import TIMEOUT_MS
from metrolab.items.tests.fixtures import customers, make_commission, receive  # noqa: F401
from metrolab.records.tests.fixtures import *  # noqa: F403
from metrolab.tasks.tests.fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}
PROMPT_ZH = "用低热电势测试线将校准器 NORMAL 输出端连接到被校表 V/Ω 输入端，然后确认。"


def _start(cast, record, calibrator, bench):
    return services.run_start(
        record=record,
        procedure="dmm-dc-voltage",
        equipment_roles={"source": calibrator},
        connections={"uut": bench.dmm.connection("dmm34401", TIMEOUT_MS)},
        actor=cast["metrologist"],
    )


def _start_url(record) -> str:
    return f"{reverse('instruments:run_start')}?record={record.pk}"


def _uses_calibrator(record, calibrator) -> None:
    """The record names the lab's calibrator in the template's role "calibrator"."""
    from metrolab.records.models import RecordEquipment

    RecordEquipment.objects.create(record=record, equipment=calibrator, role="calibrator")


def _form(record, calibrator, bench, **extra) -> dict:
    resource = bench.dmm.connection("dmm34401", TIMEOUT_MS)["resource"]
    data = {
        "procedure": "dmm-dc-voltage",
        "role-source": str(calibrator.pk),
        "role-uut": "",
        "conn-uut-kind": "visa",
        "conn-uut-driver": "dmm34401",
        "conn-uut-address": resource,
        "conn-uut-timeout_ms": str(TIMEOUT_MS),
    }
    data.update(extra)
    return data


def _other_metrologist():
    from metrolab.core.permissions import SYSTEM
    from metrolab.core.roles import METROLOGIST
    from metrolab.core.services import user_create

    return user_create(
        username="metrologist2",
        password="cast-password-1",
        roles=[METROLOGIST],
        display_name="Metrologist Two",
        reason="test",
        actor=SYSTEM,
    )


def _live(client, run) -> str:
    response = client.get(f"{reverse('instruments:run_detail', args=[run.pk])}?part=live", **ZH)
    assert response.status_code == 200
    return response.content.decode()


# --- starting ------------------------------------------------------------------------------


def test_the_start_page_preselects_the_record_calibrator_and_starts_a_run(
    cast, login, dmm_record, lab_calibrator, dmm_bench, django_capture_on_commit_callbacks
):
    _uses_calibrator(dmm_record, lab_calibrator)
    client = login(cast["metrologist"])
    page = client.get(_start_url(dmm_record), **ZH)
    assert page.status_code == 200
    html = page.content.decode()
    assert "数字多用表直流电压自动校准" in html  # the procedure's title in Chinese
    assert re.search(rf'<option value="{lab_calibrator.pk}" selected>YQ-201', html)
    assert 'name="conn-uut-address"' in html
    assert "被校数字多用表" in html  # the meter role's label

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            _start_url(dmm_record), _form(dmm_record, lab_calibrator, dmm_bench), **ZH
        )
    run = Run.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("instruments:run_detail", args=[run.pk])
    assert run.roles == {"source": lab_calibrator.pk}
    assert run.connections == {"uut": dmm_bench.dmm.connection("dmm34401", TIMEOUT_MS)}
    assert run.status == Run.Status.QUEUED
    # who started it, from which client address
    started = RunEvent.objects.get(run=run)
    assert (started.kind, started.by, started.address) == (
        "start",
        cast["metrologist"],
        "127.0.0.1",
    )
    # The next start offers the item under test's connection of the last run, to check
    resource = dmm_bench.dmm.connection("dmm34401", TIMEOUT_MS)["resource"]
    again = client.get(_start_url(dmm_record), **ZH).content.decode()
    assert re.search(rf'name="conn-uut-address"[^>]*value="{re.escape(resource)}"', again)
    assert '<option value="dmm34401" selected>' in again


def test_a_refused_start_is_shown_on_the_form_and_writes_nothing(
    cast, login, dmm_record, lab_calibrator, dmm_bench
):
    from metrolab.environment.models import Room

    lab = Room.objects.create(code="LAB-E1", name="电学实验室 1")
    Room.objects.create(code="LAB-P1", name="压力实验室 1")
    dmm_record.room = lab
    dmm_record.save()
    lab_calibrator.location = "LAB-P1"
    lab_calibrator.save()
    client = login(cast["metrologist"])
    response = client.post(_start_url(dmm_record), _form(dmm_record, lab_calibrator, dmm_bench))
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="refused"' in html
    assert "LAB-P1" in html and "LAB-E1" in html
    assert Run.objects.count() == 0 and RunEvent.objects.count() == 0

    # the item under test needs its equipment or its address
    response = client.post(
        _start_url(dmm_record),
        _form(dmm_record, lab_calibrator, dmm_bench, **{"conn-uut-address": ""}),
    )
    assert response.status_code == 422
    assert "请在上方选择设备，或填写仪器的地址。" in response.content.decode()
    # a driver that cannot take the kind of connection: the service's refusal
    response = client.post(
        _start_url(dmm_record),
        _form(dmm_record, lab_calibrator, dmm_bench, **{"conn-uut-kind": "modbus"}),
    )
    assert response.status_code == 422
    assert "uut: 该驱动不能使用 modbus 连接。" in response.content.decode()
    assert Run.objects.count() == 0


def test_only_the_measurer_starts_a_run(cast, login, dmm_record, lab_calibrator, dmm_bench):
    other = _other_metrologist()
    client = login(other)
    assert client.get(f"{reverse('instruments:run_start')}?record=999999").status_code == 404
    page = client.get(_start_url(dmm_record), **ZH)
    assert 'data-testid="not-yours"' in page.content.decode()
    response = client.post(_start_url(dmm_record), _form(dmm_record, lab_calibrator, dmm_bench))
    assert response.status_code == 422
    assert Run.objects.count() == 0
    # a checker may not open the start page at all
    assert login(cast["checker"]).get(_start_url(dmm_record)).status_code == 403


# --- the run page --------------------------------------------------------------------------


def test_the_run_page_shows_the_prompt_and_confirming_it_goes_on_to_a_filled_record(
    cast, login, dmm_record, lab_calibrator, dmm_bench, execute, no_sleep
):
    from metrolab.environment.models import Room

    lab = Room.objects.create(code="LAB-E1", name="电学实验室 1")
    dmm_record.room = lab
    dmm_record.save()
    lab_calibrator.location = "LAB-E1"
    lab_calibrator.save()
    run = execute(_start(cast, dmm_record, lab_calibrator, dmm_bench))
    assert run.status == Run.Status.WAITING_PROMPT
    client = login(cast["metrologist"])
    page = client.get(reverse("instruments:run_detail", args=[run.pk]), **ZH)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-poll="/instruments/runs/{run.pk}/?part=live"' in html
    assert PROMPT_ZH in html
    assert 'data-testid="confirm"' in html
    assert "第 3 步，共 8 步" in html  # reset ×2, the prompt, 4 points, standby
    # where each instrument is, beside the record's room; the identity read at the start
    where = r'data-testid="where-source"><code>LAB-E1</code> <span class="badge green"'
    assert re.search(where, html)
    assert "在记录的房间" in html
    assert "9876543" in html  # the calibrator's serial number as it reported it
    assert dmm_bench.dmm.connection("dmm34401", TIMEOUT_MS)["resource"] in html

    response = client.post(reverse("instruments:run_confirm", args=[run.pk]), **ZH)
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == Run.Status.QUEUED
    confirmed = RunEvent.objects.get(run=run, kind="confirm")
    assert (confirmed.by, confirmed.address) == (cast["metrologist"], "127.0.0.1")

    run = execute(run)
    assert run.status == Run.Status.DONE, run.reason
    live = _live(client, run)
    assert "data-poll=" not in live  # polling stops once the run is final
    assert 'data-status="done"' in live
    assert live.count('data-passed="yes"') == 4
    assert "4 个点已测：4 个在允差内，0 个超出。" in live
    step = run.state["results"]["3"]
    assert f"{step['percent_of_tolerance']} %" in live
    assert step["error"] in live
    assert 'data-testid="confirm"' not in live and 'data-testid="abort"' not in live
    # the record's page lists the run
    record_page = client.get(reverse("records:detail", args=[dmm_record.pk]), **ZH)
    html = record_page.content.decode()
    assert 'data-testid="record-runs"' in html
    assert f'href="/instruments/runs/{run.pk}/"' in html
    assert 'data-status="done"' in html


def test_the_live_part_shows_the_settle_state_saved_while_settling(
    cast, dmm_record, lab_calibrator, dmm_bench, execute, monkeypatch, login
):
    """The worker saves the settle progress on "settle" and "reading" (at most once a
    PROGRESS_SECONDS): the page shows it while the step settles."""
    run = execute(_start(cast, dmm_record, lab_calibrator, dmm_bench))
    services.run_confirm_prompt(run=run, actor=cast["metrologist"])
    monkeypatch.setattr(services, "PROGRESS_SECONDS", 0.0)
    client = login(cast["metrologist"])
    seen: list[tuple[dict, str]] = []

    def sleep(seconds):
        if not seen:
            fresh = Run.objects.get(pk=run.pk)
            seen.append((fresh.state.get("settle"), _live(client, fresh)))

    monkeypatch.setattr(services, "SLEEP", sleep)
    run = execute(run)
    assert run.status == Run.Status.DONE, run.reason
    settle, live = seen[0]
    assert settle["step"] == 3 and settle["rule"] == "stdev"
    assert len(settle["readings"]) == 1
    assert 'data-testid="settle"' in live
    assert settle["readings"][0] in live
    assert "/ &lt; 0.00002 V" in live  # the threshold beside the standard deviation
    assert 'data-status="running"' in live


def test_settle_progress_is_saved_at_most_once_a_second(
    cast, dmm_record, lab_calibrator, dmm_bench, execute, no_sleep, monkeypatch
):
    run = execute(_start(cast, dmm_record, lab_calibrator, dmm_bench))
    services.run_confirm_prompt(run=run, actor=cast["metrologist"])
    saves: list[str] = []
    original = services._progress

    def progress(run, executor, recorder, kind, data):
        before = getattr(recorder, "saved_at", None)
        original(run, executor, recorder, kind, data)
        if getattr(recorder, "saved_at", None) != before:
            saves.append(kind)

    monkeypatch.setattr(services, "_progress", progress)
    assert execute(run).status == Run.Status.DONE
    # the simulators answer at once: every step and result is saved, no settle nor reading
    assert set(saves) == {"step", "result"}


def test_who_sees_which_buttons(cast, login, dmm_record, lab_calibrator, dmm_bench, execute):
    run = _start(cast, dmm_record, lab_calibrator, dmm_bench)  # queued
    mine = login(cast["metrologist"])
    html = _live(mine, run)
    assert 'data-testid="pause"' in html and 'data-testid="abort"' in html
    assert 'data-testid="resume"' not in html and 'data-testid="confirm"' not in html
    for someone in (cast["checker"], _other_metrologist()):
        html = _live(login(someone), run)
        assert 'data-testid="run-controls"' not in html
    # the checker reads the run but may not drive it
    assert login(cast["checker"]).post(
        reverse("instruments:run_pause", args=[run.pk])
    ).status_code == (403)
    run.refresh_from_db()
    assert run.status == Run.Status.QUEUED


def test_pause_resume_and_abort_with_a_reason(
    cast, login, dmm_record, lab_calibrator, dmm_bench, english
):
    run = _start(cast, dmm_record, lab_calibrator, dmm_bench)
    client = login(cast["metrologist"])
    response = client.post(
        reverse("instruments:run_pause", args=[run.pk]), {"reason": "phone call"}
    )
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == Run.Status.PAUSED and run.reason == "phone call"
    html = _live(client, run)
    assert 'data-testid="resume"' in html and 'data-testid="pause"' not in html
    assert "phone call" in html
    pause = RunEvent.objects.get(run=run, kind="pause", by__isnull=False)
    assert (pause.text, pause.by, pause.address) == ("phone call", cast["metrologist"], "127.0.0.1")

    client.post(reverse("instruments:run_resume", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == Run.Status.QUEUED

    # an abort needs a reason: shown on the page, nothing changes
    response = client.post(reverse("instruments:run_abort", args=[run.pk]), {"reason": ""})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert "<details" in response.content.decode() and " open>" in response.content.decode()
    run.refresh_from_db()
    assert run.status == Run.Status.QUEUED
    client.post(reverse("instruments:run_abort", args=[run.pk]), {"reason": "wrong leads"})
    run.refresh_from_db()
    assert run.status == Run.Status.ABORTED and run.reason == "wrong leads"
    html = _live(client, run)
    assert 'data-testid="run-controls"' not in html and "data-poll=" not in html
    assert "wrong leads" in html
    # a refused action (resume an aborted run) is shown above the page
    response = client.post(reverse("instruments:run_resume", args=[run.pk]), follow=True)
    assert "aborted run cannot do that." in response.content.decode()
    people = RunEvent.objects.filter(run=run, by__isnull=False).order_by("pk")
    texts = list(people.values_list("kind", "text", "by__username", "address"))
    assert texts[-1] == ("abort", "wrong leads", "metrologist", "127.0.0.1")
    assert ("resume", "", "metrologist", "127.0.0.1") in texts


def test_a_pause_asked_while_the_worker_runs_is_logged_with_the_address(
    cast, login, dmm_record, lab_calibrator, dmm_bench
):
    run = _start(cast, dmm_record, lab_calibrator, dmm_bench)
    run.status = Run.Status.RUNNING  # the worker runs it
    run.save()
    client = login(cast["metrologist"])
    client.post(reverse("instruments:run_pause", args=[run.pk]), {"reason": "手机来电"}, **ZH)
    run.refresh_from_db()
    assert run.requested == "pause"
    asked = RunEvent.objects.filter(run=run, kind="pause").get()
    assert (asked.text, asked.by, asked.address) == ("手机来电", cast["metrologist"], "127.0.0.1")
    html = _live(client, run)
    assert 'data-testid="pause-asked"' in html and 'data-testid="pause"' not in html
    assert 'data-testid="abort"' in html


# --- the transcript and the list -----------------------------------------------------------


def _add_events(run, n: int) -> None:
    from django.utils import timezone

    RunEvent.objects.bulk_create(
        RunEvent(run=run, at=timezone.now(), kind="command", role="uut", text=f"READ? {i}")
        for i in range(n)
    )


def test_the_transcript_is_paginated_and_filtered_by_kind(
    cast, login, dmm_record, lab_calibrator, dmm_bench
):
    run = _start(cast, dmm_record, lab_calibrator, dmm_bench)
    _add_events(run, 150)
    client = login(cast["checker"])
    url = reverse("instruments:run_events", args=[run.pk])
    page = client.get(url, **ZH).content.decode()
    assert page.count('data-testid="event"') == 100
    assert "第 1 页，共 2 页（共 151 条）" in page
    # the first event: who started it
    assert page.count('data-testid="event-by"') == 1 and str(cast["metrologist"]) in page
    second = client.get(f"{url}?page=2", **ZH).content.decode()
    assert second.count('data-testid="event"') == 51
    only = client.get(f"{url}?kind=start", **ZH).content.decode()
    assert only.count('data-testid="event"') == 1
    assert 'data-kind="start"' in only and 'data-kind="command"' not in only


def test_the_transcript_and_the_run_page_make_no_query_per_event(
    cast, login, dmm_record, lab_calibrator, dmm_bench
):
    run = _start(cast, dmm_record, lab_calibrator, dmm_bench)
    client = login(cast["metrologist"])
    for url in (
        reverse("instruments:run_events", args=[run.pk]),
        reverse("instruments:run_detail", args=[run.pk]),
    ):
        assert_same_query_count_with_n_and_10n(
            lambda url=url: client.get(url), lambda k: _add_events(run, k), n=5
        )


def test_the_list_newest_first_filtered_by_status_and_in_the_menu(
    cast, login, dmm_record, lab_calibrator, dmm_bench
):
    first = _start(cast, dmm_record, lab_calibrator, dmm_bench)
    services.run_abort(run=first, actor=cast["metrologist"], reason="test")
    second = _start(cast, dmm_record, lab_calibrator, dmm_bench)
    client = login(cast["checker"])
    html = client.get(reverse("instruments:run_list"), **ZH).content.decode()
    rows = re.findall(r'data-testid="run-row" data-run="(\d+)"', html)
    assert rows == [str(second.pk), str(first.pk)]
    assert 'href="/instruments/runs/"' in html  # the menu entry
    assert "程序运行" in html
    html = client.get(f"{reverse('instruments:run_list')}?status=aborted").content.decode()
    assert re.findall(r'data-testid="run-row" data-run="(\d+)"', html) == [str(first.pk)]
    assert_same_query_count_with_n_and_10n(
        lambda: client.get(reverse("instruments:run_list")),
        lambda k: [_start(cast, dmm_record, lab_calibrator, dmm_bench) for _ in range(k)],
        n=2,
    )


def test_the_record_page_offers_a_run_to_its_measurer_only(cast, login, dmm_record, lab_calibrator):
    url = reverse("records:detail", args=[dmm_record.pk])
    html = login(cast["metrologist"]).get(url, **ZH).content.decode()
    assert f'href="/instruments/runs/new/?record={dmm_record.pk}"' in html
    assert "运行程序" in html
    assert 'data-testid="record-runs"' not in html
    html = login(cast["checker"]).get(url, **ZH).content.decode()
    assert 'data-testid="run-procedure"' not in html


def test_the_run_page_shows_a_piece_reported_in_another_room_since(
    cast, login, dmm_record, lab_calibrator, dmm_bench
):
    """Where each instrument is, read again at every poll (R8c): the calibrator's RFID zone
    reader reports it in another room after the run started."""
    from metrolab.environment.models import Room

    dmm_record.room = Room.objects.create(code="LAB-E1", name="电学实验室 1")
    dmm_record.save()
    Room.objects.create(code="MOBILE-1", name="移动实验室")
    run = _start(cast, dmm_record, lab_calibrator, dmm_bench)
    client = login(cast["checker"])
    html = _live(client, run)
    assert re.search(r'data-testid="where-source">未报告 </td>', html)
    lab_calibrator.location = "MOBILE-1"
    lab_calibrator.save()
    html = _live(client, run)
    assert re.search(
        r'data-testid="where-source"><code>MOBILE-1</code> <span class="badge red"'
        r' data-where="elsewhere">在其他房间</span>',
        html,
    )
