"""Anchors of the audit chain (R7.2b, R7.2d, R6.2c): the worker notes the chain's head every hour
and at each verification, in the database and in an append-only file in the backup location,
so that a chain rewritten whole — by someone who could lift the triggers — no longer verifies,
and `metrolab audit verify` names the anchor it lost.

Each test has an anchor file of its own (settings.METROLAB_AUDIT_ANCHOR_FILE, set by the root
conftest).
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from metrolab.core import audit
from metrolab.core.models import AuditEvent, AuditVerification
from metrolab.core.permissions import SYSTEM
from metrolab.core.services import (
    audit_anchor,
    audit_anchor_scheduled,
    audit_verification_request,
    audit_verification_run,
    organisation_update,
)
from metrolab.core.tests import audit_tamper as tamper
from metrolab.core.worker import Every, Worker

pytestmark = pytest.mark.django_db

HOUR = 3600.0


def _write_many(n: int) -> None:
    for i in range(n):
        organisation_update(
            data={"name": f"Lab {i}", "phone": str(i)}, reason=f"edit {i}", actor=SYSTEM
        )


def _file_lines() -> list[dict]:
    path = settings.METROLAB_AUDIT_ANCHOR_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _verify_fails() -> CommandError:
    with pytest.raises(CommandError) as excinfo:
        call_command("audit", "verify")
    return excinfo.value


def test_an_anchor_notes_the_head_in_the_database_and_in_the_file():
    _write_many(3)
    head_seq, head_hash = audit.chain_head()
    anchor = audit_anchor_scheduled()
    assert anchor.status == AuditVerification.Status.ANCHORED
    assert (anchor.head_seq, anchor.head_hash) == (head_seq, head_hash)
    [line] = _file_lines()
    assert list(line) == ["time", "seq", "hash", "kind"]
    assert (line["seq"], line["hash"], line["kind"]) == (head_seq, head_hash, "hourly")
    noted = dt.datetime.fromisoformat(line["time"])
    assert abs(noted - anchor.finished_at) < dt.timedelta(seconds=1)
    # The anchor itself is audited, after the head it names.
    event = AuditEvent.objects.get(seq=head_seq + 1)
    assert (event.action, event.object_id) == ("audit.anchor", str(anchor.pk))
    # Anchors are not verifications: the audit page still shows the last verification.
    from metrolab.core.selectors import audit_verification_latest

    assert audit_verification_latest() is None


def test_an_empty_chain_is_not_anchored():
    audit.remove_guards()
    tamper.execute(f"DELETE FROM {tamper.TABLE}")
    audit.install_guards()
    assert audit.chain_head() == (0, audit.GENESIS_HASH)
    assert audit_anchor() is None
    assert _file_lines() == []
    assert not AuditVerification.objects.exists()


def test_each_verification_is_an_anchor_too():
    _write_many(2)
    verification = audit_verification_request(reason="check", actor=SYSTEM)
    audit_verification_run(verification_id=verification.pk)
    verification.refresh_from_db()
    assert verification.status == AuditVerification.Status.INTACT
    [line] = _file_lines()
    assert (line["seq"], line["hash"], line["kind"]) == (
        verification.head_seq,
        verification.head_hash,
        "verification",
    )


def test_a_good_chain_passes_against_every_anchor(capsys):
    _write_many(3)
    audit_anchor()
    _write_many(2)
    verification = audit_verification_request(actor=SYSTEM)
    audit_verification_run(verification_id=verification.pk)
    _write_many(2)
    audit_anchor()
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert "audit chain intact" in out
    path = settings.METROLAB_AUDIT_ANCHOR_FILE
    assert f"checked against 6 anchors: 3 in the database, 3 in {path}" in out
    call_command("audit", "verify", "--json")
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (report["ok"], report["anchor"], report["anchors_checked"]) == (True, None, 6)


def test_a_whole_chain_rewritten_is_caught_by_the_anchor_file(capsys):
    """Someone lifts the triggers, rewrites every event with recomputed hashes and removes
    the anchors kept in the database. The chain is consistent in itself; the anchor file in
    the backup location still names the old head, and verify says which line."""
    _write_many(4)
    first = audit_anchor()
    _write_many(3)
    second = audit_anchor()
    lines = _file_lines()
    tamper.rewrite_chain(from_seq=1, drop_database_anchors=True)
    assert not AuditVerification.objects.exists()
    assert audit.verify_chain(anchors=[]).ok  # without anchors it would pass

    error = _verify_fails()
    assert error.returncode == 3
    message = str(error)
    path = settings.METROLAB_AUDIT_ANCHOR_FILE
    assert f"event {first.head_seq} differs from anchor #{first.head_seq}" in message
    assert f"of {lines[0]['time']} ({path}, line 1)" in message
    report = audit.verify_chain()
    assert not report.ok
    assert report.anchor == audit.Anchor(
        first.head_seq, first.head_hash, lines[0]["time"], f"{path}, line 1"
    )
    assert report.first_bad_seq == first.head_seq
    # The JSON form names the anchor too.
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--json")
    data = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert data["anchor"]["seq"] == first.head_seq
    assert data["anchor"]["source"] == f"{path}, line 1"
    assert second.head_seq > first.head_seq


def test_the_database_anchor_is_named_when_it_survives():
    _write_many(4)
    anchor = audit_anchor()
    tamper.rewrite_chain(from_seq=2)
    error = _verify_fails()
    assert error.returncode == 3
    assert f"(database, anchor #{anchor.pk})" in str(error)


def test_a_chain_cut_short_is_caught_by_the_anchor_file():
    _write_many(6)
    anchor = audit_anchor()
    audit.remove_guards()
    tamper.execute(f"DELETE FROM {tamper.TABLE} WHERE seq > %s", [anchor.head_seq - 3])
    tamper.execute(f"DELETE FROM {AuditVerification._meta.db_table}")
    audit.install_guards()
    error = _verify_fails()
    assert error.returncode == 3
    assert f"events from {anchor.head_seq - 2} on are missing: anchor #{anchor.head_seq}" in str(
        error
    )
    assert "line 1" in str(error)


def test_a_broken_link_still_exits_1_before_any_anchor():
    _write_many(5)
    audit_anchor()
    audit.remove_guards()
    tamper.execute(f"UPDATE {tamper.TABLE} SET reason = 'forged' WHERE seq = 2")
    audit.install_guards()
    error = _verify_fails()
    assert error.returncode == 1
    assert "event 2 was altered" in str(error)


def test_an_unreadable_anchor_file_is_not_a_pass():
    _write_many(2)
    audit_anchor()
    path = settings.METROLAB_AUDIT_ANCHOR_FILE
    with path.open("a") as f:
        f.write("not an anchor\n")
    error = _verify_fails()
    assert error.returncode == 3
    assert f"{path}, line 2 is not an anchor" in str(error)


def test_the_hourly_check_tells_the_quality_managers_of_a_rewrite(cast):
    from metrolab.notifications.models import Notification

    manager = cast["quality_manager"]
    manager.email = "qm@lab.example"
    manager.save()
    _write_many(3)
    audit_anchor_scheduled()
    assert not Notification.objects.filter(event="audit.chain_broken").exists()
    tamper.rewrite_chain(from_seq=1, drop_database_anchors=True)
    audit_anchor_scheduled()
    [told] = Notification.objects.filter(event="audit.chain_broken")
    assert told.recipient == manager
    assert told.subject == "审计日志未通过完整性检查"  # in the lab's language
    problem = told.payload["problem"]
    assert "(the chain was rewritten)" in problem
    assert f"{settings.METROLAB_AUDIT_ANCHOR_FILE}, line 1" in problem
    assert problem in told.body
    assert told.deliveries.get(channel="email").target == "qm@lab.example"


# --- The worker's schedule ----


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_every_runs_at_start_then_once_the_period_has_passed():
    clock, runs = FakeClock(), []
    every = Every(HOUR, lambda: runs.append(clock.now), clock=clock)
    assert every.tick() is True
    clock.now += HOUR - 1
    assert every.tick() is False
    clock.now += 1
    assert every.tick() is True
    assert runs == [1000.0, 1000.0 + HOUR]


def test_every_survives_a_failure_and_tries_again_later(caplog):
    clock, calls = FakeClock(), []

    def flaky():
        calls.append(clock.now)
        if len(calls) == 1:
            raise OSError("backup location not mounted")

    every = Every(HOUR, flaky, retry=300, clock=clock)
    with caplog.at_level(logging.ERROR, logger="metrolab.core.worker"):
        assert every.tick() is False
    assert "backup location not mounted" in caplog.text
    clock.now += 299
    assert every.tick() is False
    clock.now += 1
    assert every.tick() is True
    assert len(calls) == 2


@pytest.mark.django_db(transaction=True)  # the worker closes and reopens connections
def test_the_worker_loop_anchors_at_start_and_whenever_an_hour_has_passed():
    """The real worker loop (tasks included), with a clock that moves 20 minutes at each
    wait instead of sleeping: anchors at 0, 60 and 120 minutes, and a queued verification
    is run (and anchored) on the way."""
    _write_many(2)
    clock = FakeClock()
    waits = []
    worker = Worker(
        scheduled=[Every(HOUR, audit_anchor_scheduled, clock=clock).tick],
        sleep=lambda seconds: _advance(worker, clock, waits, seconds),
        queue_names=["default"],
        interval=1,
        backend_name="default",
        startup_delay=False,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    verification = audit_verification_request(
        reason="queued before the worker starts", actor=SYSTEM
    )
    worker.run_forever()
    assert len(waits) == 7  # 0, 20, ..., 120 minutes
    anchors = AuditVerification.objects.filter(status=AuditVerification.Status.ANCHORED)
    assert anchors.count() == 3
    verification.refresh_from_db()
    assert verification.status == AuditVerification.Status.INTACT
    kinds = [line["kind"] for line in _file_lines()]
    assert sorted(kinds) == ["hourly", "hourly", "hourly", "verification"]
    call_command("audit", "verify")


def _advance(worker: Worker, clock: FakeClock, waits: list, seconds: float) -> None:
    waits.append(seconds)
    clock.now += 20 * 60
    if len(waits) == 7:
        worker.running = False


def test_the_worker_command_runs_the_anchor_schedule(monkeypatch):
    """`metrolab worker` (started by `serve` and `demo`) anchors when it starts; with
    --no-audit-anchors (the extra processes of --processes N) it does not."""
    _write_many(2)
    seen = []

    def one_cycle(worker):
        seen.append(worker)
        worker.run_scheduled()

    monkeypatch.setattr(Worker, "run_forever", one_cycle)
    monkeypatch.setattr(Worker, "configure_signals", lambda worker: None)
    call_command("worker", verbosity=0)
    assert AuditVerification.objects.filter(status=AuditVerification.Status.ANCHORED).count() == 1
    assert len(_file_lines()) == 1
    call_command("worker", "--no-audit-anchors", verbosity=0)
    assert seen[-1].scheduled == []
    assert len(_file_lines()) == 1


def test_the_audit_page_shows_the_last_verification_not_the_anchors(cast, client):
    _write_many(2)
    verification = audit_verification_request(actor=SYSTEM)
    audit_verification_run(verification_id=verification.pk)
    _write_many(1)
    audit_anchor()
    client.force_login(cast["quality_manager"])
    html = client.get("/audit/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'class="verification intact"' in html
    assert "head anchored" not in html


def test_a_verification_that_finds_the_chain_broken_tells_the_quality_managers(cast):
    from metrolab.notifications.models import Notification

    _write_many(4)
    audit.remove_guards()
    tamper.execute(f"UPDATE {tamper.TABLE} SET reason = 'forged' WHERE seq = 3")
    audit.install_guards()
    verification = audit_verification_request(actor=SYSTEM)
    audit_verification_run(verification_id=verification.pk)
    verification.refresh_from_db()
    assert verification.status == AuditVerification.Status.BROKEN
    [told] = Notification.objects.filter(event="audit.chain_broken")
    assert told.recipient == cast["quality_manager"]
    assert (
        told.payload["problem"]
        == "event 3: event 3 was altered (its content no longer matches its hash)"
    )
    assert _file_lines() == []  # a broken chain's head is no anchor
