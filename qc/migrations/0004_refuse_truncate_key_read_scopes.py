from django.db import migrations, models

from qc.append_only import postgres_keep_rows_sql, postgres_no_truncate_sql

# Append-only tables, and the chain head (updated, never emptied).
NO_TRUNCATE = ["qc_auditevent", "qc_signature", "qc_auditchainhead"]
KEEP_ROWS = ["qc_auditchainhead"]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in NO_TRUNCATE:
        schema_editor.execute(postgres_no_truncate_sql(table)[0])
    for table in KEEP_ROWS:
        schema_editor.execute(postgres_keep_rows_sql(table)[0])


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in NO_TRUNCATE:
        schema_editor.execute(postgres_no_truncate_sql(table)[1])
    for table in KEEP_ROWS:
        schema_editor.execute(postgres_keep_rows_sql(table)[1])


class Migration(migrations.Migration):
    dependencies = [("qc", "0003_instrument_api_keys")]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.AddField(
            model_name="instrumentapikey",
            name="read_scopes",
            field=models.JSONField(
                blank=True, default=list,
                help_text="What the key may read beyond the lots and criteria it reports on: "
                "read_certificates (release certificates), read_batch_records (a lot's whole "
                "record: every result, evaluation and raw data). Empty = neither."),
        ),
    ]
