import pytest
from django.db import connection, transaction

from qc.append_only import AppendOnlyError
from qc.audit import AuditEntry, audit_record, audit_record_many, event_hash, verify_chain
from qc.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db


def write_events(actor, n=3):
    with transaction.atomic():
        return [audit_record(actor=actor, action="test.event", object_type="test",
                             object_id=i, after={"i": i}) for i in range(n)]


def test_each_event_links_to_the_hash_of_the_one_before(analyst):
    first, second, third = write_events(analyst)
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_an_event_cannot_be_written_outside_a_transaction(analyst):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=analyst, action="test.event", object_type="t", object_id=1)


def test_the_model_refuses_to_update_or_delete_an_event(analyst):
    event = write_events(analyst, 1)[0]
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def tamper(sql, params):
    """Change the table behind the application's back; on PostgreSQL that first takes
    switching off triggers, as a database superuser could."""
    if connection.vendor != "postgresql":
        _raw(sql, params)
        return
    _raw("SET LOCAL session_replication_role = replica", [])
    try:
        _raw(sql, params)
    finally:
        _raw("SET LOCAL session_replication_role = DEFAULT", [])


def test_an_event_changed_with_raw_sql_is_detected(analyst):
    events = write_events(analyst)
    tamper("UPDATE qc_auditevent SET reason = %s WHERE id = %s", ["tampered", events[1].id])
    report = verify_chain()
    assert not report.ok
    assert report.broken_event_id == events[1].id
    assert "no longer matches its hash" in report.problem


def test_an_event_deleted_with_raw_sql_is_detected(analyst):
    events = write_events(analyst)
    tamper("DELETE FROM qc_auditevent WHERE id = %s", [events[1].id])
    report = verify_chain()
    assert report.broken_event_id == events[2].id
    assert "link to the previous event is broken" in report.problem


def test_the_last_event_deleted_with_raw_sql_is_detected(analyst):
    events = write_events(analyst)
    tamper("DELETE FROM qc_auditevent WHERE id = %s", [events[-1].id])
    assert "were deleted" in verify_chain().problem


@pytest.mark.services  # the trigger exists on PostgreSQL, which the services run uses
@pytest.mark.parametrize("sql", ["UPDATE qc_auditevent SET reason = 'x' WHERE id = %s",
                                 "DELETE FROM qc_auditevent WHERE id = %s"])
def test_postgresql_refuses_raw_update_and_delete_of_an_event(analyst, sql):
    from django.db import DatabaseError

    assert connection.vendor == "postgresql"
    event = write_events(analyst, 1)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _raw(sql, [event.id])


def test_an_event_written_alone_is_hashed_as_the_verification_hashes_it(analyst):
    # On PostgreSQL the database hashes it, in the statement that inserts it
    # (config.sql.insert_chained); whatever the text, verify_chain must find that hash.
    [first] = write_events(analyst, 1)
    with transaction.atomic():
        second = audit_record(actor=analyst, action="test.event", object_type="test",
                              object_id="µ-1", after={"note": "Ac-225 ≥ 99.5 % ✓", "n": None},
                              reason="naïve 😀")
    stored = AuditEvent.objects.get(pk=second.pk)
    assert second.prev_hash == stored.prev_hash == first.hash
    assert second.hash == stored.hash == event_hash(first.hash, stored)
    head = AuditChainHead.objects.get()
    assert (head.last_hash, head.count) == (second.hash, 2)
    assert verify_chain().ok


def test_an_event_written_alone_costs_one_statement_on_postgresql(analyst):
    from django.test.utils import CaptureQueriesContext

    write_events(analyst, 1)
    with CaptureQueriesContext(connection) as queries:
        write_events(analyst, 1)
    statements = [q["sql"] for q in queries.captured_queries if "qc_audit" in q["sql"]]
    # Lock the head, hash, move the head, insert: one statement on PostgreSQL; three
    # elsewhere (SQLite locks the whole database for the transaction anyway).
    assert len(statements) == (1 if connection.vendor == "postgresql" else 3), statements


