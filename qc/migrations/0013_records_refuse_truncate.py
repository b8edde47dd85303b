"""Master data and key tables refuse TRUNCATE (their rows change state, so they are not
append-only): products, specifications, criteria, methods, instruments, API keys, stability
protocols."""

from django.db import migrations

from qc.append_only import postgres_keep_records_sql

TABLES = ["qc_criterion", "qc_instrument", "qc_instrumentapikey", "qc_product",
          "qc_specification", "qc_stabilitycriterion", "qc_stabilityprotocol",
          "qc_stabilitytimepoint", "qc_testmethod"]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(postgres_keep_records_sql(table)[0])


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(postgres_keep_records_sql(table)[1])


class Migration(migrations.Migration):
    dependencies = [("qc", "0012_merge_plan_daughters")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
