"""`/api/v1/instruments/` (issue 16; R8a, R8b, R8c): connections (checked, identify against
the register with a mismatch reported, self-test), a run started, confirmed and finished
through the API on the simulated bench, pause / resume / abort, the events paginated, strict
bodies, the one error shape."""

from __future__ import annotations

import pytest

from metrolab.instruments.models import Run
from metrolab.instruments.tests.runs_fixtures import *  # noqa: F403
from metrolab.instruments.tests.runs_fixtures import TIMEOUT_MS
from metrolab.items.tests.fixtures import customers, make_commission, receive  # noqa: F401
from metrolab.records.tests.fixtures import *  # noqa: F403
from metrolab.tasks.tests.fixtures import *  # noqa: F403

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

API = "/api/v1/instruments"


def _json(client, method, url, body=None):
    return getattr(client, method)(url, body, content_type="application/json")


def test_connection_put_get_and_checked(cast, login, client, lab_calibrator, dmm_bench):
    login(cast["equipment_manager"])
    url = f"{API}/connections/{lab_calibrator.pk}"
    answer = _json(client, "put", url, {"connection": {"kind": "usb", "driver": "nope"}})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "connection_invalid"
    fields = {".".join(d["loc"]) for d in error["details"]}
    assert {"connection.kind", "connection.driver"} <= fields, error
    answer = _json(client, "put", url, {"connection": {"kind": "visa", "driver": "fluke55xx"}})
    assert answer.status_code == 422
    assert "connection.resource" in answer.content.decode()
    # strict bodies: an unknown key is refused
    good = dmm_bench.calibrator.connection("fluke55xx", TIMEOUT_MS)
    answer = _json(client, "put", url, {"connection": good, "extra": 1})
    assert answer.status_code == 422
    answer = _json(client, "put", url, {"connection": good})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["driver"] == "fluke55xx" and body["connection"] == good
    assert body["asset_no"] == "YQ-201"
    assert client.get(url).json()["connection"] == good


def test_identify_reports_the_identity_and_a_mismatch(
    cast, login, client, lab_calibrator, dmm_bench
):
    login(cast["metrologist"])
    url = f"{API}/connections/{lab_calibrator.pk}/identify"
    answer = _json(client, "post", url, {})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["identity"] == {
        "manufacturer": "FLUKE",
        "model": "5522A",
        "serial": "9876543",
        "firmware": "2.1",
    }
    assert body["matches"] is True and body["mismatches"] == []
    lab_calibrator.refresh_from_db()
    assert lab_calibrator.instrument_connection.identity["serial"] == "9876543"
    assert lab_calibrator.instrument_connection.identified_at is not None
    # another instrument answers on that port
    dmm_bench.calibrator.faults.serial = "1111111"
    body = _json(client, "post", url, {}).json()
    assert body["matches"] is False
    assert body["mismatches"] == ["The serial no. is 1111111; the register says 9876543."]
    # self-test
    answer = _json(client, "post", f"{API}/connections/{lab_calibrator.pk}/self-test", {})
    assert answer.json() == {"passed": True, "failures": []}


def test_identify_unreachable_and_without_connection(
    cast, login, client, lab_calibrator, dmm_bench
):
    login(cast["metrologist"])
    url = f"{API}/connections/{lab_calibrator.pk}/identify"
    dmm_bench.calibrator.faults.silent = True
    answer = _json(client, "post", url, {})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "instrument_unreachable"
    lab_calibrator.instrument_connection.delete()
    answer = _json(client, "post", url, {})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "no_connection"


