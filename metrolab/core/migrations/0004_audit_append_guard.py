"""The audit log accepts an INSERT only when it continues the chain (SQLite and PostgreSQL):
the next sequence number and the newest event's hash as its previous hash (R7.2b). This stops
SQLite's `REPLACE INTO` / `INSERT OR REPLACE` (which delete the replaced rows without firing
DELETE triggers) and any insert out of place. Verifications may also record anchors of the
chain's head ("head anchored").

The SQL is written out here (not imported) so that this migration stays as it was applied.
"""

from django.db import migrations, models

SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS core_auditevent_append_only BEFORE INSERT ON core_auditevent "
    "WHEN NEW.seq IS NOT COALESCE((SELECT MAX(seq) FROM core_auditevent), 0) + 1 "
    "OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM core_auditevent WHERE seq = NEW.seq - 1), "
    "'0000000000000000000000000000000000000000000000000000000000000000') "
    "OR EXISTS (SELECT 1 FROM core_auditevent WHERE hash = NEW.hash) "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: an INSERT must carry the next sequence "
    "number and the hash of the newest event as its previous hash'); END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS core_auditevent_append_only",
]
POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ DECLARE head_seq bigint; head_hash text; BEGIN "
    "SELECT seq, hash INTO head_seq, head_hash FROM core_auditevent ORDER BY seq DESC LIMIT 1; "
    "IF NOT FOUND THEN head_seq := 0; "
    "head_hash := '0000000000000000000000000000000000000000000000000000000000000000'; END IF; "
    "IF NEW.seq IS DISTINCT FROM head_seq + 1 OR NEW.prev_hash IS DISTINCT FROM head_hash THEN "
    "RAISE EXCEPTION USING ERRCODE = 'check_violation', "
    "MESSAGE = 'audit log is append-only: an INSERT must carry the next sequence number "
    "and the hash of the newest event as its previous hash'; END IF; RETURN NEW; END $$",
    "DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent",
    "CREATE TRIGGER core_auditevent_append_only BEFORE INSERT ON core_auditevent "
    "FOR EACH ROW EXECUTE FUNCTION core_auditevent_append_only()",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent",
    "DROP FUNCTION IF EXISTS core_auditevent_append_only()",
]


def _run(schema_editor, statements_by_vendor):
    for sql in statements_by_vendor[schema_editor.connection.vendor]:
        schema_editor.execute(sql, params=None)


def install(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE, "postgresql": POSTGRESQL})


def remove(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE})


class Migration(migrations.Migration):
    dependencies = [("core", "0003_totp_replay_token_issuer")]

    operations = [
        migrations.RunPython(install, remove),
        migrations.AlterField(
            model_name="auditverification",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "queued"),
                    ("running", "running"),
                    ("intact", "intact"),
                    ("broken", "broken"),
                    ("failed", "failed"),
                    ("anchored", "head anchored"),
                ],
                default="queued",
                max_length=16,
                verbose_name="status",
            ),
        ),
    ]
