"""The tamper-evident audit log: one append-only, hash-chained table for the whole platform.

R6.2c (no loss or unauthorised change; who, when, what, why), R7.2b (protection against
tampering), R7.2d (complete system log).

Each event's hash is SHA-256 over a canonical JSON serialisation of its fields, the previous
event's hash included, so editing, removing or inserting a row anywhere breaks every later link.
Appends take a chain-wide lock (PostgreSQL advisory lock; SQLite's IMMEDIATE write transaction)
so that concurrent writers in several processes can never fork the chain. Database triggers
reject UPDATE, DELETE and TRUNCATE of the table on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from metrolab.core.context import current_request, current_service
from metrolab.core.middleware import normalise_ip

GENESIS_HASH = "0" * 64
# An arbitrary constant naming "the audit chain" among PostgreSQL advisory locks.
_PG_LOCK_KEY = 0x6D6C_6175_6469_74  # "mlaudit"

ACTOR_USER = "user"
ACTOR_TOKEN = "token"
ACTOR_SYSTEM = "system"
ACTOR_ANONYMOUS = "anonymous"

HASHED_FIELDS = (
    "seq",
    "created_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "action",
    "operation",
    "object_type",
    "object_id",
    "changes",
    "reason",
    "client_ip",
    "request_id",
    "prev_hash",
)


def to_json_value(value: Any) -> Any:
    """Turn a Python value into plain JSON (str, int, bool, None, list, dict) that survives a
    round trip through SQLite and PostgreSQL JSON columns unchanged (so hashes stay stable)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_json_value(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(dt.UTC)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float | decimal.Decimal | uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return hashlib.sha256(bytes(value)).hexdigest()
    return str(value)


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    """The canonical serialisation that is hashed: sorted keys, no spaces, UTF-8."""
    data = {name: to_json_value(fields[name]) for name in HASHED_FIELDS}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()


def lock_chain() -> None:
    """Serialise appends. On PostgreSQL an advisory lock held until the transaction ends; on
    SQLite the IMMEDIATE transaction already holds the database's single write lock.

    Writers take it before their first row lock (services and AuditedModel writes do), so
    that no two transactions wait for each other's row and chain locks (no deadlock)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])


def _actor_fields(actor: Any) -> tuple[str, str, str]:
    """(actor_type, actor_id, actor_label) for an explicit actor, or from the request context."""
    request = current_request()
    if actor is None:
        service = current_service()
        actor = service.actor if service else None
    if actor is None and request is not None:
        if request.token is not None:
            actor = request.token
        elif request.user is not None and getattr(request.user, "is_authenticated", False):
            actor = request.user
    if actor is None:
        return ACTOR_SYSTEM, "", "system"
    if isinstance(actor, str):
        return (ACTOR_ANONYMOUS if actor == ACTOR_ANONYMOUS else ACTOR_SYSTEM), "", actor
    if actor.__class__.__name__ == "ApiToken":
        return ACTOR_TOKEN, str(actor.pk), f"{actor.user.get_username()}/{actor.name}"
    if getattr(actor, "is_authenticated", False):
        return ACTOR_USER, str(actor.pk), actor.get_username()
    return ACTOR_ANONYMOUS, "", ""


def record(
    action: str,
    *,
    operation: str = "event",
    object_type: str = "",
    object_id: str = "",
    changes: dict[str, Any] | None = None,
    reason: str = "",
    actor: Any = None,
    actor_label: str | None = None,
):
    """Append one event to the chain and return it. Runs inside the caller's transaction,
    so the event is committed together with (and only with) the change it describes."""
    from metrolab.core.models import AuditEvent

    actor_type, actor_id, label = _actor_fields(actor)
    if actor_label is not None:
        label = actor_label
    request = current_request()
    service = current_service()
    if not reason and service is not None:
        reason = service.reason
    if service is not None:
        service.wrote.append(action)
    with transaction.atomic():
        lock_chain()
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        fields = {
            "seq": seq,
            "created_at": timezone.now(),
            "actor_type": actor_type,
            "actor_id": actor_id,
            "actor_label": label[:150],
            "action": action[:100],
            "operation": operation,
            "object_type": object_type[:100],
            "object_id": str(object_id)[:64],
            "changes": to_json_value(changes or {}),
            "reason": reason or "",
            "client_ip": normalise_ip(request.client_ip) if request else None,
            "request_id": request.request_id[:64] if request else "",
            "prev_hash": prev_hash,
        }
        fields["hash"] = compute_hash(fields)
        return AuditEvent.objects.create(**fields)


@dataclass(frozen=True)
class ChainReport:
    """The outcome of recomputing the chain."""

    ok: bool
    count: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""


def known_heads() -> list[tuple[int, str]]:
    """Heads of the chain seen by earlier successful verifications: anchors that reveal a
    truncation of the newest events, which the chain alone cannot."""
    from metrolab.core.models import AuditVerification

    return list(
        AuditVerification.objects.filter(status=AuditVerification.Status.INTACT, head_seq__gt=0)
        .values_list("head_seq", "head_hash")
        .distinct()
    )


def verify_chain(
    batch_size: int = 2000, anchors: list[tuple[int, str]] | None = None
) -> ChainReport:
    """Recompute every link in sequence order; report the first sequence number that is wrong
    (altered fields, a missing row, or a row inserted outside the chain). Anchors (seq, hash) —
    by default the heads of earlier verifications — must still be in the chain, unchanged."""
    from metrolab.core.models import AuditEvent

    anchors = dict(known_heads() if anchors is None else anchors)
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    rows = AuditEvent.objects.order_by("seq").values(*HASHED_FIELDS, "hash")
    for row in rows.iterator(chunk_size=batch_size):
        count += 1
        seq = row["seq"]
        if seq != expected_seq:
            return ChainReport(
                False,
                count,
                expected_seq - 1,
                prev_hash,
                min(seq, expected_seq),
                f"sequence {expected_seq} expected, found {seq} (a row is missing or was inserted)",
            )
        problem = None
        if row["prev_hash"] != prev_hash:
            problem = f"event {seq} does not link to event {seq - 1} (previous hash differs)"
        elif compute_hash(row) != row["hash"]:
            problem = f"event {seq} was altered (its content no longer matches its hash)"
        elif seq in anchors and anchors[seq] != row["hash"]:
            problem = f"event {seq} differs from the one recorded earlier (the chain was rewritten)"
        if problem:
            return ChainReport(False, count, seq - 1, prev_hash, seq, problem)
        expected_seq, prev_hash = seq + 1, row["hash"]
    head = expected_seq - 1
    beyond = [seq for seq in anchors if seq > head]
    if beyond:
        return ChainReport(
            False,
            count,
            head,
            prev_hash,
            head + 1,
            f"events from {head + 1} on are missing: event {max(beyond)} was recorded earlier",
        )
    return ChainReport(True, count, head, prev_hash)


# --- Database guards ----


def _table() -> str:
    from metrolab.core.models import AuditEvent

    return AuditEvent._meta.db_table


def guard_statements(vendor: str, table: str) -> list[str]:
    """SQL that makes the audit table append-only at the database level."""
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE rejected'); END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE rejected'); END",
        ]
    if vendor == "postgresql":
        return [
            f"CREATE OR REPLACE FUNCTION {table}_reject() RETURNS trigger LANGUAGE plpgsql AS $$ "
            # No "%" placeholder here: psycopg would read it as a query parameter.
            "BEGIN RAISE EXCEPTION USING MESSAGE = "
            "'audit log is append-only: ' || TG_OP || ' rejected'; END $$",
            f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}",
            f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_reject()",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_reject()",
        ]
    raise ImproperlyConfigured(f"MetroLab runs on SQLite or PostgreSQL, not {vendor!r}")


def unguard_statements(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"DROP TRIGGER IF EXISTS {table}_no_delete",
        ]
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        ]
    raise ImproperlyConfigured(f"MetroLab runs on SQLite or PostgreSQL, not {vendor!r}")


def install_guards(using_connection=None) -> None:
    conn = using_connection or connection
    with conn.cursor() as cursor:
        for sql in guard_statements(conn.vendor, _table()):
            cursor.execute(sql)


def remove_guards(using_connection=None) -> None:
    conn = using_connection or connection
    with conn.cursor() as cursor:
        for sql in unguard_statements(conn.vendor, _table()):
            cursor.execute(sql)
