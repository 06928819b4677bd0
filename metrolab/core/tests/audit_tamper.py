"""What an intruder with direct access to the database would do to the audit chain: rewrite
events from one on with recomputed hashes, so that every link still holds. Shared by the audit
tests."""

from __future__ import annotations

from typing import Any

from django.db import connection

from metrolab.core import audit
from metrolab.core.models import AuditEvent, AuditVerification

TABLE = AuditEvent._meta.db_table
COLUMNS = [*audit.HASHED_FIELDS, "hash"]


def rewritten_rows(from_seq: int, reason: str = "forged") -> list[dict[str, Any]]:
    """The events from `from_seq` on with their reason replaced and every hash recomputed,
    each linked to the one before: a chain that verifies on its own."""
    prev = AuditEvent.objects.get(seq=from_seq - 1).hash if from_seq > 1 else audit.GENESIS_HASH
    rows = []
    for row in AuditEvent.objects.filter(seq__gte=from_seq).order_by("seq").values(*COLUMNS):
        row = {**row, "reason": reason, "prev_hash": prev}
        row["hash"] = prev = audit.compute_hash(row)
        rows.append(row)
    return rows


def insert_sql(row: dict[str, Any], verb: str = "INSERT", suffix: str = "") -> tuple[str, list]:
    """`<verb> INTO core_auditevent (...) VALUES (...) <suffix>` for one row, its values
    prepared as the database stores them (so the hashes survive the round trip)."""
    params = [
        AuditEvent._meta.get_field(name).get_db_prep_save(row[name], connection) for name in COLUMNS
    ]
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    sql = f"{verb} INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({placeholders}) {suffix}"
    return sql.strip(), params


def execute(sql: str, params: list | tuple = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def rewrite_chain(from_seq: int = 1, *, drop_database_anchors: bool = False) -> None:
    """As a database superuser: lift the triggers, replace the events from `from_seq` on with a
    rewritten chain, put the triggers back. With drop_database_anchors the anchors kept in the
    database go too, leaving only those outside it."""
    rows = rewritten_rows(from_seq)
    audit.remove_guards()
    try:
        execute(f"DELETE FROM {TABLE} WHERE seq >= %s", [from_seq])
        for row in rows:
            execute(*insert_sql(row))
        if drop_database_anchors:
            execute(f"DELETE FROM {AuditVerification._meta.db_table}")
    finally:
        audit.install_guards()
