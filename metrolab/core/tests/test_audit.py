"""The audit log (R6.2c, R7.2b, R7.2d): complete, hash-chained, append-only, verifiable.

Runs on SQLite and, in CI, on PostgreSQL (DATABASE_URL), so the triggers and the tamper
detection are proven on both databases.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from metrolab.core import audit
from metrolab.core.models import (
    AuditBypassError,
    AuditEvent,
    AuditVerification,
    OrganisationProfile,
    User,
)
from metrolab.core.permissions import SYSTEM
from metrolab.core.services import organisation_update, user_roles_set
from metrolab.core.tests import audit_tamper as tamper

pytestmark = pytest.mark.django_db


def _write_many(n: int) -> None:
    for i in range(n):
        organisation_update(
            data={"name": f"Lab {i}", "phone": str(i)}, reason=f"edit {i}", actor=SYSTEM
        )


def test_chain_intact_after_many_writes():
    _write_many(200)
    report = audit.verify_chain()
    assert report.ok, report
    assert report.count == AuditEvent.objects.count() >= 200
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_hash_is_sha256_over_canonical_json_with_previous_hash():
    """Recompute one event's hash independently of audit.compute_hash."""
    organisation_update(data={"name": "示范实验室"}, reason="独立核算", actor=SYSTEM)
    event = AuditEvent.objects.order_by("-seq").first()
    previous = AuditEvent.objects.filter(seq=event.seq - 1).first()
    assert event.prev_hash == (previous.hash if previous else "0" * 64)
    payload = {
        "seq": event.seq,
        "created_at": event.created_at.astimezone(__import__("datetime").UTC).isoformat(
            timespec="microseconds"
        ),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "operation": event.operation,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "changes": event.changes,
        "reason": event.reason,
        "client_ip": event.client_ip,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode()).hexdigest() == event.hash
    assert event.reason == "独立核算"
    assert event.changes["name"]["after"] == "示范实验室"


def test_service_write_records_before_and_after_and_reason():
    organisation_update(data={"name": "A lab", "phone": "1"}, actor=SYSTEM)
    organisation_update(data={"phone": "2"}, reason="new switchboard", actor=SYSTEM)
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "organisation.update"
    assert event.operation == "update"
    assert event.object_type == "core.organisationprofile"
    assert event.object_id == "1"
    assert event.changes == {"phone": {"before": "1", "after": "2"}}
    assert event.reason == "new switchboard"
    assert event.actor_type == "system"


