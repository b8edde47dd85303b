"""Thin, idempotent tasks: take ids, call one service, retry on transient errors. The only
module that reaches every stage of the pipeline."""

from celery import shared_task
from django.db import IntegrityError
from django.utils import timezone

from config.task_base import DATABASE_ERRORS

from . import jobs
from .certificates import services as certificates
from .evaluation.physics import batch_compute_physics
from .evaluation.results import result_evaluate, results_evaluate_many
from .models import Batch, Result

# A database that does not answer at all puts the task back instead (config.task_base).
RETRY = {"autoretry_for": DATABASE_ERRORS, "retry_backoff": True, "max_retries": 5}

# How many results one sweep queues at most: a backlog of this size is evaluated in a few
# minutes by two worker processes, and the next sweep takes the rest.
SWEEP_LIMIT = 50_000


@shared_task(name=jobs.EVALUATE_RESULT, **RETRY)
def evaluate_result(result_id: int) -> str:
    return result_evaluate(result_id=result_id).verdict


@shared_task(name=jobs.EVALUATE_RESULTS, **RETRY)
def evaluate_results(result_ids: list[int]) -> int:
    """Many results in one message, judged in one transaction (idempotent: a retry judges
    only what is still unjudged)."""
    return results_evaluate_many(result_ids=result_ids)


@shared_task(name=jobs.COMPUTE_BATCH_PHYSICS, **RETRY)
def compute_batch_physics(batch_id: int) -> str:
    batch = batch_compute_physics(batch_id=batch_id)
    return batch.expiry.isoformat() if batch.expiry else ""


@shared_task(name="batches.tasks.sweep_unevaluated", **RETRY)
def sweep_unevaluated() -> int:
    """A lost message must not leave a batch without expiry or a result unjudged."""
    for batch_id in Batch.objects.filter(expiry__isnull=True).values_list("id", flat=True)[:500]:
        jobs.compute_batch_physics(batch_id)
    pending = list(Result.objects.filter(evaluation__isnull=True).order_by("id")
                   .values_list("id", flat=True)[:SWEEP_LIMIT])
    jobs.evaluate_results(pending)
    return len(pending)


@shared_task(name=jobs.REQUEST_CERTIFICATE, **RETRY)
def request_certificate(batch_id: int, signature_id: int) -> None:
    certificates.certificate_request_issue(batch_id=batch_id, signature_id=signature_id)


@shared_task(name=jobs.ISSUE_CERTIFICATE, autoretry_for=(*DATABASE_ERRORS, IntegrityError),
             retry_backoff=True, max_retries=5)
def issue_certificate(certificate_id: int) -> str:
    return certificates.certificate_issue(certificate_id=certificate_id).status


@shared_task(name="batches.tasks.sweep_certificates", **RETRY)
def sweep_certificates() -> int:
    """Certificates a lost message or a dead worker left pending, queued again."""
    return certificates.certificates_sweep(now=timezone.now())
