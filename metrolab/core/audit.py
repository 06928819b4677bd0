"""The tamper-evident audit log: one append-only, hash-chained table for the whole platform.

R6.2c (no loss or unauthorised change; who, when, what, why), R7.2b (protection against
tampering), R7.2d (complete system log).

Each event's hash is SHA-256 over a canonical JSON serialisation of its fields, the previous
event's hash included, so editing, removing or inserting a row anywhere breaks every later link.
Appends take a chain-wide lock (PostgreSQL advisory lock; SQLite's IMMEDIATE write transaction)
so that concurrent writers in several processes can never fork the chain. Database triggers
reject UPDATE, DELETE and TRUNCATE of the table on SQLite and PostgreSQL alike, and refuse an
INSERT that does not continue the chain (the next sequence number, linked to the head's hash):
so neither `REPLACE INTO` nor an upsert can rewrite events.

Someone who can drop the triggers (a database superuser) could still rewrite the whole chain
with recomputed hashes. Anchors reveal it: the head (sequence number and hash) noted over time
by the worker and by each verification, in the database and in an append-only file in the
backup location (`settings.METROLAB_AUDIT_ANCHOR_FILE`), outside the database's reach. A
rewritten chain no longer contains them, and `verify_chain` says which anchor it lost.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
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
    if actor.__class__.__name__ == "SystemActor":
        return ACTOR_SYSTEM, "", actor.name
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
class Anchor:
    """A head of the chain noted at some time: event `seq` had hash `hash`. `source` says where
    it was noted (a database row, a line of the anchor file, the operator's command line)."""

    seq: int
    hash: str
    time: str = ""
    source: str = ""

    def __str__(self) -> str:
        when = f" of {self.time}" if self.time else ""
        return f"anchor #{self.seq}{when} ({self.source})"


@dataclass(frozen=True)
class ChainReport:
    """The outcome of recomputing the chain. `anchor` is the anchor the chain no longer
    matches, when that is what is wrong (a rewrite or a cut, not a broken link)."""

    ok: bool
    count: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""
    anchor: Anchor | None = None
    anchors_checked: int = 0


class AnchorFileError(ValueError):
    """The anchor file cannot be read: an anchor that cannot be checked is not a pass."""


def chain_head() -> tuple[int, str]:
    """(sequence number, hash) of the newest event; (0, GENESIS_HASH) for an empty chain."""
    from metrolab.core.models import AuditEvent

    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    return head if head else (0, GENESIS_HASH)


def database_anchors() -> list[Anchor]:
    """Heads noted in the database: each intact verification's and each anchor of the worker."""
    from metrolab.core.models import AuditVerification

    Status = AuditVerification.Status
    rows = (
        AuditVerification.objects.filter(
            status__in=[Status.INTACT, Status.ANCHORED], head_seq__gt=0
        )
        .order_by("head_seq", "pk")
        .values_list("pk", "status", "head_seq", "head_hash", "finished_at", "created_at")
    )
    return [
        Anchor(
            seq,
            digest,
            (finished_at or created_at).astimezone(dt.UTC).isoformat(timespec="seconds"),
            f"database, {'anchor' if status == Status.ANCHORED else 'verification'} #{pk}",
        )
        for pk, status, seq, digest, finished_at, created_at in rows
    ]


def anchor_file_path() -> Path:
    return Path(settings.METROLAB_AUDIT_ANCHOR_FILE)


def anchor_file_read(path: Path | None = None) -> list[Anchor]:
    """Every anchor of the anchor file (none when it does not exist yet). A line that is not an
    anchor raises AnchorFileError naming it."""
    path = path or anchor_file_path()
    if not path.exists():
        return []
    anchors = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                seq, digest = data["seq"], data["hash"]
                valid = (
                    type(seq) is int and seq > 0 and isinstance(digest, str) and len(digest) == 64
                )
            except (ValueError, KeyError, TypeError):
                valid = False
            if not valid:
                raise AnchorFileError(f"{path}, line {number} is not an anchor: {line.strip()!r}")
            anchors.append(Anchor(seq, digest, str(data.get("time", "")), f"{path}, line {number}"))
    return anchors


def anchor_file_append(anchor: Anchor, *, kind: str, path: Path | None = None) -> None:
    """Append one anchor as a JSON line (time, seq, hash, kind) and flush it to disk. The file
    is only ever appended to (O_APPEND); the operator may make it append-only (chattr +a)."""
    path = path or anchor_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"time": anchor.time, "seq": anchor.seq, "hash": anchor.hash, "kind": kind})
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def all_anchors() -> list[Anchor]:
    """Every anchor MetroLab knows of: the database's, then the anchor file's."""
    return database_anchors() + anchor_file_read()


def anchors_newest_check(anchors: Iterable[Anchor]) -> tuple[Anchor, str] | None:
    """A quick look (one lookup per anchor) that these anchors are still in the chain unchanged;
    the first that is not, with the problem. The full check is `verify_chain`."""
    from metrolab.core.models import AuditEvent

    for anchor in anchors:
        digest = AuditEvent.objects.filter(seq=anchor.seq).values_list("hash", flat=True).first()
        if digest is None:
            return anchor, f"event {anchor.seq} named by {anchor} is missing (events were cut off)"
        if digest != anchor.hash:
            return anchor, f"event {anchor.seq} differs from {anchor} (the chain was rewritten)"
    return None