def test_update_and_delete_are_rejected_by_the_database():
    organisation_update(data={"name": "Lab"}, actor=SYSTEM)
    table = AuditEvent._meta.db_table
    for sql in (f"UPDATE {table} SET reason = 'x'", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")
    assert audit.verify_chain().ok


def test_orm_cannot_change_or_delete_events():
    organisation_update(data={"name": "Lab"}, actor=SYSTEM)
    event = AuditEvent.objects.first()
    event.reason = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()


def _tamper(sql: str, params=()) -> None:
    """What an intruder with database access would do: drop the guard, then edit."""
    audit.remove_guards()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    audit.install_guards()


def _broken_at(seq: int) -> None:
    report = audit.verify_chain()
    assert not report.ok
    assert report.first_bad_seq == seq, report
    with pytest.raises(CommandError) as excinfo:
        call_command("audit", "verify")
    assert excinfo.value.returncode == 1
    assert f"event {seq}" in str(excinfo.value)


def test_altered_row_is_detected():
    _write_many(10)
    table = AuditEvent._meta.db_table
    _tamper(f"UPDATE {table} SET reason = %s WHERE seq = %s", ["forged", 5])
    _broken_at(5)


def test_removed_row_is_detected():
    _write_many(10)
    _tamper(f"DELETE FROM {AuditEvent._meta.db_table} WHERE seq = %s", [4])
    _broken_at(4)


def test_row_inserted_outside_the_chain_is_detected():
    _write_many(5)
    last = AuditEvent.objects.order_by("-seq").first()
    table = AuditEvent._meta.db_table
    # A forged event appended with a plausible link but a made-up hash.
    _tamper(
        f"INSERT INTO {table} (seq, created_at, actor_type, actor_id, actor_label, action, "
        "operation, object_type, object_id, changes, reason, client_ip, request_id, prev_hash, "
        "hash) VALUES (%s, %s, 'user', '1', 'admin', 'forged', 'event', '', '', '{}', '', NULL, "
        "'', %s, %s)",
        [last.seq + 1, last.created_at, last.hash, "f" * 64],
    )
    _broken_at(last.seq + 1)


def test_rewritten_hash_breaks_the_next_link():
    """Re-hashing an edited row is not enough: the next row still points to the old hash."""
    _write_many(6)
    event = AuditEvent.objects.get(seq=3)
    fields = {name: getattr(event, name) for name in audit.HASHED_FIELDS}
    fields["reason"] = "forged"
    new_hash = audit.compute_hash(fields)
    _tamper(
        f"UPDATE {AuditEvent._meta.db_table} SET reason = %s, hash = %s WHERE seq = 3",
        ["forged", new_hash],
    )
    _broken_at(4)


def test_verify_command_succeeds_on_intact_chain(capsys):
    _write_many(3)
    call_command("audit", "verify")
    assert "intact" in capsys.readouterr().out
    call_command("audit", "verify", "--json")
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["ok"] is True


def test_writes_are_audited_even_outside_a_service():
    """A later app that forgets the @service decorator still leaves a trace."""
    profile = OrganisationProfile.objects.create(id=1, name="Direct")
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "core.organisationprofile.create"
    profile.delete()
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.operation == "delete"
    assert event.changes["name"] == {"before": "Direct", "after": None}


def test_bulk_writes_that_would_bypass_the_audit_are_refused():
    with pytest.raises(AuditBypassError):
        User.objects.update(is_active=False)
    with pytest.raises(AuditBypassError):
        OrganisationProfile.objects.bulk_create([OrganisationProfile(id=1, name="x")])


def test_secrets_are_never_written_to_the_log():
    user = User.objects.create_user("alice", password="s3cret-pass")
    event = AuditEvent.objects.filter(object_type="core.user", object_id=str(user.pk)).first()
    assert event.changes["password"] == {"before": "***", "after": "***"}
    assert "s3cret" not in json.dumps(list(AuditEvent.objects.values_list("changes", flat=True)))


def test_role_changes_are_recorded(cast):
    user = cast["receptionist"]
    user_roles_set(
        user=user, roles=["receptionist", "checker"], actor=cast["admin"], reason="cover for leave"
    )
    event = AuditEvent.objects.filter(action="user.roles.add").order_by("-seq").first()
    assert event.changes == {"roles": {"added": ["checker"]}}
    assert event.actor_label == "admin"
    assert event.reason == "cover for leave"
    user_roles_set(user=user, roles=["receptionist"], actor=cast["admin"])
    event = AuditEvent.objects.filter(action="user.roles.remove").order_by("-seq").first()
    assert event.changes == {"roles": {"removed": ["checker"]}}


def test_permission_changes_are_recorded(cast):
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.get(name="receptionist")
    perm = Permission.objects.get(codename="view_auditevent")
    group.permissions.add(perm)
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "group.permissions.add"
    assert event.changes == {"permissions": {"added": ["core.view_auditevent"]}}
    group.permissions.clear()
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "group.permissions.remove"


def test_request_context_is_recorded(cast, client):
    client.force_login(cast["admin"])
    response = client.post(
        "/organisation/",
        {"name": "经请求修改", "reason": "profile review"},
        HTTP_X_REQUEST_ID="req-12345678",
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="organisation.update").order_by("-seq").first()
    assert event.actor_type == "user" and event.actor_label == "admin"
    assert event.request_id == "req-12345678"
    assert event.client_ip == "10.1.2.3"
    assert event.reason == "profile review"


def test_audit_page_filters(cast, client):
    _write_many(3)
    client.force_login(cast["quality_manager"])
    html = client.get("/audit/", {"action": "organisation.update"}).content.decode()
    assert html.count("organisation.update") >= 3
    html = client.get("/audit/", {"actor": "nobody"}).content.decode()
    assert "organisation.update" not in html
    html = client.get(
        "/audit/", {"object_type": "core.organisationprofile", "object_id": "1"}
    ).content.decode()
    assert "organisation.update" in html
    html = client.get("/audit/", {"since": "2999-01-01T00:00"}).content.decode()
    assert "organisation.update" not in html


def test_audit_page_is_paginated_with_bounded_queries(cast, client, django_assert_max_num_queries):
    _write_many(120)
    client.force_login(cast["admin"])
    with django_assert_max_num_queries(15):
        response = client.get("/audit/", {"page": 2})
    assert response.status_code == 200
    assert response.context["page"].number == 2
    assert len(response.context["page"].object_list) == 50


@pytest.mark.parametrize("address", ["2001:DB8::1", "::FFFF:10.1.2.3", "10.1.2.3", "garbage"])
def test_client_addresses_are_hashed_as_stored(address, client):
    """Whatever address a request carries, the stored row still matches its hash (an IPv6
    address is normalised before hashing; a non-address is recorded as none)."""
    client.post("/login/", {"username": "nobody", "password": "x"}, REMOTE_ADDR=address)
    event = AuditEvent.objects.filter(action="auth.login_failed").last()
    assert event is not None
    assert audit.verify_chain().ok
    if address == "garbage":
        assert event.client_ip is None


def test_unusual_values_survive_the_database_round_trip():
    """Every hashed field, read back from the database, hashes to the stored hash."""
    audit.record(
        "test.round_trip",
        object_type="x" * 150,
        object_id="y" * 100,
        changes={
            "中文": "计量",
            "n": 2**60,
            "f": 0.1,
            "nested": {"list": [1, "2", None]},
            "t": __import__("datetime").datetime(2026, 1, 2, 3, 4, 5, 678901),
        },
        reason="line one\nline two\ttab ✓",
        actor_label="名字" * 100,
    )
    event = AuditEvent.objects.order_by("-seq").first()
    fields = {name: getattr(event, name) for name in audit.HASHED_FIELDS}
    assert audit.compute_hash(fields) == event.hash
    assert audit.verify_chain().ok


def test_role_rename_and_delete_are_recorded():
    from django.contrib.auth.models import Group

    group = Group.objects.create(name="temporary")
    group.name = "renamed"
    group.save()
    group.delete()
    actions = list(
        AuditEvent.objects.filter(object_type="auth.group")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions[-3:] == ["role.create", "role.rename", "role.delete"]


def test_truncating_the_newest_events_is_detected_against_an_anchor():
    """The chain alone cannot show that its newest events were cut off; a recorded head
    (an earlier verification, or one noted by the operator) can."""
    from metrolab.core.services import audit_verification_run

    _write_many(5)
    verification = AuditVerification.objects.create()
    audit_verification_run(verification_id=verification.pk)
    verification.refresh_from_db()
    head = verification.head_seq
    assert audit.verify_chain().ok
    _tamper(f"DELETE FROM {AuditEvent._meta.db_table} WHERE seq >= %s", [head - 1])
    report = audit.verify_chain()
    assert not report.ok and report.first_bad_seq == head - 1
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_operator_can_check_against_a_head_noted_elsewhere(capsys):
    _write_many(4)
    last = AuditEvent.objects.order_by("-seq").first()
    call_command("audit", "verify", "--expect-head", f"{last.seq}:{last.hash}")
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--expect-head", f"{last.seq}:{'0' * 64}")
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--expect-head", f"{last.seq + 5}:{last.hash}")


def test_migration_guards_match_the_runtime_guards():
    """The migrations spell their SQL out; together they must say what
    audit.guard_statements says (0002: no UPDATE/DELETE/TRUNCATE; 0004: appends only)."""
    import importlib

    first = importlib.import_module("metrolab.core.migrations.0002_audit_guards")
    append = importlib.import_module("metrolab.core.migrations.0004_audit_append_guard")
    for vendor in ("sqlite", "postgresql"):
        name = vendor.upper()
        assert audit.guard_statements(vendor, "core_auditevent") == (
            getattr(first, name) + getattr(append, name)
        )
        assert audit.unguard_statements(vendor, "core_auditevent") == [
            sql for sql in getattr(first, f"{name}_REVERSE") if "FUNCTION" not in sql
        ] + [sql for sql in getattr(append, f"{name}_REVERSE") if "FUNCTION" not in sql]


# --- The append guard: an INSERT must continue the chain (R7.2b) ----


def _refused(sql: str, params=()) -> None:
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        tamper.execute(sql, params)


def _chain() -> list[tuple]:
    return list(AuditEvent.objects.order_by("seq").values_list("seq", "hash", "reason"))


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's REPLACE")
@pytest.mark.parametrize("verb", ["REPLACE", "INSERT OR REPLACE"])
def test_replace_into_cannot_rewrite_the_chain_on_sqlite(verb):
    """REPLACE deletes the row it replaces without firing DELETE triggers: event by event, a
    chain rewritten from event 3 on with recomputed hashes used to replace the real one and
    verify as intact. Each statement is now refused, and the chain is untouched."""
    _write_many(6)
    before = _chain()
    rows = tamper.rewritten_rows(from_seq=3)
    assert audit.verify_chain(anchors=[]).ok
    for row in rows:
        _refused(*tamper.insert_sql(row, verb))
    # Nor may a new event take over a stored hash (REPLACE would delete that event).
    head_seq, head_hash = audit.chain_head()
    stolen = {**rows[0], "seq": head_seq + 1, "prev_hash": head_hash, "hash": before[2][1]}
    _refused(*tamper.insert_sql(stolen, verb))
    assert _chain() == before
    call_command("audit", "verify")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's upsert")
def test_upsert_cannot_rewrite_the_chain_on_postgresql():
    _write_many(6)
    before = _chain()
    update = (
        "ON CONFLICT (seq) DO UPDATE SET reason = EXCLUDED.reason, "
        "prev_hash = EXCLUDED.prev_hash, hash = EXCLUDED.hash"
    )
    for row in tamper.rewritten_rows(from_seq=3):
        _refused(*tamper.insert_sql(row, suffix=update))
        _refused(*tamper.insert_sql(row, suffix="ON CONFLICT DO NOTHING"))
    assert _chain() == before
    call_command("audit", "verify")


def test_an_insert_out_of_place_is_refused_and_the_next_one_accepted():
    """On both databases: a wrong sequence number (a gap, a reused or a missing one) or a
    previous hash other than the head's is refused; the right next event is accepted."""
    _write_many(4)
    head_seq, head_hash = audit.chain_head()
    template = AuditEvent.objects.filter(seq=head_seq).values(*tamper.COLUMNS).get()

    def event(seq, prev_hash, **fields):
        row = {**template, "seq": seq, "prev_hash": prev_hash, "reason": "raw", **fields}
        return {**row, "hash": audit.compute_hash(row)}

    _refused(*tamper.insert_sql(event(head_seq + 2, head_hash)))  # a gap
    _refused(*tamper.insert_sql(event(head_seq, head_hash)))  # the head's number again
    _refused(*tamper.insert_sql(event(head_seq + 1, audit.GENESIS_HASH)))  # not the head's hash
    sql, params = tamper.insert_sql(event(head_seq + 1, head_hash))
    _refused(sql.replace("(seq, ", "(").replace("VALUES (%s, ", "VALUES ("), params[1:])  # no seq
    assert audit.chain_head() == (head_seq, head_hash)
    tamper.execute(*tamper.insert_sql(event(head_seq + 1, head_hash)))  # continues the chain
    assert audit.chain_head()[0] == head_seq + 1
    assert audit.verify_chain().ok
    organisation_update(
        data={"name": "after"}, actor=SYSTEM
    )  # and the application appends after it
    assert audit.chain_head()[0] == head_seq + 2
    assert audit.verify_chain().ok


def test_an_empty_log_starts_at_event_1_from_the_genesis_hash():
    audit.remove_guards()
    tamper.execute(f"DELETE FROM {tamper.TABLE}")
    audit.install_guards()
    template = {name: "" for name in tamper.COLUMNS} | {
        "created_at": timezone.now(),
        "actor_type": "system",
        "operation": "event",
        "changes": {},
        "client_ip": None,
    }

    def event(seq, prev_hash):
        row = {**template, "seq": seq, "prev_hash": prev_hash, "action": "test.first"}
        return {**row, "hash": audit.compute_hash(row)}

    _refused(*tamper.insert_sql(event(2, audit.GENESIS_HASH)))
    _refused(*tamper.insert_sql(event(1, "f" * 64)))
    first = audit.record("test.first")
    assert (first.seq, first.prev_hash) == (1, audit.GENESIS_HASH)
    assert audit.verify_chain().ok


def test_rewrite_by_someone_who_lifts_the_triggers_is_not_reported_intact(capsys):
    """A database superuser may drop the triggers and rewrite the chain from event 3 on with
    recomputed hashes. Every link holds, so the chain alone looks intact; the head anchored
    by the worker before the rewrite is gone, and `audit verify` says so."""
    from metrolab.core.services import audit_anchor

    _write_many(6)
    anchor = audit_anchor()
    tamper.rewrite_chain(from_seq=3)
    assert audit.verify_chain(anchors=[]).ok  # what the chain alone would say
    with pytest.raises(CommandError) as excinfo:
        call_command("audit", "verify")
    assert excinfo.value.returncode == 3
    message = str(excinfo.value)
    assert f"event {anchor.head_seq} differs from anchor #{anchor.head_seq}" in message
    assert f"database, anchor #{anchor.pk}" in message
    assert "intact" not in capsys.readouterr().out
