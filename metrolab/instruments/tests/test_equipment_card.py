"""The equipment card's instrument panel (issue 16; R8a): the connection set from a friendly
form (refusals on the form, nothing written), Identify against the register and Self-test on
the simulated bench, every check kept with its transcript (on the card, on the checks page and
in the API), who sees the form and the buttons, the runs that used the piece, in zh-Hans and
with constant queries."""

from __future__ import annotations

import json
import socket

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from metrolab.equipment.models import Equipment
from metrolab.instruments.models import ConnectionCheck, InstrumentConnection, Run
from metrolab.instruments.tests.runs_fixtures import *  # noqa: F403
from metrolab.instruments.tests.runs_fixtures import TIMEOUT_MS
from metrolab.items.tests.fixtures import customers, make_commission, receive  # noqa: F401
from metrolab.records.tests.fixtures import *  # noqa: F403
from metrolab.tasks.tests.fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

API = "/api/v1/instruments"


@pytest.fixture
def en(client, settings):
    """The English messages (the UI's default is Chinese)."""
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def bare_meter():
    """A piece of equipment without a connection."""
    return Equipment.objects.create(
        asset_no="YQ-301", name="数字多用表", model="34401A", serial_no="MY4100"
    )


def card(equipment) -> str:
    return reverse("equipment:detail", args=[equipment.pk])


def edit_url(equipment) -> str:
    return reverse("instrument_connections:edit", args=[equipment.pk])


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def visa_form(resource: str, driver: str = "fluke55xx", timeout: int = TIMEOUT_MS, **extra):
    return {"kind": "visa", "resource": resource, "driver": driver, "timeout_ms": timeout, **extra}


def messages_of(answer) -> list[str]:
    return [str(m) for m in answer.context["messages"]]


# --- the panel ---------------------------------------------------------------------------


def test_panel_without_a_connection_offers_the_form(cast, login, client, bare_meter, en):
    login(cast["equipment_manager"])
    page = client.get(card(bare_meter)).content.decode()
    assert 'data-testid="instrument-panel"' in page
    assert "This piece has no instrument connection" in page
    assert 'data-testid="connection-form"' in page
    assert f'action="{edit_url(bare_meter)}"' in page
    # no connection: nothing to identify
    assert 'data-testid="identify-form"' not in page
    # the drivers, grouped by the kinds they fit
    assert '<option value="fluke55xx">Multifunction calibrator (Fluke 55xx)</option>' in page
    assert '<optgroup label="Modbus (TCP or RTU)">' in page


def test_panel_with_a_connection_shows_it(cast, login, client, lab_calibrator, dmm_bench, en):
    login(cast["checker"])
    page = client.get(card(lab_calibrator)).content.decode()
    resource = lab_calibrator.instrument_connection.connection["resource"]
    assert f'<code data-testid="connection-address">{resource}</code>' in page
    assert "VISA (TCPIP / USB / GPIB / ASRL)" in page
    assert "<code>fluke55xx</code>" in page
    assert f"{TIMEOUT_MS} ms" in page
    assert "Not identified yet." in page
    assert "Not run yet." in page
    assert 'data-testid="identify-form"' in page and 'data-testid="self-test-form"' in page
    # a checker reads and checks; changing the connection is not theirs
    assert 'data-testid="connection-form"' not in page


def test_panel_in_chinese(cast, login, client, lab_calibrator, dmm_bench):
    login(cast["metrologist"])
    client.post(reverse("instrument_connections:identify", args=[lab_calibrator.pk]))
    page = client.get(card(lab_calibrator)).content.decode()
    for text in ("仪器连接", "连接方式", "驱动程序", "与设备台账一致", "识别", "自检", "更改连接"):
        assert text in page, text
    assert "Instrument connection" not in page and "Last check" not in page


