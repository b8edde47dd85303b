from django.db import migrations

from qc.append_only import postgres_no_truncate_sql

NO_TRUNCATE = ["batches_result", "batches_evaluation", "batches_resultinvalidation"]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in NO_TRUNCATE:
        schema_editor.execute(postgres_no_truncate_sql(table)[0])


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in NO_TRUNCATE:
        schema_editor.execute(postgres_no_truncate_sql(table)[1])


class Migration(migrations.Migration):
    dependencies = [("batches", "0004_certificate_claim"), ("qc", "0004_refuse_truncate_key_read_scopes")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
