"""The stability tables were made append-only before postgres_append_only_sql also refused
TRUNCATE: give them the TRUNCATE trigger the other append-only tables have."""

from django.db import migrations

from qc.append_only import postgres_no_truncate_sql

TABLES = ["batches_stabilityresult", "batches_stabilityalert"]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(postgres_no_truncate_sql(table)[0])


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(postgres_no_truncate_sql(table)[1])


class Migration(migrations.Migration):
    dependencies = [("batches", "0014_merge_rules")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