def test_who_sees_the_form_and_the_buttons(cast, login, client, lab_calibrator, dmm_bench, en):
    for who, form, buttons in (
        ("admin", True, True),
        ("equipment_manager", True, True),
        ("metrologist", True, True),
        ("checker", False, True),
        ("receptionist", False, True),
    ):
        page = login(cast[who]).get(card(lab_calibrator)).content.decode()
        assert ('data-testid="connection-form"' in page) is form, who
        assert ('data-testid="identify-form"' in page) is buttons, who
    # the pages refuse those the panel does not offer them to
    login(cast["checker"])
    assert client.post(edit_url(lab_calibrator), visa_form("x")).status_code == 403
    assert client.get(edit_url(lab_calibrator)).status_code == 403
    login(cast["customer"])
    url = reverse("instrument_connections:identify", args=[lab_calibrator.pk])
    assert client.post(url).status_code == 403
    assert not ConnectionCheck.objects.exists()


# --- setting the connection ----------------------------------------------------------------


def test_set_a_connection_of_each_kind(cast, login, client, bare_meter, en):
    login(cast["equipment_manager"])
    answer = client.post(
        edit_url(bare_meter), visa_form("TCPIP0::10.0.0.5::5025::SOCKET", "dmm34401", 1500)
    )
    assert answer.status_code == 302
    assert answer["Location"] == card(bare_meter) + "#instrument"
    link = InstrumentConnection.objects.get(equipment=bare_meter)
    assert link.connection == {
        "kind": "visa",
        "resource": "TCPIP0::10.0.0.5::5025::SOCKET",
        "driver": "dmm34401",
        "timeout_ms": 1500,
    }
    assert link.driver == "dmm34401"
    cases = (
        (
            {"kind": "modbus", "modbus_mode": "tcp", "host": "10.0.0.7", "tcp_port": 1502,
             "unit": 3, "driver": "pressure_modbus", "timeout_ms": 800},
            {"kind": "modbus", "host": "10.0.0.7", "port": 1502, "unit": 3,
             "driver": "pressure_modbus", "timeout_ms": 800},
        ),
        (
            {"kind": "modbus", "modbus_mode": "rtu", "serial_port": "/dev/ttyUSB0",
             "baudrate": 38400, "driver": "pressure_modbus", "timeout_ms": 900},
            {"kind": "modbus", "method": "rtu", "port": "/dev/ttyUSB0", "baudrate": 38400,
             "unit": 1, "driver": "pressure_modbus", "timeout_ms": 900},
        ),
        (
            {"kind": "serial", "serial_port": "/dev/ttyS1", "baudrate": "", "driver": "bath",
             "timeout_ms": 2000},
            {"kind": "serial", "port": "/dev/ttyS1", "baudrate": 9600, "driver": "bath",
             "timeout_ms": 2000},
        ),
    )  # fmt: skip
    for posted, stored in cases:
        answer = client.post(edit_url(bare_meter), posted)
        assert answer.status_code == 302, answer.content.decode()
        link.refresh_from_db()
        assert link.connection == stored
    # the card shows what was set
    page = client.get(card(bare_meter)).content.decode()
    assert '<code data-testid="connection-address">/dev/ttyS1</code>' in page
    assert "Serial line (ASCII)" in page and "9600" in page


