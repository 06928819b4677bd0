"""Database triggers that make the audit log append-only (SQLite and PostgreSQL)."""

from django.db import migrations

TABLE = "core_auditevent"


def install(apps, schema_editor):
    from metrolab.core.audit import guard_statements

    for sql in guard_statements(schema_editor.connection.vendor, TABLE):
        schema_editor.execute(sql)


def remove(apps, schema_editor):
    from metrolab.core.audit import unguard_statements

    for sql in unguard_statements(schema_editor.connection.vendor, TABLE):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
