from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('environment', '0005_aggregate_mean_values'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='aggregate',
            name='total',
        ),
    ]
