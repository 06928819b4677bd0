# Aggregates keep their mean instead of their sum (a sum of large values overflows a float).
# Three steps in three migrations (the column, its values, the old column's removal): on
# PostgreSQL a table cannot be altered in the transaction that updated its rows.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('environment', '0003_sensor_plausibility'),
    ]

    operations = [
        migrations.AddField(
            model_name='aggregate',
            name='mean',
            field=models.FloatField(default=0.0),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name='aggregate',
            name='total',
            field=models.FloatField(default=0.0),
        ),
    ]