@pytest.mark.services  # concurrent writers need PostgreSQL, which the services run uses
@pytest.mark.django_db(transaction=True)
def test_events_written_alone_by_concurrent_writers_form_one_unbroken_chain(analyst):
    import threading

    from django.db import connections

    start, failures = threading.Barrier(6), []

    def writer(n):
        try:
            start.wait()
            for i in range(15):
                with transaction.atomic():
                    audit_record(actor=analyst, action="test.event", object_type="writer",
                                 object_id=f"{n}-{i}", after={"i": i})
        except Exception as exc:  # reported below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert AuditChainHead.objects.get().count == AuditEvent.objects.count() == 90
    report = verify_chain()
    assert report.ok and report.checked == 90


def write_many(actor, n=5):
    entries = [AuditEntry(action="test.bulk", object_type="test", object_id=i, after={"i": i})
               for i in range(n)]
    with transaction.atomic():
        return audit_record_many(actor=actor, entries=entries)


def test_events_written_together_are_chained_in_order_after_the_ones_before(analyst):
    [single] = write_events(analyst, 1)
    events = write_many(analyst)
    stored = list(AuditEvent.objects.order_by("id"))
    assert [e.id for e in stored] == [single.id] + [e.id for e in events]
    assert [e.after for e in stored[1:]] == [{"i": i} for i in range(5)]
    assert [e.prev_hash for e in stored[1:]] == [e.hash for e in stored[:-1]]
    assert all(e.actor == analyst for e in stored)
    assert AuditChainHead.objects.get().count == 6
    assert verify_chain().ok and verify_chain().checked == 6


@pytest.mark.django_db(transaction=True)
def test_events_written_together_need_the_transaction_of_the_change(analyst):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record_many(actor=analyst, entries=[
            AuditEntry(action="test.bulk", object_type="test", object_id=1)])
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_an_event_written_together_and_changed_with_raw_sql_is_detected(analyst, where):
    events = write_many(analyst)
    changed = {"first": events[0], "middle": events[2], "last": events[-1]}[where]
    tamper("UPDATE qc_auditevent SET after = %s WHERE id = %s", ['{"i": 99}', changed.id])
    report = verify_chain()
    assert report.broken_event_id == changed.id
    assert "no longer matches its hash" in report.problem


def test_an_event_written_together_and_deleted_with_raw_sql_is_detected(analyst):
    events = write_many(analyst)
    tamper("DELETE FROM qc_auditevent WHERE id = %s", [events[2].id])
    report = verify_chain()
    assert report.broken_event_id == events[3].id
    assert "link to the previous event is broken" in report.problem


def test_events_written_together_and_cut_off_at_the_end_are_detected(analyst):
    events = write_many(analyst)
    tamper("DELETE FROM qc_auditevent WHERE id >= %s", [events[3].id])
    assert "were deleted" in verify_chain().problem


def test_every_break_is_reported_and_counted_not_only_the_first(analyst):
    events = write_many(analyst, 8)
    tamper("UPDATE qc_auditevent SET reason = 'x' WHERE id IN (%s, %s)",
           [events[1].id, events[6].id])
    tamper("DELETE FROM qc_auditevent WHERE id = %s", [events[3].id])
    found = []
    report = verify_chain(on_break=found.append)
    assert [(b.event_id, b.problem.split(" (")[0]) for b in found] == [
        (events[1].id, "its content no longer matches its hash"),
        (events[4].id, "its link to the previous event is broken"),
        (events[6].id, "its content no longer matches its hash"),
        (None, "the chain head records 8 events ending in hash " + events[-1].hash[:12] + "...,"
               " but the trail holds 7 ending at event #" + str(events[-1].id) + ": events were "
               "deleted")]
    assert report.break_count == 4 and report.first_break == found[0]
    assert report.checked == 7 and report.intact_before_first_break == 1


def _verify_peak_bytes() -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        assert verify_chain().ok
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_verifying_five_times_the_events_takes_no_more_memory(analyst):
    # Past two chunks of the cursor (2 x 2000 events) the peak must stay flat.
    write_many(analyst, 5000)
    small = _verify_peak_bytes()
    write_many(analyst, 20000)
    assert verify_chain().checked == 25000
    large = _verify_peak_bytes()
    assert large < small * 1.1, (small, large)
