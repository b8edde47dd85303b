"""Thin, idempotent tasks: take ids, call one service, retry on transient errors."""

from celery import shared_task
from django.db import OperationalError

from . import services
from .models import Batch, Result

RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


@shared_task(name="batches.tasks.evaluate_result", **RETRY)
def evaluate_result(result_id: int) -> str:
    return services.result_evaluate(result_id=result_id).verdict


@shared_task(name="batches.tasks.evaluate_results", **RETRY)
def evaluate_results(result_ids: list[int]) -> int:
    """The results of one bulk recording, in one message (evaluating one is idempotent, so a
    retry after a partial run re-judges nothing)."""
    for result_id in result_ids:
        services.result_evaluate(result_id=result_id)
    return len(result_ids)


@shared_task(name="batches.tasks.compute_batch_physics", **RETRY)
def compute_batch_physics(batch_id: int) -> str:
    batch = services.batch_compute_physics(batch_id=batch_id)
    return batch.expiry.isoformat() if batch.expiry else ""


@shared_task(name="batches.tasks.sweep_unevaluated", **RETRY)
def sweep_unevaluated() -> int:
    """A lost message must not leave a batch without expiry or a result unjudged."""
    for batch_id in Batch.objects.filter(expiry__isnull=True).values_list("id", flat=True)[:500]:
        compute_batch_physics.delay(batch_id)
    pending = Result.objects.filter(evaluation__isnull=True).values_list("id", flat=True)[:500]
    for result_id in pending:
        evaluate_result.delay(result_id)
    return len(pending)


@shared_task(name="batches.tasks.issue_certificate", **RETRY)
def issue_certificate(certificate_id: int) -> str:
    from .certificates import certificate_issue

    return certificate_issue(certificate_id=certificate_id).status
