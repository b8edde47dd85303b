"""The audit trail shows each change as field, before and after, in the pages' formats, with
the person's name; the raw record is one click away."""


import pytest
from django.urls import reverse

from batches.web.audit_changes import change_rows

pytestmark = pytest.mark.django_db


def test_a_change_reads_field_by_field_in_the_formats_of_the_pages(settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    rows = change_rows({"status": "in_qc", "activity_bq": 900000000.0},
                       {"status": "reviewed", "activity_bq": 900000000.0,
                        "eos": "2026-01-10T08:30:00Z", "volume_ml": 4.0, "locked": True})
    by_field = {r.field: r for r in rows}
    assert (by_field["status"].before, by_field["status"].after) == ("in_qc", "reviewed")
    assert by_field["status"].changed and not by_field["activity"].changed
    assert by_field["activity"].after == "900 MBq"
    assert by_field["eos"].after == "2026-01-10 09:30:00 CET (08:30:00 UTC)"
    assert by_field["eos"].before == ""
    assert by_field["volume"].after == "4 mL"
    assert by_field["locked"].after == "yes"


def test_a_value_that_is_no_dict_reads_as_one_field():
    [row] = change_rows(None, 3)
    assert (row.field, row.before, row.after) == ("value", "", "3")


def test_the_audit_page_names_the_person_and_keeps_the_raw_record(
        client_for, qp, settled_ac225):
    html = client_for(qp).get(reverse("audit-trail")).content.decode()
    assert 'data-testid="changes"' in html
    assert "Olga Operator (olga)" in html  # who registered the batch
    assert "raw record" in html and "&quot;activity_bq&quot;" in html
    assert "8.00 MBq" in html  # the registered activity, as the pages show it
