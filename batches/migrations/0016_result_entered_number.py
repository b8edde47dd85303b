"""Results keep the number as it was entered (its digits are its precision).

Results are append-only, so rows recorded before are not filled in: their entered number
stays empty and Result reads it from their entered text when they are shown
(qc.entered.number_of_entered_text: "1424.4374932728838 MBq" reads "1424 MBq")."""

from django.db import migrations, models


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
                "text result, and for a result recorded before the digits were kept."),
        ),
    ]