def test_the_form_shows_the_stored_connection_and_keeps_what_it_does_not_show(
    cast, login, client, bare_meter, en
):
    link = InstrumentConnection.objects.create(
        equipment=bare_meter,
        driver="dmm34401",
        connection={
            "kind": "visa",
            "resource": "sim/dmm.yaml::INSTR",
            "driver": "dmm34401",
            "timeout_ms": 700,
            "backend": "sim/dmm.yaml@sim",
        },
    )
    login(cast["equipment_manager"])
    page = client.get(edit_url(bare_meter)).content.decode()
    assert 'value="sim/dmm.yaml::INSTR"' in page and 'value="700"' in page
    answer = client.post(edit_url(bare_meter), visa_form("sim/dmm.yaml::INSTR", "dmm34401", 900))
    assert answer.status_code == 302
    link.refresh_from_db()
    assert link.connection["backend"] == "sim/dmm.yaml@sim"
    assert link.connection["timeout_ms"] == 900


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        (visa_form(""), "resource", "Required."),
        (
            visa_form("TCPIP0::10.0.0.5::5025::SOCKET", "pressure_modbus"),
            "driver",
            "This driver cannot use a visa connection.",
        ),
        (visa_form("TCPIP0::10.0.0.5::5025::SOCKET", timeout=0), "timeout_ms", "1 to 60000"),
        (visa_form("TCPIP0::10.0.0.5::5025::SOCKET", timeout=70000), "timeout_ms", "1 to 60000"),
        (
            {"kind": "modbus", "modbus_mode": "tcp", "host": "", "driver": "pressure_modbus",
             "timeout_ms": 500},
            "host",
            "Give the host (Modbus TCP) or the port (Modbus RTU).",
        ),
        (
            {"kind": "serial", "serial_port": "", "driver": "bath", "timeout_ms": 500},
            "serial_port",
            "Required.",
        ),
        (visa_form("TCPIP0::x::1::SOCKET", driver="nope"), "driver", "Select a valid choice."),
    ],
)  # fmt: skip
def test_a_refused_connection_is_shown_on_the_form_and_nothing_is_written(
    cast, login, client, lab_calibrator, en, posted, field, message
):
    before = dict(lab_calibrator.instrument_connection.connection)
    login(cast["metrologist"])
    answer = client.post(edit_url(lab_calibrator), posted)
    assert answer.status_code == 200
    form = answer.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    assert 'data-testid="connection-form"' in answer.content.decode()
    lab_calibrator.instrument_connection.refresh_from_db()
    assert lab_calibrator.instrument_connection.connection == before


def test_the_api_refuses_a_connection_sent_as_a_json_string(cast, login, client, bare_meter):
    login(cast["equipment_manager"])
    url = f"{API}/connections/{bare_meter.pk}"
    good = {"kind": "visa", "resource": "TCPIP0::1.2.3.4::5025::SOCKET", "driver": "fluke55xx"}
    for body in (json.dumps({"connection": good}), {"connection": json.dumps(good)}):
        answer = client.put(url, json.dumps(body), content_type="application/json")
        assert answer.status_code == 422, answer.content
        assert "error" in answer.json()
    assert not InstrumentConnection.objects.filter(equipment=bare_meter).exists()


# --- identify, self-test, the checks and their transcripts --------------------------------


def test_identify_matching_the_register(cast, login, client, lab_calibrator, dmm_bench, en):
    login(cast["metrologist"])
    url = reverse("instrument_connections:identify", args=[lab_calibrator.pk])
    answer = client.post(url, follow=True)
    assert messages_of(answer) == ["Identified: FLUKE 5522A 9876543; it matches the register."]
    check = ConnectionCheck.objects.get()
    assert check.kind == "identify" and check.outcome == "passed" and check.passed
    assert check.by == cast["metrologist"]
    assert check.identity == {
        "manufacturer": "FLUKE",
        "model": "5522A",
        "serial": "9876543",
        "firmware": "2.1",
    }
    assert check.transcript == [[">", "*IDN?"], ["<", "FLUKE,5522A,9876543,2.1"]]
    assert check.problems == [] and check.dropped_lines == 0
    page = answer.content.decode()
    assert "matches the register" in page
    assert "&gt; *IDN?\n&lt; FLUKE,5522A,9876543,2.1" in page  # the transcript, expanded
    assert 'data-outcome="passed"' in page


def test_identify_mismatching_the_register(cast, login, client, lab_calibrator, dmm_bench, en):
    lab_calibrator.serial_no = "1234567"
    lab_calibrator.save()
    login(cast["checker"])
    url = reverse("instrument_connections:identify", args=[lab_calibrator.pk])
    answer = client.post(url, follow=True)
    mismatch = "The serial no. is 9876543; the register says 1234567."
    assert messages_of(answer) == [
        f"Identified: FLUKE 5522A 9876543; it does not match the register: {mismatch}"
    ]
    check = ConnectionCheck.objects.get()
    assert check.outcome == "mismatch" and not check.passed
    assert check.problems == [mismatch]
    panel = answer.content.decode().split('data-testid="register-match"')[1].split("</dd>")[0]
    assert "does not match the register" in panel and mismatch in panel


