"""Results keep the number as it was entered (its digits are its precision).

Results recorded before kept only the float and an entered text made from it
("1424.4374932728838 MBq"), so their entered number is derived from that text's float with
a reasonable precision (qc.entered.derived_text: its shortest form up to 6 figures, else 4
significant figures: "1424"). Only the new column is filled: what was recorded (value,
entered_value, times, people) is not touched, and no audit event changes. Results are
append-only, so on PostgreSQL the row trigger that refuses UPDATE is switched off for this
fill and on again in the same transaction (a migration runs as the table owner)."""

from django.db import migrations, models

from qc.entered import derived_text

BATCH = 1000


def entered_number(entered_value: str) -> str:
    """The number of an earlier result's entered text ('1424.4374932728838 MBq',
    '< 2.5 EU/mL'), in its entered unit, to a reasonable precision; '' if there is none (the
    pages then read the float in its canonical unit)."""
    parts = entered_value.replace("<", " ").replace(">", " ").split()
    try:
        return derived_text(float(parts[0]))
    except (IndexError, ValueError):
        return ""


def _fill(apps, schema_editor):
    Result = apps.get_model("batches", "Result")
    table = Result._meta.db_table
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
    numeric = (Result.objects.filter(value__isnull=False, value_text="", entered_number="")
               .only("id", "entered_value").order_by("id"))
    pending = []
    for result in numeric.iterator(chunk_size=BATCH):
        result.entered_number = entered_number(result.entered_value)
        pending.append(result)
        if len(pending) == BATCH:
            Result.objects.bulk_update(pending, ["entered_number"])
            pending = []
    if pending:
        Result.objects.bulk_update(pending, ["entered_number"])
    if postgres:
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no event left pending
        schema_editor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")


class Migration(migrations.Migration):

    dependencies = [
        ("batches", "0015_stability_no_truncate"),
    ]

    operations = [
        migrations.AddField(
            model_name="result",
            name="entered_number",
            field=models.CharField(
                blank=True, max_length=40,
                help_text="The number as entered or posted, with a decimal point (e.g. '1.20'): "
                "its digits are the precision the value is shown with (qc.entered). Empty for a "
                "text result."),
        ),
        migrations.RunPython(_fill, migrations.RunPython.noop),
    ]
