"""Master data and key tables refuse TRUNCATE (their rows change state, so they are not
append-only): products, specifications, criteria, methods, instruments, API keys, stability
protocols."""

from django.db import migrations

from qc.append_only import postgres_keep_records_sql, postgres_triggers

TABLES = ["qc_criterion", "qc_instrument", "qc_instrumentapikey", "qc_product",
          "qc_specification", "qc_stabilitycriterion", "qc_stabilityprotocol",
          "qc_stabilitytimepoint", "qc_testmethod"]


class Migration(migrations.Migration):
    dependencies = [("qc", "0012_merge_plan_daughters")]

    operations = [postgres_triggers(postgres_keep_records_sql, TABLES)]