def test_a_run_through_the_api(
    cast, login, client, dmm_record, lab_calibrator, dmm_bench, execute, no_sleep
):
    login(cast["metrologist"])
    body = {
        "record": dmm_record.pk,
        "procedure": "dmm-dc-voltage",
        "equipment": {"source": lab_calibrator.pk},
        "connections": {"uut": dmm_bench.dmm.connection("dmm34401", TIMEOUT_MS)},
    }
    assert _json(client, "post", f"{API}/runs/", {**body, "extra": 1}).status_code == 422
    answer = _json(client, "post", f"{API}/runs/", body)
    assert answer.status_code == 201, answer.content
    started = answer.json()
    assert started["status"] == "queued" and started["roles"] == {"source": lab_calibrator.pk}
    assert started["procedure"] == "dmm-dc-voltage" and started["started_by"] == "metrologist"
    run = execute(Run.objects.get(pk=started["id"]))
    detail = client.get(f"{API}/runs/{run.pk}").json()
    assert detail["status"] == "waiting_prompt"
    assert detail["events"][-1]["kind"] == "prompt"
    assert len(detail["events"]) <= 20
    # resume is refused while a prompt waits
    answer = _json(client, "post", f"{API}/runs/{run.pk}/resume", {})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "run_status"
    answer = _json(client, "post", f"{API}/runs/{run.pk}/confirm", {})
    assert answer.status_code == 200 and answer.json()["status"] == "queued"
    run = execute(run)
    detail = client.get(f"{API}/runs/{run.pk}").json()
    assert detail["status"] == "done", detail["reason"]
    assert detail["state"]["results"]["6"]["nominal"] == "-10"
    events = client.get(f"{API}/runs/{run.pk}/events?limit=5&offset=0").json()
    assert len(events["items"]) == 5 and events["count"] > 100
    first = events["items"][0]
    assert (first["kind"], first["role"], first["text"]) == ("command", "source", "*IDN?")
    dmm_record.refresh_from_db()
    assert len([k for k in dmm_record.cells if k.startswith("reading.")]) == 20
    # Each reading is on the record's trail with the instrument's identity, its role, the
    # run and the moment the instrument took it (R8b), and the records API shows them.
    written = dmm_record.changes.filter(source="instrument").order_by("at", "pk")
    assert written.count() == 20
    identity = run.state["identities"]["uut"]
    expected = f"{identity['manufacturer']} {identity['model']} S/N {identity['serial']}"
    assert {c.instrument for c in written} == {f"{expected} · uut · #{run.pk}"}
    assert all(run.started_at <= c.at <= run.ended_at for c in written)
    history = client.get(f"/api/v1/records/{dmm_record.pk}/history").json()
    instruments = {c["instrument"] for field in history["fields"] for c in field["changes"]}
    assert f"{expected} · uut · #{run.pk}" in instruments
    page = client.get(f"/records/{dmm_record.pk}/history/")
    assert page.status_code == 200 and f"{expected} · uut · #{run.pk}" in page.text


def test_pause_resume_abort_through_the_api(
    cast, login, client, dmm_record, lab_calibrator, dmm_bench
):
    login(cast["metrologist"])
    body = {
        "record": dmm_record.pk,
        "procedure": "dmm-dc-voltage",
        "equipment": {"source": lab_calibrator.pk},
        "connections": {"uut": dmm_bench.dmm.connection("dmm34401", TIMEOUT_MS)},
    }
    run = _json(client, "post", f"{API}/runs/", body).json()
    url = f"{API}/runs/{run['id']}"
    answer = _json(client, "post", f"{url}/pause", {"reason": "lunch"})
    assert answer.json()["status"] == "paused" and answer.json()["reason"] == "lunch"
    assert _json(client, "post", f"{url}/resume", {}).json()["status"] == "queued"
    answer = _json(client, "post", f"{url}/abort", {})
    assert answer.status_code == 422
    answer = _json(client, "post", f"{url}/abort", {"reason": "wrong item"})
    assert answer.json()["status"] == "aborted" and answer.json()["reason"] == "wrong item"
    # another person cannot control it
    login(cast["checker"])
    answer = _json(client, "post", f"{url}/pause", {})
    assert answer.status_code == 403


def test_a_run_refused_for_an_ineligible_piece(
    cast, login, client, dmm_record, lab_calibrator, dmm_bench
):
    lab_calibrator.status = "restricted"
    lab_calibrator.save()
    login(cast["metrologist"])
    body = {
        "record": dmm_record.pk,
        "procedure": "dmm-dc-voltage",
        "equipment": {"source": lab_calibrator.pk},
        "connections": {"uut": dmm_bench.dmm.connection("dmm34401", TIMEOUT_MS)},
    }
    answer = _json(client, "post", f"{API}/runs/", body)
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "not_eligible"
    assert "YQ-201" in answer.json()["error"]["message"]
    answer = _json(client, "post", f"{API}/runs/", {**body, "procedure": "nope"})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "procedure_invalid"
