"""Judging results: one evaluation per result (pure qc.evaluation on the batch's physics),
then the batch's QC status recounted, and a failure after release flagged, all in one
transaction."""

from django.db import IntegrityError, transaction

from qc.audit import audit_record
from qc.engine import site_engine
from qc.evaluation import evaluate
from qc.rules import rule_for

from ..lifecycle import lock_batch
from ..models import Batch, Evaluation, QcStatus, Result
from ..selectors import criterion_statuses
from .oos import batch_flag_post_release_oos
from .physics import batch_compute_physics, batch_times, measurement


def result_evaluate(*, result_id: int) -> Evaluation:
    """Judge one result. Idempotent: an evaluated result keeps its evaluation."""
    existing = Evaluation.objects.filter(result_id=result_id).first()
    if existing:
        return existing
    result = Result.objects.select_related(
        "criterion", "batch__product", "batch__source_lot").get(pk=result_id)
    batch = result.batch
    if batch.expiry is None and result.criterion.judged_at == "expiry":
        batch = batch_compute_physics(batch_id=batch.id)
        result.batch = batch
    engine = site_engine()
    outcome = evaluate(rule_for(result.criterion), measurement(result), batch_times(batch),
                       engine)
    try:
        with transaction.atomic():
            lock_batch(batch.id)  # before the audit chain head: see batches.lifecycle
            evaluation = Evaluation.objects.create(
                result=result, verdict=outcome.verdict.value,
                measured_value=outcome.measured_value, projected_value=outcome.projected_value,
                judged_at_time=outcome.judged_at_time, message=outcome.message,
                valid_from=outcome.valid_from, data_source=engine.data_source[:200],
            )
            audit_record(actor=None, action="result.evaluate", obj=evaluation,
                         after={"result_id": result.id, "verdict": evaluation.verdict,
                                "measured": outcome.measured_value,
                                "projected": outcome.projected_value,
                                "judged_at": outcome.judged_at_time,
                                "message": outcome.message},
                         batch_lot=batch.lot_number)
            batch_refresh_qc_status(batch_id=batch.id)
            if evaluation.verdict == "fail":
                # In this transaction, so that a failure after release is never left unflagged.
                batch_flag_post_release_oos(batch_id=batch.id, result_id=result.id)
    except IntegrityError:
        return Evaluation.objects.get(result_id=result_id)
    return evaluation


def batch_refresh_qc_status(*, batch_id: int) -> Batch:
    """Recount the batch's criteria from its current results (derived, so safe to repeat)."""
    with transaction.atomic():
        batch = lock_batch(batch_id)
        statuses = criterion_statuses(batch=batch)
        verdicts = [s.verdict for s in statuses]
        if "fail" in verdicts:
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
