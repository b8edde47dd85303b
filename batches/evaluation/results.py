"""Judging results: one evaluation per result (pure qc.evaluation on the batch's physics),
then the batch's QC status recounted, and a failure after release flagged, all in one
transaction."""

import logging
from collections.abc import Sequence

from django.db import IntegrityError, transaction

from config.sql import bulk_insert
from qc.audit import AuditEntry, audit_entry, audit_record_many
from qc.engine import site_engine
from qc.evaluation.verdicts import evaluate
from qc.rules import rule_for

from ..lifecycle import lock_batch, lock_batches
from ..models import Batch, Evaluation, QcStatus, Result, Verdict
from ..selectors import criterion_statuses
from .oos import batch_flag_post_release_oos
from .physics import batch_compute_physics, batch_times, measurement

log = logging.getLogger(__name__)


def result_evaluate(*, result_id: int) -> Evaluation:
    """Judge one result. Idempotent: an evaluated result keeps its evaluation."""
    _evaluate(Result.objects.filter(pk=result_id))
    return Evaluation.objects.get(result_id=result_id)


def results_evaluate_many(*, result_ids: Sequence[int]) -> int:
    """Judge many results at once (a bulk recording, or the sweep's backlog after a broker
    outage): the same verdicts and audit events as one by one, one transaction for all of
    them, one QC recount per batch. Idempotent: results evaluated meanwhile are left alone.
    Returns how many were judged here."""
    return _evaluate(Result.objects.filter(pk__in=list(result_ids)))


def _evaluate(results) -> int:
    """Judge the unevaluated ones of `results` in one transaction: evaluations, their audit
    events, the QC recount of each batch, and the post-release OOS flag of a failure (in the
    same transaction, so that a failure after release is never left unflagged)."""
    pending = list(results.filter(evaluation__isnull=True)
                   .select_related("criterion", "batch__product", "batch__source_lot")
                   .order_by("batch_id", "id"))
    if not pending:
        return 0
    batches: dict[int, Batch] = {}
    for result in pending:
        batch = batches.setdefault(result.batch_id, result.batch)
        if batch.expiry is None and result.criterion.judged_at == "expiry":
            batches[batch.pk] = batch_compute_physics(batch_id=batch.pk)
        result.batch = batches[batch.pk]
    engine = site_engine()
    evaluations = [Evaluation(result=r, data_source=engine.data_source[:200],
                              **_judge(r, r.batch, engine)) for r in pending]
    try:
        with transaction.atomic():
            lock_batches(batches)  # before the audit chain head: see batches.lifecycle
            taken = set(Evaluation.objects.filter(result_id__in=[r.pk for r in pending])
                        .values_list("result_id", flat=True))
            fresh = [e for e in evaluations if e.result_id not in taken]
            bulk_insert(Evaluation, fresh)
            audit_record_many(actor=None, entries=[_evaluation_entry(e, e.result)
                                                   for e in fresh])
            for batch_id in sorted({e.result.batch_id for e in fresh}):
                batch_refresh_qc_status(batch_id=batch_id)
            for evaluation in fresh:
                if evaluation.verdict == Verdict.FAIL:
                    batch_flag_post_release_oos(batch_id=evaluation.result.batch_id,
                                                result_id=evaluation.result_id)
    except IntegrityError:
        # A concurrent evaluation took one of them after the check: judge them one by one,
        # so that the others are not held back by it.
        if len(pending) == 1:
            return 0
        return sum(_evaluate(Result.objects.filter(pk=r.pk)) for r in pending)
    return len(fresh)


def _judge(result: Result, batch: Batch, engine) -> dict:
    """The evaluation's fields for `result` (pure: no database)."""
    try:
        outcome = evaluate(rule_for(result.criterion), measurement(result), batch_times(batch),
                           engine)
    except (ArithmeticError, ValueError, TypeError, KeyError) as exc:
        # Retrying cannot change a pure computation's answer: store why it could not run.
        log.exception("result %s could not be evaluated", result.pk)
        return {"verdict": Verdict.ERROR, "measured_value": result.value,
                "projected_value": None, "judged_at_time": result.measured_at,
                "valid_from": None,
                "message": (f"The evaluation could not run ({type(exc).__name__}: {exc}). QA "
                            "investigates: invalidate the result with an assignable cause and "
                            "record a retest.")[:2000]}
    return {"verdict": outcome.verdict.value, "measured_value": outcome.measured_value,
            "projected_value": outcome.projected_value, "judged_at_time": outcome.judged_at_time,
            "message": outcome.message, "valid_from": outcome.valid_from}


def _evaluation_entry(evaluation: Evaluation, result: Result) -> AuditEntry:
    return audit_entry(action="result.evaluate", obj=evaluation,
                       after={"result_id": result.id, "verdict": evaluation.verdict,
                              "measured": evaluation.measured_value,
                              "projected": evaluation.projected_value,
                              "judged_at": evaluation.judged_at_time,
                              "message": evaluation.message},
                       batch_lot=result.batch.lot_number)


def batch_refresh_qc_status(*, batch_id: int) -> Batch:
    """Recount the batch's criteria from its current results (derived, so safe to repeat)."""
    with transaction.atomic():
        batch = lock_batch(batch_id)
        statuses = criterion_statuses(batch=batch)
        verdicts = [s.verdict for s in statuses]
        if "fail" in verdicts or Verdict.ERROR in verdicts:
            qc_status = QcStatus.FAILING
        elif "invalid" in verdicts:
            qc_status = QcStatus.INVALID
        elif verdicts and all(v == "pass" for v in verdicts):
            qc_status = QcStatus.PASSING
        else:
            qc_status = QcStatus.PENDING
        passed = verdicts.count("pass")
        changed = (batch.qc_status, batch.criteria_passed, batch.criteria_total) != (
            qc_status, passed, len(verdicts))
        if changed:
            batch.qc_status, batch.criteria_passed = qc_status, passed
            batch.criteria_total = len(verdicts)
            batch.save(update_fields=["qc_status", "criteria_passed", "criteria_total"])
    return batch