def test_identify_an_unreachable_instrument(cast, login, client, lab_calibrator, en):
    link = lab_calibrator.instrument_connection
    link.connection = {**link.connection, "resource": f"TCPIP0::127.0.0.1::{closed_port()}::SOCKET"}
    link.save()
    login(cast["metrologist"])
    url = reverse("instrument_connections:identify", args=[lab_calibrator.pk])
    answer = client.post(url, follow=True)
    [message] = messages_of(answer)
    assert message.startswith("Equipment YQ-201 多功能校准器 did not answer: ")
    check = ConnectionCheck.objects.get()
    assert check.outcome == "unreachable" and check.kind == "identify"
    assert check.problems == [message.split("did not answer: ")[1]]
    link.refresh_from_db()
    assert link.identity == {} and link.identified_at is None
    assert 'data-outcome="unreachable"' in answer.content.decode()
    # the API answers the refusal, and keeps that check too
    answer = client.post(
        f"{API}/connections/{lab_calibrator.pk}/identify", {}, content_type="application/json"
    )
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "instrument_unreachable"
    assert ConnectionCheck.objects.filter(outcome="unreachable").count() == 2


def test_self_test_passing_and_failing(cast, login, client, lab_calibrator, dmm_bench, en):
    login(cast["receptionist"])
    url = reverse("instrument_connections:self_test", args=[lab_calibrator.pk])
    answer = client.post(url, follow=True)
    assert messages_of(answer) == ["Self-test passed."]
    passed = ConnectionCheck.objects.get()
    assert passed.kind == "self_test" and passed.outcome == "passed"
    sent = [text for direction, text in passed.transcript if direction == ">"]
    assert sent[:2] == ["*IDN?", "*TST?"]
    dmm_bench.calibrator.faults.self_test_code = 3
    answer = client.post(url, follow=True)
    assert messages_of(answer) == ["Self-test failed: self-test failed: code 3"]
    failed = ConnectionCheck.objects.exclude(pk=passed.pk).get()
    assert failed.outcome == "failed" and failed.problems == ["self-test failed: code 3"]
    assert [">", "*TST?"] in failed.transcript and ["<", "3"] in failed.transcript
    last = answer.content.decode().split('data-testid="last-self-test"')[1].split("</dd>")[0]
    assert "failed" in last
    # the earlier check is listed below the last, without its transcript
    page = answer.content.decode()
    assert f'data-testid="check-{failed.pk}"' in page and f'data-testid="check-{passed.pk}"' in page
    assert page.count('data-testid="transcript"') == 1


def test_the_checks_page_and_api_list_every_check(
    cast, login, client, lab_calibrator, dmm_bench, en
):
    login(cast["metrologist"])
    identify = reverse("instrument_connections:identify", args=[lab_calibrator.pk])
    for _ in range(7):
        client.post(identify)
    card_page = client.get(card(lab_calibrator)).content.decode()
    checks_url = reverse("instrument_connections:checks", args=[lab_calibrator.pk])
    assert f'href="{checks_url}"' in card_page and "All checks (7)" in card_page
    assert card_page.count('data-testid="check-') == 5  # the last and four earlier
    page = client.get(checks_url).content.decode()
    assert page.count('data-testid="transcript"') == 7
    assert page.count("&gt; *IDN?") == 7
    answer = client.get(f"{API}/connections/{lab_calibrator.pk}/checks?limit=3")
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 7 and len(body["items"]) == 3
    newest = ConnectionCheck.objects.order_by("-at", "-pk").first()
    item = body["items"][0]
    assert item["id"] == newest.pk
    assert item["kind"] == "identify" and item["outcome"] == "passed" and item["passed"]
    assert item["by"] == "metrologist"
    assert item["transcript"] == [[">", "*IDN?"], ["<", "FLUKE,5522A,9876543,2.1"]]
    assert client.get(f"{API}/connections/999999/checks").status_code == 404


