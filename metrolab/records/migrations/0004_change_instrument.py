"""The instrument that took a reading in a procedure run, on the record's trail (R8b).

On SQLite, adding the column rebuilds the table and drops its triggers: the append-only
guards of migration 0003 are installed again after it (they are `IF NOT EXISTS`)."""

import importlib

from django.db import migrations, models

guards = importlib.import_module("metrolab.records.migrations.0003_number_counter_and_guards")


def reinstall_sqlite_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in guards.SQLITE:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0003_number_counter_and_guards"),
    ]

    operations = [
        migrations.AddField(
            model_name="recordchange",
            name="instrument",
            field=models.CharField(blank=True, max_length=200, verbose_name="instrument"),
        ),
        migrations.RunPython(reinstall_sqlite_guards, migrations.RunPython.noop),
    ]
