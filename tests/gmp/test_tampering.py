"""Tampering: a record changed behind the application's back is detected. verify_audit
checks the hash chain of the audit trail; a signature's record hash shows a changed batch
record; on PostgreSQL the database itself refuses UPDATE and DELETE."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from batches import selectors
from batches.disposition import record as signed_record
from batches.disposition import services as disposition
from batches.evaluation import results as evaluation
from batches.models import Evaluation, Result, ResultInvalidation
from qc.audit import CHANGED, UNLINKED
from qc.models import AuditEvent, Signature
from tests.conftest import PASSWORD

from .flows import conditionally_released, record, release_required_results

pytestmark = pytest.mark.django_db


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))


def tamper(table, sql, params=()):
    """Change a table as someone with database access could: on PostgreSQL that first
    takes switching the append-only trigger off."""
    if connection.vendor != "postgresql":
        raw(sql, params)
        return
    # ALTER TABLE is refused while deferred foreign-key checks of this transaction wait.
    raw("SET CONSTRAINTS ALL IMMEDIATE")
    raw(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
    try:
        raw(sql, params)
    finally:
        raw(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")


@pytest.fixture
def released_lot(pb212_batch, analyst, reviewer, qp, committed):
    return conditionally_released(pb212_batch, analyst=analyst, reviewer=reviewer, qp=qp,
                                  committed=committed)


def test_verify_audit_counts_the_events_of_an_intact_trail(released_lot, capsys):
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert out.strip() == f"Audit trail intact: {AuditEvent.objects.count()} events checked."
    assert AuditEvent.objects.count() > 20


def test_verify_audit_names_an_event_changed_with_raw_sql_and_exits_1(released_lot, capsys):
    release = AuditEvent.objects.get(action="batch.release_conditionally")
    tamper("qc_auditevent", "UPDATE qc_auditevent SET reason = %s WHERE id = %s",
           ["released after all checks", release.id])
    with pytest.raises(CommandError) as broken:
        call_command("verify_audit")
    assert broken.value.returncode == 1  # manage.py exits with it
    assert str(broken.value) == (f"Audit trail BROKEN at event #{release.id}: its content no "
                                 "longer matches its hash (the event was changed). 1 break in "
                                 "all, listed above.")
    earlier = AuditEvent.objects.filter(id__lt=release.id).count()
    out = capsys.readouterr().out
    assert f"{earlier} events intact before the first break." in out
    assert f"{AuditEvent.objects.count()} events checked;" in out


def test_verify_audit_names_the_event_after_one_deleted_with_raw_sql(released_lot):
    review = AuditEvent.objects.get(action="batch.review")
    following = AuditEvent.objects.filter(id__gt=review.id).order_by("id").first()
    tamper("qc_auditevent", "DELETE FROM qc_auditevent WHERE id = %s", [review.id])
    with pytest.raises(CommandError) as broken:
        call_command("verify_audit")
    assert broken.value.returncode == 1
    assert f"at event #{following.id}: its link to the previous event is broken" in str(
        broken.value)


def test_verify_audit_lists_every_break_not_only_the_first(released_lot, capsys):
    events = list(AuditEvent.objects.order_by("id"))
    deleted, changed, last = events[5], events[10], events[-1]
    tamper("qc_auditevent", "DELETE FROM qc_auditevent WHERE id = %s", [deleted.id])
    tamper("qc_auditevent", "UPDATE qc_auditevent SET reason = 'x' WHERE id IN (%s, %s)",
           [changed.id, last.id])
    with pytest.raises(CommandError, match="4 breaks in all") as broken:
        call_command("verify_audit")
    assert f"at event #{events[6].id}: its link" in str(broken.value)
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [f"BROKEN at event #{events[6].id}: {UNLINKED}.",
                         f"BROKEN at event #{changed.id}: {CHANGED}.",
                         f"BROKEN at event #{last.id}: {CHANGED}."]
    assert lines[3].startswith("BROKEN at end: the chain head records")
    assert lines[4] == f"{len(events) - 1} events checked; 5 events intact before the first break."


def test_verify_audit_notices_events_cut_off_at_the_end(released_lot):
    last = AuditEvent.objects.latest("id")
    tamper("qc_auditevent", "DELETE FROM qc_auditevent WHERE id = %s", [last.id])
    with pytest.raises(CommandError, match="at its end: .* events were deleted"):
        call_command("verify_audit")


@pytest.mark.parametrize("table, sql", [
    ("batches_result", "UPDATE batches_result SET value = 99.9 WHERE id = %s"),
    ("batches_evaluation", "UPDATE batches_evaluation SET verdict = 'fail' WHERE result_id = %s"),
    ("batches_result", "UPDATE batches_result SET measured_at = measured_at WHERE id = %s"),
])
def test_a_result_changed_with_raw_sql_shows_on_the_signatures_over_it(
        released_lot, table, sql):
    signatures = list(selectors.batch_signatures(batch=released_lot))
    assert [s.meaning for s in signatures] == ["reviewed", "conditionally_released"]
    assert all(signed_record.signature_integrity(s) for s in signatures)
    rcp = Result.objects.get(batch=released_lot, criterion__test_code="rcp")
    tamper(table, sql, [rcp.id])
    unchanged = "measured_at = measured_at" in sql
    assert [signed_record.signature_integrity(s) for s in signatures] == [unchanged, unchanged]


def test_an_invalidation_changed_with_raw_sql_shows_on_its_signature(
        ac225_batch, analyst, reviewer, committed):
    with committed():
        release_required_results(analyst, ac225_batch)
    result = Result.objects.get(batch=ac225_batch, criterion__test_code="ph")
    signature = disposition.result_invalidate(actor=reviewer, password=PASSWORD, result=result,
                                              cause="strip from an expired lot")
    assert signed_record.signature_integrity(signature)
    tamper("batches_resultinvalidation",
           "UPDATE batches_resultinvalidation SET cause = 'rewritten' WHERE result_id = %s",
           [result.id])
    assert not signed_record.signature_integrity(signature)


# --------------------------------------------------------------------------- PostgreSQL


APPEND_ONLY = [
    ("qc_auditevent", "id", AuditEvent),
    ("qc_signature", "id", Signature),
    ("batches_result", "id", Result),
    ("batches_evaluation", "id", Evaluation),
    ("batches_resultinvalidation", "id", ResultInvalidation),
]


@pytest.mark.services  # the triggers exist on PostgreSQL, which the services run uses
@pytest.mark.parametrize("table, key, model", APPEND_ONLY)
@pytest.mark.parametrize("statement", ["UPDATE {table} SET {key} = {key} WHERE {key} = %s",
                                       "DELETE FROM {table} WHERE {key} = %s"])
def test_postgresql_refuses_raw_update_and_delete_of_gmp_records(
        ac225_batch, analyst, reviewer, table, key, model, statement):

    assert connection.vendor == "postgresql"
    failing = record(analyst, ac225_batch, "ph", ac225_batch.eos, 9.9, "pH")
    evaluation.result_evaluate(result_id=failing.pk)  # here, not on a worker
    disposition.result_invalidate(actor=reviewer, password=PASSWORD, result=failing,
                                  cause="strip misread")
    row = model.objects.order_by("-pk").first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(statement.format(table=table, key=key), [row.pk])
    assert model.objects.filter(pk=row.pk).exists()


@pytest.mark.services  # the triggers exist on PostgreSQL, which the services run uses
@pytest.mark.parametrize("table, model", [(table, model) for table, _, model in APPEND_ONLY])
def test_postgresql_refuses_truncate_of_gmp_records(ac225_batch, analyst, reviewer, table,
                                                    model):
    failing = record(analyst, ac225_batch, "ph", ac225_batch.eos, 9.9, "pH")
    evaluation.result_evaluate(result_id=failing.pk)
    disposition.result_invalidate(actor=reviewer, password=PASSWORD, result=failing,
                                  cause="strip misread")
    before = model.objects.count()
    assert before
    raw("SET CONSTRAINTS ALL IMMEDIATE")  # else TRUNCATE waits on this test's own FK checks
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"), \
            transaction.atomic():
        raw(f"TRUNCATE {table} CASCADE")
    assert model.objects.count() == before


@pytest.mark.services
@pytest.mark.parametrize("sql", ["TRUNCATE qc_auditchainhead", "DELETE FROM qc_auditchainhead"])
def test_postgresql_refuses_to_empty_the_audit_chain_head(analyst, sql):
    from qc.audit import audit_record
    from qc.models import AuditChainHead

    with transaction.atomic():
        audit_record(actor=analyst, action="test.event", object_type="t", object_id=1)
    raw("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(sql)
    assert AuditChainHead.objects.get().count == 1


def test_manage_py_verify_audit_exits_0_then_1_after_tampering(tmp_path):
    """The command as an operator runs it, against a site database on disk."""
    import os
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**{k: v for k, v in os.environ.items()
              if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DEBUG")},
           "SECRET_KEY": "t", "ALPHARELEASE_VAR_DIR": str(tmp_path)}

    def manage(*args, code=None):
        command = [sys.executable, "manage.py", *args] if code is None else [
            sys.executable, "-c", "import django; django.setup(); " + code]
        return subprocess.run(command, cwd=root, env={**env, "DJANGO_SETTINGS_MODULE":
                                                      "config.settings"},
                              capture_output=True, text=True, timeout=120)

    assert manage("migrate", "-v0").returncode == 0
    wrote = manage(code="from django.db import transaction; from qc.audit import audit_record\n"
                        "with transaction.atomic():\n"
                        "    [audit_record(actor=None, action='test.event', object_type='t', "
                        "object_id=i) for i in range(3)]")
    assert wrote.returncode == 0, wrote.stderr
    intact = manage("verify_audit")
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.strip() == "Audit trail intact: 3 events checked."

    with sqlite3.connect(tmp_path / "alpharelease.sqlite3") as db:
        second = db.execute("SELECT id FROM qc_auditevent ORDER BY id LIMIT 1 OFFSET 1"
                            ).fetchone()[0]
        db.execute("UPDATE qc_auditevent SET object_id = 'x' WHERE id = ?", [second])
    broken = manage("verify_audit")
    assert broken.returncode == 1
    assert f"Audit trail BROKEN at event #{second}" in broken.stderr
    assert "1 event intact before the first break." in broken.stdout
    assert "3 events checked;" in broken.stdout


@pytest.mark.services
def test_every_append_only_table_has_its_update_delete_and_truncate_triggers():
    from django.apps import apps

    from qc.append_only import AppendOnlyModel

    tables = sorted(model._meta.db_table for model in apps.get_models()
                    if issubclass(model, AppendOnlyModel))
    assert "batches_stabilityresult" in tables  # every append-only model, not a fixed list
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        triggers = {name for (name,) in cursor.fetchall()}
    missing = [f"{table}_{kind}" for table in tables for kind in ("append_only", "no_truncate")
               if f"{table}_{kind}" not in triggers]
    assert missing == []


# Tables whose rows may be emptied by design: idempotency replies are purged after their
# retention; the signing lock holds no record.
EMPTIED_BY_DESIGN = {"batches_idempotencyrecord", "qc_signinglock"}


@pytest.mark.services
def test_every_table_of_gmp_records_refuses_truncate():
    from django.apps import apps

    tables = sorted(model._meta.db_table for app in ("batches", "qc")
                    for model in apps.get_app_config(app).get_models())
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        triggers = {name for (name,) in cursor.fetchall()}
    missing = [table for table in tables
               if table not in EMPTIED_BY_DESIGN and f"{table}_no_truncate" not in triggers]
    assert missing == []


@pytest.mark.services
def test_postgresql_refuses_truncate_of_the_certificates(ac225_batch):
    raw("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="batches_certificate holds GMP records: TRUNCATE "
                                            "refused"), transaction.atomic():
        raw("TRUNCATE batches_certificate CASCADE")
