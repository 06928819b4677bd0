"""Database guards of original records (R6.2c, R6.12a; SQLite and PostgreSQL), beside the
services' own refusals:

- an approved record is locked: an UPDATE of a `records_record` row whose `locked_at` is set
  is rejected, except the one move its amendment's approval makes (status approved →
  superseded, every other column as it was);
- a record cannot be deleted before its retention period ends (`retain_until` is today or
  later, or not set);
- the trail, the status changes and the signatures are append-only: UPDATE is rejected, and
  DELETE too while the record they belong to is kept;
- the equipment a locked record was made with (its calibration snapshot) cannot be changed,
  nor removed while the record is kept;
- on PostgreSQL, TRUNCATE of these tables is rejected.

Migration records.0003 installs them (its SQL written out there, as it was applied); the
test-only `flush` lifts them through `metrolab.core.guards` (registered in apps.py) and
installs them again from here. Keep both in step when a guard changes (a new migration).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

RECORD = "records_record"
APPEND_ONLY = ("records_recordchange", "records_recordtransition", "records_recordsignature")
EQUIPMENT = "records_recordequipment"
# The columns the one allowed UPDATE of a locked record (→ superseded) leaves as they were.
LOCKED_COLUMNS = (
    "id",
    "number",
    "task_id",
    "template_version_id",
    "method_id",
    "room_id",
    "amends_id",
    "revision",
    "cells",
    "results",
    "decision",
    "complete",
    "context",
    "conditions",
    "conditions_held",
    "measured_by_id",
    "started_at",
    "submitted_at",
    "checked_by_id",
    "checked_at",
    "approved_by_id",
    "approved_at",
    "locked_at",
    "retain_until",
    "created_at",
)
LOCKED_MESSAGE = "original record is approved and locked: UPDATE rejected"
RETAINED_MESSAGE = "original record is kept until its retention period ends: DELETE rejected"
TRAIL_MESSAGE = "record trail is append-only"
EQUIPMENT_MESSAGE = "equipment of a locked original record cannot change"


def sqlite_statements() -> list[str]:
    same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in LOCKED_COLUMNS)
    statements = [
        f"CREATE TRIGGER IF NOT EXISTS {RECORD}_locked BEFORE UPDATE ON {RECORD} "
        f"WHEN OLD.locked_at IS NOT NULL AND NOT (OLD.status = 'approved' "
        f"AND NEW.status = 'superseded' AND {same}) "
        f"BEGIN SELECT RAISE(ABORT, '{LOCKED_MESSAGE}'); END",
        f"CREATE TRIGGER IF NOT EXISTS {RECORD}_retained BEFORE DELETE ON {RECORD} "
        f"WHEN OLD.retain_until IS NULL OR OLD.retain_until >= date('now') "
        f"BEGIN SELECT RAISE(ABORT, '{RETAINED_MESSAGE}'); END",
    ]
    for table in APPEND_ONLY:
        statements += [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{TRAIL_MESSAGE}: UPDATE rejected'); END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"WHEN COALESCE((SELECT retain_until FROM {RECORD} WHERE id = OLD.record_id), "
            f"'9999-12-31') >= date('now') "
            f"BEGIN SELECT RAISE(ABORT, '{TRAIL_MESSAGE}: DELETE rejected'); END",
        ]
    kept = (
        f"COALESCE((SELECT retain_until FROM {RECORD} WHERE id = OLD.record_id), "
        f"'9999-12-31') >= date('now')"
    )
    locked = f"(SELECT locked_at FROM {RECORD} WHERE id = OLD.record_id) IS NOT NULL"
    statements += [
        f"CREATE TRIGGER IF NOT EXISTS {EQUIPMENT}_locked BEFORE UPDATE ON {EQUIPMENT} "
        f"WHEN {locked} BEGIN SELECT RAISE(ABORT, '{EQUIPMENT_MESSAGE}: UPDATE rejected'); END",
        f"CREATE TRIGGER IF NOT EXISTS {EQUIPMENT}_kept BEFORE DELETE ON {EQUIPMENT} "
        f"WHEN {locked} AND {kept} "
        f"BEGIN SELECT RAISE(ABORT, '{EQUIPMENT_MESSAGE}: DELETE rejected'); END",
    ]
    return statements


def sqlite_reverse() -> list[str]:
    names = [f"{RECORD}_locked", f"{RECORD}_retained", f"{EQUIPMENT}_locked", f"{EQUIPMENT}_kept"]
    for table in APPEND_ONLY:
        names += [f"{table}_no_update", f"{table}_no_delete"]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def postgresql_statements() -> list[str]:
    statements = [
        f"CREATE OR REPLACE FUNCTION {RECORD}_guard() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_OP = 'UPDATE' THEN "
        "IF OLD.locked_at IS NOT NULL AND NOT (OLD.status = 'approved' "
        "AND NEW.status = 'superseded' "
        "AND (to_jsonb(NEW) - 'status' - 'updated_at') = (to_jsonb(OLD) - 'status' - 'updated_at')"
        f") THEN RAISE EXCEPTION USING MESSAGE = '{LOCKED_MESSAGE}'; END IF; RETURN NEW; END IF; "
        "IF OLD.retain_until IS NULL OR OLD.retain_until >= CURRENT_DATE THEN "
        f"RAISE EXCEPTION USING MESSAGE = '{RETAINED_MESSAGE}'; END IF; RETURN OLD; END $$",
        f"DROP TRIGGER IF EXISTS {RECORD}_guard ON {RECORD}",
        f"CREATE TRIGGER {RECORD}_guard BEFORE UPDATE OR DELETE ON {RECORD} "
        f"FOR EACH ROW EXECUTE FUNCTION {RECORD}_guard()",
        "CREATE OR REPLACE FUNCTION records_trail_guard() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE kept date; BEGIN "
        "IF TG_OP = 'UPDATE' THEN "
        f"RAISE EXCEPTION USING MESSAGE = '{TRAIL_MESSAGE}: UPDATE rejected'; END IF; "
        f"SELECT retain_until INTO kept FROM {RECORD} WHERE id = OLD.record_id; "
        "IF kept IS NULL OR kept >= CURRENT_DATE THEN "
        f"RAISE EXCEPTION USING MESSAGE = '{TRAIL_MESSAGE}: DELETE rejected'; END IF; "
        "RETURN OLD; END $$",
        "CREATE OR REPLACE FUNCTION records_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION USING MESSAGE = 'original records: TRUNCATE rejected'; END $$",
        f"DROP TRIGGER IF EXISTS {RECORD}_no_truncate ON {RECORD}",
        f"CREATE TRIGGER {RECORD}_no_truncate BEFORE TRUNCATE ON {RECORD} "
        "FOR EACH STATEMENT EXECUTE FUNCTION records_no_truncate()",
    ]
    statements += [
        "CREATE OR REPLACE FUNCTION records_equipment_guard() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ DECLARE locked timestamptz; kept date; BEGIN "
        f"SELECT locked_at, retain_until INTO locked, kept FROM {RECORD} WHERE id = OLD.record_id; "
        "IF locked IS NOT NULL AND (TG_OP = 'UPDATE' OR kept IS NULL OR kept >= CURRENT_DATE) "
        f"THEN RAISE EXCEPTION USING MESSAGE = '{EQUIPMENT_MESSAGE}: ' || TG_OP || ' rejected'; "
        "END IF; IF TG_OP = 'UPDATE' THEN RETURN NEW; END IF; RETURN OLD; END $$",
        f"DROP TRIGGER IF EXISTS {EQUIPMENT}_guard ON {EQUIPMENT}",
        f"CREATE TRIGGER {EQUIPMENT}_guard BEFORE UPDATE OR DELETE ON {EQUIPMENT} "
        "FOR EACH ROW EXECUTE FUNCTION records_equipment_guard()",
    ]
    for table in APPEND_ONLY:
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_guard ON {table}",
            f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION records_trail_guard()",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION records_no_truncate()",
        ]
    return statements


def postgresql_reverse() -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS {RECORD}_guard ON {RECORD}",
        f"DROP TRIGGER IF EXISTS {RECORD}_no_truncate ON {RECORD}",
        f"DROP TRIGGER IF EXISTS {EQUIPMENT}_guard ON {EQUIPMENT}",
    ]
    for table in APPEND_ONLY:
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_guard ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        ]
    functions = ("records_trail_guard", "records_equipment_guard", "records_no_truncate")
    statements += [f"DROP FUNCTION IF EXISTS {RECORD}_guard()"]
    statements += [f"DROP FUNCTION IF EXISTS {name}()" for name in functions]
    return statements


def statements(vendor: str, *, reverse: bool = False) -> list[str]:
    if vendor == "sqlite":
        return sqlite_reverse() if reverse else sqlite_statements()
    if vendor == "postgresql":
        return postgresql_reverse() if reverse else postgresql_statements()
    raise ImproperlyConfigured(f"MetroLab runs on SQLite or PostgreSQL, not {vendor!r}")


def install_guards(connection) -> None:
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor):
            cursor.execute(sql)


def remove_guards(connection) -> None:
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor, reverse=True):
            cursor.execute(sql)
