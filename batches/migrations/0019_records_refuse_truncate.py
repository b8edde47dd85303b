"""Tables of GMP records that are not append-only (their rows change state) refuse TRUNCATE
too: batches, certificates, elutions, generators, source lots, raw data files."""

from django.db import migrations

from qc.append_only import postgres_keep_records_sql, postgres_triggers

TABLES = ["batches_batch", "batches_certificate", "batches_elution", "batches_generator",
          "batches_rawdatafile", "batches_sourcelot"]


class Migration(migrations.Migration):
    dependencies = [("batches", "0018_batch_eos_index")]

    operations = [postgres_triggers(postgres_keep_records_sql, TABLES)]
