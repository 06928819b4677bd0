# Aggregates keep their mean instead of their sum (a sum of large values overflows a float).

import sys

from django.db import migrations, models
from django.db.models import F, Q

LARGEST = sys.float_info.max


def mean_from_total(apps, schema_editor):
    Aggregate = apps.get_model("environment", "Aggregate")
    Aggregate.objects.filter(count__gt=0).update(mean=F("total") / F("count"))
    # A sum that had overflowed says nothing more than min and max: the middle of them.
    broken = Aggregate.objects.filter(Q(mean__gt=LARGEST) | Q(mean__lt=-LARGEST))
    for pk, low, high in broken.values_list("pk", "minimum", "maximum"):
        Aggregate.objects.filter(pk=pk).update(mean=low / 2 + high / 2)


def total_from_mean(apps, schema_editor):
    Aggregate = apps.get_model("environment", "Aggregate")
    Aggregate.objects.update(total=F("mean") * F("count"))


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
        migrations.RunPython(mean_from_total, total_from_mean),
        migrations.RemoveField(
            model_name='aggregate',
            name='total',
        ),
    ]
