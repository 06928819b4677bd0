"""The reviewer's note on a template version, and a database guard: an approved or retired
template version's definition and digest never change, nor does it go back to draft or review
(R6.2d; the services refuse first, the trigger stops any other writer). Only UPDATE is
guarded, so the test suite's flush (DELETE / TRUNCATE) is unaffected."""

from django.db import migrations, models

TABLE = "records_templateversion"
GUARD = f"{TABLE}_final"
MESSAGE = "an approved template version never changes"
FINAL = "('approved', 'retired')"


def _install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = [
            f"CREATE TRIGGER IF NOT EXISTS {GUARD} BEFORE UPDATE ON {TABLE} "
            f"WHEN OLD.status IN {FINAL} AND (NEW.definition IS NOT OLD.definition "
            f"OR NEW.digest IS NOT OLD.digest OR NEW.status NOT IN {FINAL}) "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
        ]
    elif vendor == "postgresql":
        statements = [
            f"CREATE OR REPLACE FUNCTION {GUARD}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '{MESSAGE}'; "
            "END $$",
            f"DROP TRIGGER IF EXISTS {GUARD} ON {TABLE}",
            f"CREATE TRIGGER {GUARD} BEFORE UPDATE ON {TABLE} FOR EACH ROW "
            f"WHEN (OLD.status IN {FINAL} AND (NEW.definition IS DISTINCT FROM OLD.definition "
            f"OR NEW.digest IS DISTINCT FROM OLD.digest OR NEW.status NOT IN {FINAL})) "
            f"EXECUTE FUNCTION {GUARD}()",
        ]
    else:
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = [f"DROP TRIGGER IF EXISTS {GUARD}"]
    elif vendor == "postgresql":
        statements = [
            f"DROP TRIGGER IF EXISTS {GUARD} ON {TABLE}",
            f"DROP FUNCTION IF EXISTS {GUARD}()",
        ]
    else:
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="templateversion",
            name="review_note",
            field=models.TextField(blank=True, max_length=5000, verbose_name="review note"),
        ),
        migrations.RunPython(_install, _remove),
    ]