def _as_anchors(anchors: Iterable[Anchor | tuple[int, str]]) -> list[Anchor]:
    return [a if isinstance(a, Anchor) else Anchor(a[0], a[1], source="given") for a in anchors]


def verify_chain(
    batch_size: int = 2000, anchors: Iterable[Anchor | tuple[int, str]] | None = None
) -> ChainReport:
    """Recompute every link in sequence order; report the first sequence number that is wrong
    (altered fields, a missing row, or a row inserted outside the chain). Anchors — by default
    every one known (`all_anchors`) — must still be in the chain, unchanged: a chain rewritten
    with recomputed hashes, or cut short, is reported with the first anchor it lost."""
    from metrolab.core.models import AuditEvent

    anchors = _as_anchors(all_anchors() if anchors is None else anchors)
    by_seq: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        by_seq.setdefault(anchor.seq, []).append(anchor)
    checked = len(anchors)
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
                anchors_checked=checked,
            )
        problem, lost = None, None
        if row["prev_hash"] != prev_hash:
            problem = f"event {seq} does not link to event {seq - 1} (previous hash differs)"
        elif compute_hash(row) != row["hash"]:
            problem = f"event {seq} was altered (its content no longer matches its hash)"
        else:
            lost = next((a for a in by_seq.get(seq, ()) if a.hash != row["hash"]), None)
            if lost is not None:
                problem = f"event {seq} differs from {lost} (the chain was rewritten)"
        if problem:
            return ChainReport(False, count, seq - 1, prev_hash, seq, problem, lost, checked)
        expected_seq, prev_hash = seq + 1, row["hash"]
    head = expected_seq - 1
    beyond = [a for a in anchors if a.seq > head]
    if beyond:
        lost = max(beyond, key=lambda a: a.seq)
        return ChainReport(
            False,
            count,
            head,
            prev_hash,
            head + 1,
            f"events from {head + 1} on are missing: {lost} names event {lost.seq}",
            lost,
            checked,
        )
    return ChainReport(True, count, head, prev_hash, anchors_checked=checked)


# --- Database guards ----


def _table() -> str:
    from metrolab.core.models import AuditEvent

    return AuditEvent._meta.db_table


def guard_statements(vendor: str, table: str) -> list[str]:
    """SQL that makes the audit table append-only at the database level: UPDATE, DELETE and
    TRUNCATE are rejected, and an INSERT must continue the chain — the next sequence number
    (1 for an empty table) and the head's hash (GENESIS_HASH before the first event) as its
    previous hash. The head is found through the primary-key index (no scan), so appends stay
    as fast as before. On SQLite this also stops `REPLACE INTO` / `INSERT OR REPLACE`, which
    delete the rows they replace without firing DELETE triggers; a new row may not reuse a
    stored hash either, or REPLACE would delete that row through the hash's unique index."""
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE rejected'); END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE rejected'); END",
            *append_guard_statements(vendor, table),
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
            *append_guard_statements(vendor, table),
        ]
    raise ImproperlyConfigured(f"MetroLab runs on SQLite or PostgreSQL, not {vendor!r}")


_APPEND_REJECTED = (
    "audit log is append-only: an INSERT must carry the next sequence number "
    "and the hash of the newest event as its previous hash"
)


def append_guard_statements(vendor: str, table: str) -> list[str]:
    """The INSERT guard of `guard_statements` (added by migration core.0004)."""
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_append_only BEFORE INSERT ON {table} "
            f"WHEN NEW.seq IS NOT COALESCE((SELECT MAX(seq) FROM {table}), 0) + 1 "
            f"OR NEW.prev_hash IS NOT COALESCE("
            f"(SELECT hash FROM {table} WHERE seq = NEW.seq - 1), '{GENESIS_HASH}') "
            f"OR EXISTS (SELECT 1 FROM {table} WHERE hash = NEW.hash) "
            f"BEGIN SELECT RAISE(ABORT, '{_APPEND_REJECTED}'); END",
        ]
    if vendor == "postgresql":
        return [
            f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ DECLARE head_seq bigint; head_hash text; BEGIN "
            f"SELECT seq, hash INTO head_seq, head_hash FROM {table} ORDER BY seq DESC LIMIT 1; "
            f"IF NOT FOUND THEN head_seq := 0; head_hash := '{GENESIS_HASH}'; END IF; "
            "IF NEW.seq IS DISTINCT FROM head_seq + 1 "
            "OR NEW.prev_hash IS DISTINCT FROM head_hash THEN "
            "RAISE EXCEPTION USING ERRCODE = 'check_violation', "
            f"MESSAGE = '{_APPEND_REJECTED}'; END IF; RETURN NEW; END $$",
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"CREATE TRIGGER {table}_append_only BEFORE INSERT ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
        ]
    raise ImproperlyConfigured(f"MetroLab runs on SQLite or PostgreSQL, not {vendor!r}")


def unguard_statements(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"DROP TRIGGER IF EXISTS {table}_no_delete",
            f"DROP TRIGGER IF EXISTS {table}_append_only",
        ]
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
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
