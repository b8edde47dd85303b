# The batch list's indexes carry the batch id, so that a deep page is found in the index alone
# (an index-only scan on PostgreSQL; SQLite makes them without the included column). The new
# ones are made before the old ones go, so the dashboard and the list always have one. A plain
# CREATE INDEX: the batches table is small (150 000 rows in ten years: well under a second of
# blocked registrations), unlike the audit trail.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("batches", "0019_records_refuse_truncate"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="batch",
            index=models.Index(fields=["status", "-eos"], include=("id",),
                               name="batch_status_eos_id_idx"),
        ),
        migrations.AddIndex(
            model_name="batch",
            index=models.Index(fields=["-eos"], include=("id",), name="batch_eos_id_idx"),
        ),
        migrations.RemoveIndex(model_name="batch", name="batches_bat_status_9c1dda_idx"),
        migrations.RemoveIndex(model_name="batch", name="batches_bat_eos_298283_idx"),
    ]