def test_the_transcript_of_a_check_is_capped(cast, lab_calibrator, dmm_bench, monkeypatch):
    from metrolab.instruments import services

    monkeypatch.setattr(services, "MAX_CHECK_LINES", 3)
    dmm_bench.calibrator.faults.push_error('-222,"Data out of range"')
    assert services.connection_self_test(equipment=lab_calibrator, actor=cast["metrologist"])
    check = ConnectionCheck.objects.get()
    assert len(check.transcript) == 3 and check.dropped_lines > 0


def test_the_card_needs_the_same_queries_for_n_and_ten_n_checks(
    cast, login, client, lab_calibrator, en
):
    link = lab_calibrator.instrument_connection
    metrologist = cast["metrologist"]

    def add_checks(n):
        for i in range(n):
            ConnectionCheck.objects.create(
                connection=link,
                kind=ConnectionCheck.Kind.SELF_TEST if i % 2 else ConnectionCheck.Kind.IDENTIFY,
                at=timezone.now(),
                by=metrologist,
                outcome=ConnectionCheck.Outcome.PASSED,
                transcript=[[">", "*IDN?"], ["<", "FLUKE,5522A,9876543,2.1"]],
            )

    login(metrologist)
    add_checks(3)
    with CaptureQueriesContext(db_connection) as few:
        assert client.get(card(lab_calibrator)).status_code == 200
    add_checks(27)
    with CaptureQueriesContext(db_connection) as many:
        assert client.get(card(lab_calibrator)).status_code == 200
    assert len(many) == len(few)


# --- the runs that used the piece -----------------------------------------------------------


def test_the_runs_that_used_the_piece(cast, login, client, dmm_record, lab_calibrator, en):
    def run(roles):
        return Run.objects.create(
            task=dmm_record.task,
            record=dmm_record,
            procedure_code="dmm-dc-voltage",
            procedure_version="1",
            started_by=cast["metrologist"],
            roles=roles,
        )

    other = Equipment.objects.create(asset_no="YQ-999", name="其他", model="X")
    used = run({"source": lab_calibrator.pk})
    also = run({"reference": other.pk, "source": lab_calibrator.pk})
    # a piece whose pk only contains the calibrator's digits is another piece
    unrelated = run({"source": int(f"{lab_calibrator.pk}1")})
    login(cast["metrologist"])
    page = client.get(card(lab_calibrator)).content.decode()
    runs = page.split('data-testid="runs"')[1].split("</ul>")[0]
    assert f"dmm-dc-voltage #{used.pk}" in runs and f"dmm-dc-voltage #{also.pk}" in runs
    assert f"#{unrelated.pk}" not in runs
    # each links to its run page, its status a badge
    assert f'href="/instruments/runs/{used.pk}/"' in runs and 'class="badge' in runs
    other_page = client.get(card(other)).content.decode()
    assert f"dmm-dc-voltage #{also.pk}" in other_page.split('data-testid="runs"')[1]


def test_a_modbus_tcp_connection_without_a_host_is_refused(cast, login, client, bare_meter):
    """Accepted before (the port alone sufficed), it then failed identify with a server error
    (the TCP transport needs the host)."""
    login(cast["equipment_manager"])
    url = f"{API}/connections/{bare_meter.pk}"
    tcp = {"kind": "modbus", "port": 502, "driver": "pressure_modbus"}
    rtu = {"kind": "modbus", "method": "rtu", "port": 5, "driver": "pressure_modbus"}
    for connection, field in ((tcp, "connection.host"), (rtu, "connection.port")):
        answer = client.put(url, {"connection": connection}, content_type="application/json")
        assert answer.status_code == 422, answer.content
        error = answer.json()["error"]
        assert error["code"] == "connection_invalid"
        assert [".".join(d["loc"]) for d in error["details"]] == [field]
    assert not InstrumentConnection.objects.filter(equipment=bare_meter).exists()
