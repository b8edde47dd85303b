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


def test_a_result_reads_with_the_digits_it_was_entered_with():
    rows = {r.field: r for r in change_rows(None, {
        "test_code": "activity", "value": 1.2e9, "unit": "Bq", "entered": "1.20 GBq"})}
    assert (rows["value"].after, rows["entered"].after) == ("1.20 GBq", "1.20 GBq")


def test_a_result_recorded_before_the_digits_were_kept_reads_without_its_binary_noise():
    # events of that time hold the float's text and no unit
    rows = {r.field: r for r in change_rows(None, {
        "test_code": "activity", "value": 1424437493.2728838,
        "entered": "1424.4374932728838 MBq"})}
    assert (rows["entered"].after, rows["value"].after) == ("1424 MBq", "1.424 GBq")


def test_a_stored_message_reads_its_times_in_the_site_zone_with_utc_in_brackets(settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    [row] = change_rows(None, {"message": "Count again after 2026-11-28 10:00:00 UTC; "
                                          "valid from 2026-11-28T10:00:00+00:00."})
    assert row.after == ("Count again after 2026-11-28 11:00:00 CET (10:00:00 UTC); "
                         "valid from 2026-11-28 11:00:00 CET (10:00:00 UTC).")
