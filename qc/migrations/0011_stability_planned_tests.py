"""The plan of a stability protocol: which criterion is tested at which time point. Append-only
(triggers as on every append-only table); the protocols before it tested every criterion at
every time point, so each gets that full plan."""

import django.db.models.deletion
from django.db import migrations, models

from qc.append_only import postgres_append_only_sql

TABLE = "qc_stabilityplannedtest"


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(postgres_append_only_sql(TABLE)[0])


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(postgres_append_only_sql(TABLE)[1])


def plan_every_criterion_at_every_time_point(apps, schema_editor):
    protocol_model = apps.get_model("qc", "StabilityProtocol")
    planned = apps.get_model("qc", "StabilityPlannedTest")
    for protocol in protocol_model.objects.all():
        planned.objects.bulk_create(
            planned(protocol=protocol, time_point=point, criterion=criterion)
            for point in protocol.time_points.all() for criterion in protocol.criteria.all())


class Migration(migrations.Migration):

    dependencies = [
        ('qc', '0010_merge_rules'),
    ]

    operations = [
        migrations.CreateModel(
            name='StabilityPlannedTest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('criterion', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='planned_tests', to='qc.stabilitycriterion')),
                ('protocol', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='planned_tests', to='qc.stabilityprotocol')),
                ('time_point', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='planned_tests', to='qc.stabilitytimepoint')),
            ],
            options={
                'ordering': ['protocol', 'time_point__position', 'criterion__position'],
                'constraints': [models.UniqueConstraint(fields=('time_point', 'criterion'), name='stability_planned_test_unique')],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.RunPython(plan_every_criterion_at_every_time_point,
                             migrations.RunPython.noop),
    ]
