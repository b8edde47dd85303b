from django.db import migrations

from qc.append_only import postgres_append_only_sql

APPEND_ONLY_TABLES = ["batches_result", "batches_evaluation", "batches_resultinvalidation"]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(postgres_append_only_sql(table)[0])


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(postgres_append_only_sql(table)[1])


class Migration(migrations.Migration):
    dependencies = [("batches", "0001_initial"), ("qc", "0002_append_only_and_roles")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
