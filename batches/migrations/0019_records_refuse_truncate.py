"""Tables of GMP records that are not append-only (their rows change state) refuse TRUNCATE
too: batches, certificates, elutions, generators, source lots, raw data files."""

from django.db import migrations

from qc.append_only import postgres_keep_records_sql

TABLES = ["batches_batch", "batches_certificate", "batches_elution", "batches_generator",
          "batches_rawdatafile", "batches_sourcelot"]


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
    dependencies = [("batches", "0018_batch_eos_index")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
