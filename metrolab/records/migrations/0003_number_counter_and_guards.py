"""The number counter of original records, and the database guards of records (SQLite and
PostgreSQL): an approved record is locked (with the equipment it was made with), a record is
kept until its retention period ends, the trail, status changes and signatures are
append-only (metrolab/records/guards.py).

The SQL is written out here (not imported) so that this migration stays as it was applied.
"""

from django.db import migrations, models

SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS records_record_locked BEFORE UPDATE ON records_record WHEN OLD.locked_at IS NOT NULL AND NOT (OLD.status = 'approved' AND NEW.status = 'superseded' AND NEW.id IS OLD.id AND NEW.number IS OLD.number AND NEW.task_id IS OLD.task_id AND NEW.template_version_id IS OLD.template_version_id AND NEW.method_id IS OLD.method_id AND NEW.room_id IS OLD.room_id AND NEW.amends_id IS OLD.amends_id AND NEW.revision IS OLD.revision AND NEW.cells IS OLD.cells AND NEW.results IS OLD.results AND NEW.decision IS OLD.decision AND NEW.complete IS OLD.complete AND NEW.context IS OLD.context AND NEW.conditions IS OLD.conditions AND NEW.conditions_held IS OLD.conditions_held AND NEW.measured_by_id IS OLD.measured_by_id AND NEW.started_at IS OLD.started_at AND NEW.submitted_at IS OLD.submitted_at AND NEW.checked_by_id IS OLD.checked_by_id AND NEW.checked_at IS OLD.checked_at AND NEW.approved_by_id IS OLD.approved_by_id AND NEW.approved_at IS OLD.approved_at AND NEW.locked_at IS OLD.locked_at AND NEW.retain_until IS OLD.retain_until AND NEW.created_at IS OLD.created_at) BEGIN SELECT RAISE(ABORT, 'original record is approved and locked: UPDATE rejected'); END",
    "CREATE TRIGGER IF NOT EXISTS records_record_retained BEFORE DELETE ON records_record WHEN OLD.retain_until IS NULL OR OLD.retain_until >= date('now') BEGIN SELECT RAISE(ABORT, 'original record is kept until its retention period ends: DELETE rejected'); END",
    "CREATE TRIGGER IF NOT EXISTS records_recordchange_no_update BEFORE UPDATE ON records_recordchange BEGIN SELECT RAISE(ABORT, 'record trail is append-only: UPDATE rejected'); END",
    "CREATE TRIGGER IF NOT EXISTS records_recordchange_no_delete BEFORE DELETE ON records_recordchange WHEN COALESCE((SELECT retain_until FROM records_record WHERE id = OLD.record_id), '9999-12-31') >= date('now') BEGIN SELECT RAISE(ABORT, 'record trail is append-only: DELETE rejected'); END",
    "CREATE TRIGGER IF NOT EXISTS records_recordtransition_no_update BEFORE UPDATE ON records_recordtransition BEGIN SELECT RAISE(ABORT, 'record trail is append-only: UPDATE rejected'); END",
    "CREATE TRIGGER IF NOT EXISTS records_recordtransition_no_delete BEFORE DELETE ON records_recordtransition WHEN COALESCE((SELECT retain_until FROM records_record WHERE id = OLD.record_id), '9999-12-31') >= date('now') BEGIN SELECT RAISE(ABORT, 'record trail is append-only: DELETE rejected'); END",
    "CREATE TRIGGER IF NOT EXISTS records_recordsignature_no_update BEFORE UPDATE ON records_recordsignature BEGIN SELECT RAISE(ABORT, 'record trail is append-only: UPDATE rejected'); END",
    "CREATE TRIGGER IF NOT EXISTS records_recordsignature_no_delete BEFORE DELETE ON records_recordsignature WHEN COALESCE((SELECT retain_until FROM records_record WHERE id = OLD.record_id), '9999-12-31') >= date('now') BEGIN SELECT RAISE(ABORT, 'record trail is append-only: DELETE rejected'); END",
    "CREATE TRIGGER IF NOT EXISTS records_recordequipment_locked BEFORE UPDATE ON records_recordequipment WHEN (SELECT locked_at FROM records_record WHERE id = OLD.record_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'equipment of a locked original record cannot change: UPDATE rejected'); END",
    "CREATE TRIGGER IF NOT EXISTS records_recordequipment_kept BEFORE DELETE ON records_recordequipment WHEN (SELECT locked_at FROM records_record WHERE id = OLD.record_id) IS NOT NULL AND COALESCE((SELECT retain_until FROM records_record WHERE id = OLD.record_id), '9999-12-31') >= date('now') BEGIN SELECT RAISE(ABORT, 'equipment of a locked original record cannot change: DELETE rejected'); END",
]
SQLITE_REVERSE = [
    'DROP TRIGGER IF EXISTS records_record_locked',
    'DROP TRIGGER IF EXISTS records_record_retained',
    'DROP TRIGGER IF EXISTS records_recordequipment_locked',
    'DROP TRIGGER IF EXISTS records_recordequipment_kept',
    'DROP TRIGGER IF EXISTS records_recordchange_no_update',
    'DROP TRIGGER IF EXISTS records_recordchange_no_delete',
    'DROP TRIGGER IF EXISTS records_recordtransition_no_update',
    'DROP TRIGGER IF EXISTS records_recordtransition_no_delete',
    'DROP TRIGGER IF EXISTS records_recordsignature_no_update',
    'DROP TRIGGER IF EXISTS records_recordsignature_no_delete',
]
POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION records_record_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'UPDATE' THEN IF OLD.locked_at IS NOT NULL AND NOT (OLD.status = 'approved' AND NEW.status = 'superseded' AND (to_jsonb(NEW) - 'status' - 'updated_at') = (to_jsonb(OLD) - 'status' - 'updated_at')) THEN RAISE EXCEPTION USING MESSAGE = 'original record is approved and locked: UPDATE rejected'; END IF; RETURN NEW; END IF; IF OLD.retain_until IS NULL OR OLD.retain_until >= CURRENT_DATE THEN RAISE EXCEPTION USING MESSAGE = 'original record is kept until its retention period ends: DELETE rejected'; END IF; RETURN OLD; END $$",
    'DROP TRIGGER IF EXISTS records_record_guard ON records_record',
    'CREATE TRIGGER records_record_guard BEFORE UPDATE OR DELETE ON records_record FOR EACH ROW EXECUTE FUNCTION records_record_guard()',
    "CREATE OR REPLACE FUNCTION records_trail_guard() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE kept date; BEGIN IF TG_OP = 'UPDATE' THEN RAISE EXCEPTION USING MESSAGE = 'record trail is append-only: UPDATE rejected'; END IF; SELECT retain_until INTO kept FROM records_record WHERE id = OLD.record_id; IF kept IS NULL OR kept >= CURRENT_DATE THEN RAISE EXCEPTION USING MESSAGE = 'record trail is append-only: DELETE rejected'; END IF; RETURN OLD; END $$",
    "CREATE OR REPLACE FUNCTION records_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION USING MESSAGE = 'original records: TRUNCATE rejected'; END $$",
    'DROP TRIGGER IF EXISTS records_record_no_truncate ON records_record',
    'CREATE TRIGGER records_record_no_truncate BEFORE TRUNCATE ON records_record FOR EACH STATEMENT EXECUTE FUNCTION records_no_truncate()',
    "CREATE OR REPLACE FUNCTION records_equipment_guard() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE locked timestamptz; kept date; BEGIN SELECT locked_at, retain_until INTO locked, kept FROM records_record WHERE id = OLD.record_id; IF locked IS NOT NULL AND (TG_OP = 'UPDATE' OR kept IS NULL OR kept >= CURRENT_DATE) THEN RAISE EXCEPTION USING MESSAGE = 'equipment of a locked original record cannot change: ' || TG_OP || ' rejected'; END IF; IF TG_OP = 'UPDATE' THEN RETURN NEW; END IF; RETURN OLD; END $$",
    'DROP TRIGGER IF EXISTS records_recordequipment_guard ON records_recordequipment',
    'CREATE TRIGGER records_recordequipment_guard BEFORE UPDATE OR DELETE ON records_recordequipment FOR EACH ROW EXECUTE FUNCTION records_equipment_guard()',
    'DROP TRIGGER IF EXISTS records_recordchange_guard ON records_recordchange',
    'CREATE TRIGGER records_recordchange_guard BEFORE UPDATE OR DELETE ON records_recordchange FOR EACH ROW EXECUTE FUNCTION records_trail_guard()',
    'DROP TRIGGER IF EXISTS records_recordchange_no_truncate ON records_recordchange',
    'CREATE TRIGGER records_recordchange_no_truncate BEFORE TRUNCATE ON records_recordchange FOR EACH STATEMENT EXECUTE FUNCTION records_no_truncate()',
    'DROP TRIGGER IF EXISTS records_recordtransition_guard ON records_recordtransition',
    'CREATE TRIGGER records_recordtransition_guard BEFORE UPDATE OR DELETE ON records_recordtransition FOR EACH ROW EXECUTE FUNCTION records_trail_guard()',
    'DROP TRIGGER IF EXISTS records_recordtransition_no_truncate ON records_recordtransition',
    'CREATE TRIGGER records_recordtransition_no_truncate BEFORE TRUNCATE ON records_recordtransition FOR EACH STATEMENT EXECUTE FUNCTION records_no_truncate()',
    'DROP TRIGGER IF EXISTS records_recordsignature_guard ON records_recordsignature',
    'CREATE TRIGGER records_recordsignature_guard BEFORE UPDATE OR DELETE ON records_recordsignature FOR EACH ROW EXECUTE FUNCTION records_trail_guard()',
    'DROP TRIGGER IF EXISTS records_recordsignature_no_truncate ON records_recordsignature',
    'CREATE TRIGGER records_recordsignature_no_truncate BEFORE TRUNCATE ON records_recordsignature FOR EACH STATEMENT EXECUTE FUNCTION records_no_truncate()',
]
POSTGRESQL_REVERSE = [
    'DROP TRIGGER IF EXISTS records_record_guard ON records_record',
    'DROP TRIGGER IF EXISTS records_record_no_truncate ON records_record',
    'DROP TRIGGER IF EXISTS records_recordequipment_guard ON records_recordequipment',
    'DROP TRIGGER IF EXISTS records_recordchange_guard ON records_recordchange',
    'DROP TRIGGER IF EXISTS records_recordchange_no_truncate ON records_recordchange',
    'DROP TRIGGER IF EXISTS records_recordtransition_guard ON records_recordtransition',
    'DROP TRIGGER IF EXISTS records_recordtransition_no_truncate ON records_recordtransition',
    'DROP TRIGGER IF EXISTS records_recordsignature_guard ON records_recordsignature',
    'DROP TRIGGER IF EXISTS records_recordsignature_no_truncate ON records_recordsignature',
    'DROP FUNCTION IF EXISTS records_record_guard()',
    'DROP FUNCTION IF EXISTS records_trail_guard()',
    'DROP FUNCTION IF EXISTS records_equipment_guard()',
    'DROP FUNCTION IF EXISTS records_no_truncate()',
]


def _run(schema_editor, statements_by_vendor):
    for sql in statements_by_vendor[schema_editor.connection.vendor]:
        schema_editor.execute(sql, params=None)


def install(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE, "postgresql": POSTGRESQL})


def remove(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE})


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0002_template_review_note"),
    ]

    operations = [
        migrations.RunPython(install, remove),
        migrations.CreateModel(
            name="RecordNumberCounter",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                ("year", models.PositiveIntegerField(unique=True, verbose_name="year")),
                ("last", models.PositiveIntegerField(default=0, verbose_name="last sequence")),
            ],
            options={
                "verbose_name": "record number counter",
                "verbose_name_plural": "record number counters",
            },
        ),
    ]
