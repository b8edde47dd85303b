"""The audit trail as the pages read it: filters, the per-batch trail, CSV export."""

import csv
import datetime as dt

import pytest
from django.utils import timezone

from qc.audit_selectors import CSV_COLUMNS, audit_events, audit_events_csv, can_view_audit_trail
from qc.models import AuditEvent
from tests.conftest import PASSWORD

from .flows import conditionally_released

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(pb212_batch, analyst, reviewer, qp, committed):
    return conditionally_released(pb212_batch, analyst=analyst, reviewer=reviewer, qp=qp,
                                  committed=committed)


def test_the_per_batch_trail_holds_the_batch_events_newest_first(trail):
    events = list(audit_events(batch_lot=trail.lot_number))
    assert events[0].action == "batch.release_conditionally"
    assert events[-1].action == "batch.register"
    assert [e.id for e in events] == sorted((e.id for e in events), reverse=True)
    assert not AuditEvent.objects.exclude(batch_lot=trail.lot_number).filter(
        id__in=[e.id for e in events]).exists()


def test_filters_by_user_action_family_object_and_time(trail, analyst, qp, now):
    assert {e.action for e in audit_events(user=analyst)} == {"result.record", "batch.status"}
    assert set(audit_events(user="quinn")) == set(audit_events(user=qp))
    assert [e.action for e in audit_events(action="signature")] == [
        "signature.conditionally_released", "signature.reviewed", "signature.approved",
        "signature.approved", "signature.approved"]
    assert [e.action for e in audit_events(action="batch.review")] == ["batch.review"]
    assert {e.object_type for e in audit_events(object_type="batches.evaluation")} == {
        "batches.evaluation"}
    everything = audit_events().count()
    assert audit_events(since=now - dt.timedelta(minutes=5)).count() == everything
    assert audit_events(until=now - dt.timedelta(minutes=5)).count() == 0
    today = timezone.localdate()
    assert audit_events(since=today, until=today).count() == everything
    assert audit_events(until=today - dt.timedelta(days=1)).count() == 0


def test_a_failed_login_is_found_by_the_name_that_was_tried(client, db):
    client.post("/login/", {"username": "mallory", "password": "guess"})
    assert [e.action for e in audit_events(user="mallory")] == ["auth.login_failed"]


def test_the_csv_export_has_a_header_and_one_row_per_event(trail):
    events = audit_events(batch_lot=trail.lot_number)
    rows = list(csv.reader("".join(audit_events_csv(events)).splitlines()))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == events.count() + 1
    first = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    newest = events.first()
    assert first["id"] == str(newest.id) and first["action"] == newest.action
    assert first["at_utc"].endswith("Z") and first["hash"] == newest.hash
    assert first["after"].startswith("{")


def test_the_csv_export_defuses_spreadsheet_formulas(db, qp):
    from django.db import transaction

    from qc.audit import audit_record

    with transaction.atomic():
        audit_record(actor=None, actor_name="=HYPERLINK(\"http://x\")", action="auth.login_failed",
                     object_type="auth.user", object_id="@sum", reason="+1")
    rows = list(csv.reader("".join(audit_events_csv(audit_events())).splitlines()))
    row = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert row["actor"].startswith("'=") and row["object_id"] == "'@sum"
    assert row["reason"] == "'+1"


def test_qa_and_qps_see_the_audit_trail_others_do_not(operator, analyst, reviewer, qp,
                                                       admin_user, outsider):
    assert [can_view_audit_trail(u) for u in (operator, analyst, reviewer, qp, admin_user,
                                              outsider)] == [False, False, True, True, False,
                                                             False]


def test_nothing_here_writes(trail):
    before = AuditEvent.objects.count()
    list(audit_events_csv(audit_events(action="batch", user="rui")))
    assert AuditEvent.objects.count() == before
    assert PASSWORD  # the personas' password is not part of any export
    assert not any(PASSWORD in line for line in audit_events_csv(audit_events()))
