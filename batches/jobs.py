"""The work that follows a commit, queued by name: typed helpers that import no service.

Every job here can also be found again from what is stored: a result without an evaluation,
a batch without an expiry, a release signature without a certificate, a certificate still
pending. A message lost because the broker was down is therefore not work lost: the sweeps
in batches.tasks find it and queue it again. That is why queueing never fails the request
whose write already committed: with a broker, a publish error is logged and left to the
sweep. Without one (the embedded default), the task runs in process at once and its errors
propagate, as any other error in the request would.

Call these through transaction.on_commit, so that a worker never looks for rows that are
not committed yet."""

import logging
from collections.abc import Sequence

from celery import current_app

log = logging.getLogger(__name__)

EVALUATE_RESULT = "batches.tasks.evaluate_result"
EVALUATE_RESULTS = "batches.tasks.evaluate_results"
COMPUTE_BATCH_PHYSICS = "batches.tasks.compute_batch_physics"
REQUEST_CERTIFICATE = "batches.tasks.request_certificate"
ISSUE_CERTIFICATE = "batches.tasks.issue_certificate"

# Evaluation messages carry up to this many result ids: a bulk recording queues a few
# messages, not one per result, and a worker still spreads a large recording over several.
EVALUATION_CHUNK = 100


def send(task_name: str, *args) -> None:
    """Queue one task; never raises on a broker error (the sweeps finish the work)."""
    signature = current_app.signature(task_name, args=args)
    if current_app.conf.task_always_eager:
        signature.apply_async()
        return
    try:
        # No publish retries: the request must not hang on a broker that is down.
        signature.apply_async(retry=False)
    except Exception:
        log.warning("could not queue %s%r; the sweep will queue it again", task_name, args,
                    exc_info=True)


def evaluate_result(result_id: int) -> None:
    send(EVALUATE_RESULT, result_id)


def evaluate_results(result_ids: Sequence[int]) -> None:
    """Evaluate many results, EVALUATION_CHUNK to a message."""
    ids = list(result_ids)
    for start in range(0, len(ids), EVALUATION_CHUNK):
        send(EVALUATE_RESULTS, ids[start:start + EVALUATION_CHUNK])


def compute_batch_physics(batch_id: int) -> None:
    send(COMPUTE_BATCH_PHYSICS, batch_id)


def request_certificate(batch_id: int, signature_id: int) -> None:
    send(REQUEST_CERTIFICATE, batch_id, signature_id)


def issue_certificate(certificate_id: int) -> None:
    send(ISSUE_CERTIFICATE, certificate_id)
