"""Records stay true when work after a commit is lost, runs late or cannot run."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from batches import jobs, tasks
from batches.certificates import services as certificates
from batches.disposition import blockers
from batches.evaluation import results as evaluation
from batches.models import Certificate, CertificateStatus, Evaluation, QcStatus, Result
from batches.records import results as records
from qc.models import AuditEvent
from tests.batches.test_certificate_issue import sign

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ queueing after commit


def test_a_broker_error_after_commit_is_logged_and_left_to_the_sweep(monkeypatch, caplog):
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr("celery.canvas.Signature.apply_async", broker_down)
    jobs.evaluate_result(42)  # does not raise
    assert jobs.flush_evaluations()
    assert "could not queue batches.tasks.evaluate_result(42,)" in caplog.text


def test_results_recorded_alone_are_queued_off_the_request_thread_several_to_a_message(
        monkeypatch):
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    sent, threads = [], []

    def send(name, *args):
        threads.append(threading.current_thread())
        sent.append((name, *args))

    monkeypatch.setattr(jobs, "send", send)
    monkeypatch.setattr(jobs, "GATHER_S", 0.5)  # ample for three calls on a busy machine
    for result_id in (7, 3, 5):
        jobs.evaluate_result(result_id)
    assert jobs.flush_evaluations()
    assert sent == [(jobs.EVALUATE_RESULTS, [3, 5, 7])]
    assert threads[0] is not threading.current_thread()
    jobs.evaluate_result(9)
    assert jobs.flush_evaluations()
    assert sent[1:] == [(jobs.EVALUATE_RESULT, 9)]


def test_the_sweep_queues_every_unevaluated_result_in_messages_of_a_hundred(
        ac225_batch, analyst, now, monkeypatch):
    criterion = ac225_batch.specification.criteria.get(test_code="ph")
    with transaction.atomic():  # no on-commit callbacks: as if the broker lost them all
        for minute in range(250):
            Result.objects.create(batch=ac225_batch, criterion=criterion, value=7.0, unit="pH",
                                  measured_at=ac225_batch.eos + timedelta(seconds=minute),
                                  recorded_by=analyst, channel="web")
    sent = []
    monkeypatch.setattr(jobs, "send", lambda name, *args: sent.append((name, *args)))
    queued = tasks.sweep_unevaluated.apply().get()
    unevaluated = Result.objects.filter(evaluation__isnull=True).count()
    assert queued == unevaluated >= 250
    batches_of_ids = [args[0] for name, *args in sent if name == jobs.EVALUATE_RESULTS]
    assert [len(ids) for ids in batches_of_ids] == [100, 100, unevaluated - 200]


def test_many_results_are_judged_at_once_as_one_by_one_and_only_once(
        ac225_batch, pb212_batch, analyst, now):
    items = []
    for batch in (ac225_batch, pb212_batch):
        ph = batch.specification.criteria.get(test_code="ph")
        items += [records.ResultInput(batch=batch, criterion=ph, value=v, unit="pH",
                                      measured_at=now - timedelta(minutes=2)) for v in (7.0, 2.0)]
    stored = records.result_record_many(actor=analyst, items=items, channel="web")
    ids = [r.pk for r in stored]
    assert evaluation.results_evaluate_many(result_ids=ids) == 4
    assert evaluation.results_evaluate_many(result_ids=ids) == 0  # nothing judged twice
    verdicts = dict(Evaluation.objects.filter(result_id__in=ids)
                    .values_list("result__value", "verdict").distinct())
    assert verdicts == {7.0: "pass", 2.0: "fail"}
    assert AuditEvent.objects.filter(action="result.evaluate").count() == 4
    for batch in (ac225_batch, pb212_batch):
        batch.refresh_from_db()
        assert batch.qc_status == QcStatus.FAILING


# ------------------------------------------------------------------ evaluation that cannot run


def test_an_evaluation_that_cannot_run_is_stored_as_an_error_that_blocks_release(
        tested_batch, analyst, now, monkeypatch):
    def overflow(*args, **kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(evaluation, "evaluate", overflow)
    criterion = tested_batch.specification.criteria.get(test_code="ph")
    result = records.result_record(actor=analyst, batch=tested_batch, criterion=criterion,
                                   measured_at=now, value=7.1, unit="pH")
    judged = evaluation.result_evaluate(result_id=result.pk)
    assert judged.verdict == "error"
    assert "could not run (OverflowError: date value out of range)" in judged.message
    assert evaluation.result_evaluate(result_id=result.pk) == judged  # never judged twice
    assert Evaluation.objects.filter(result=result).count() == 1
    tested_batch.refresh_from_db()
    assert tested_batch.qc_status == QcStatus.FAILING
    [blocker] = [b for b in blockers.review_blockers(batch=tested_batch)
                 if "could not be evaluated" in b]
    assert "invalidate the result with an assignable cause" in blocker
    event = AuditEvent.objects.get(action="result.evaluate", object_id=str(judged.pk))
    assert event.after["verdict"] == "error"


# ------------------------------------------------------------------ method times


@pytest.mark.parametrize(("developed", "says"), [
    (lambda batch, at: batch.eos.replace(year=1), "is out of range: a time must be from "
                                                  "1900-01-01 to 2199-12-31 (UTC)"),
    (lambda batch, at: batch.eos - timedelta(minutes=1), "before the end of synthesis"),
    (lambda batch, at: batch.eos.replace(year=9999), "is out of range: a time must be from "
                                                     "1900-01-01 to 2199-12-31 (UTC)"),
    (lambda batch, at: at + timedelta(seconds=1), "after the measurement"),
])
def test_a_method_time_outside_synthesis_to_measurement_is_refused(ac225_batch, analyst, now,
                                                                    developed, says):
    criterion = ac225_batch.specification.criteria.get(test_code="rcp")
    at = now - timedelta(minutes=1)
    with pytest.raises(ValidationError) as refused:
        records.result_record(actor=analyst, batch=ac225_batch, criterion=criterion,
                              measured_at=at, value=97.0, unit="%",
                              method_times={"developed_at": developed(ac225_batch, at)})
    assert says in refused.value.message_dict["developed_at"][0]
    assert not Result.objects.filter(batch=ac225_batch, criterion=criterion).exists()


# ------------------------------------------------------------------ certificates


def test_an_older_version_finishing_after_a_newer_one_is_stored_superseded_at_once(
        signing_identity, tested_batch, qp, monkeypatch):
    queued = []
    monkeypatch.setattr(jobs, "issue_certificate", queued.append)
    conditional = certificates.certificate_request_issue(
        batch_id=tested_batch.pk,
        signature_id=sign(tested_batch, qp, "conditionally_released").pk)
    final = certificates.certificate_request_issue(
        batch_id=tested_batch.pk, signature_id=sign(tested_batch, qp, "released").pk)
    # the worker with the final version is faster
    certificates.certificate_issue(certificate_id=final.pk)
    certificates.certificate_issue(certificate_id=conditional.pk)
    conditional.refresh_from_db()
    final.refresh_from_db()
    assert (conditional.status, final.status) == (CertificateStatus.SUPERSEDED,
                                                  CertificateStatus.ISSUED)
    assert conditional.pdf.name and conditional.signed_sha256  # stored, never current
    assert Certificate.objects.filter(batch=tested_batch, status="issued").get() == final
    late = AuditEvent.objects.get(action="certificate.issue", object_id=str(conditional.pk))
    assert late.after["status"] == "superseded"
    assert late.after["superseded_by"] == final.document_id


def test_a_lost_issue_message_is_queued_again_and_alerts_past_the_limit(
        tested_batch, qp, monkeypatch, settings):
    queued = []
    monkeypatch.setattr(jobs, "issue_certificate", queued.append)
    certificate = certificates.certificate_request_issue(
        batch_id=tested_batch.pk, signature_id=sign(tested_batch, qp, "released").pk)
    requested = certificate.requested_at
    assert certificates.certificates_sweep(now=requested + timedelta(seconds=60)) == 0
    later = requested + timedelta(seconds=settings.CERTIFICATE_REQUEUE_AFTER_S + 1)
    assert certificates.certificates_sweep(now=later) == 1
    assert queued == [certificate.pk]  # the sweep, not the request (patched away)
    assert not AuditEvent.objects.filter(action="certificate.stuck").exists()
    much_later = requested + timedelta(seconds=settings.CERTIFICATE_ALERT_AFTER_S + 1)
    certificates.certificates_sweep(now=much_later)
    certificates.certificates_sweep(now=much_later)
    stuck = AuditEvent.objects.get(action="certificate.stuck")  # once, not per sweep
    assert stuck.batch_lot == tested_batch.lot_number


def test_a_lost_certificate_request_is_found_from_the_release_signature(
        tested_batch, qp, monkeypatch):
    requested = []
    monkeypatch.setattr(jobs, "request_certificate",
                        lambda batch_id, signature_id: requested.append((batch_id, signature_id)))
    signature = sign(tested_batch, qp, "released")
    certificates.certificates_sweep(now=timezone.now())
    assert requested == []  # too fresh: its on-commit request may still be on its way
    certificates.certificates_sweep(now=timezone.now() + timedelta(minutes=2))
    assert requested == [(tested_batch.pk, signature.pk)]


def test_a_stuck_pending_certificate_can_be_reissued_by_the_qp(tested_batch, qp, monkeypatch,
                                                               committed):
    queued = []
    monkeypatch.setattr(jobs, "issue_certificate", queued.append)
    certificate = certificates.certificate_request_issue(
        batch_id=tested_batch.pk, signature_id=sign(tested_batch, qp, "released").pk)
    queued.clear()
    with committed():
        certificates.certificate_retry(actor=qp, certificate=certificate)
    assert queued == [certificate.pk]
    event = AuditEvent.objects.get(action="certificate.retry")
    assert event.actor == qp and event.before == {"status": "pending"}
