# The mean of every stored bucket, from its sum (and back, when migrating backwards).

import sys

from django.db import migrations
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
    fits = Q(mean__lte=LARGEST / F("count")) & Q(mean__gte=-LARGEST / F("count"))
    Aggregate.objects.filter(fits).update(total=F("mean") * F("count"))
    # The sums a float cannot hold (PostgreSQL refuses to overflow): infinite, as they were.
    for pk, mean, count in Aggregate.objects.exclude(fits).values_list("pk", "mean", "count"):
        Aggregate.objects.filter(pk=pk).update(total=mean * count)


class Migration(migrations.Migration):

    dependencies = [
        ('environment', '0004_aggregate_mean'),
    ]

    operations = [
        migrations.RunPython(mean_from_total, total_from_mean),
    ]
