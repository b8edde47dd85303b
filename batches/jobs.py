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

import atexit
import logging
import os
import queue
import threading
import time
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


# A result recorded alone is queued for evaluation by this process's publisher thread, which
# waits this long for the results committed meanwhile and queues them in one message: the
# request does not wait for the broker, and a stream of results costs a few messages instead
# of one each. A result the thread never sent (the process died first) is the sweep's, as a
# message the broker lost.
GATHER_S = 0.05


class _Publisher:
    """Result ids to evaluate, gathered by a daemon thread into messages of up to
    EVALUATION_CHUNK. One per process, started on first use (after a fork, anew)."""

    def __init__(self):
        self.pid = os.getpid()
        self.ids: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.idle = threading.Event()
        self.idle.set()
        threading.Thread(target=self._run, name="evaluation-publisher", daemon=True).start()

    def put(self, result_id: int) -> None:
        self.idle.clear()
        self.ids.put(result_id)

    def _run(self) -> None:
        while True:
            gathered = [self.ids.get()]
            time.sleep(GATHER_S)
            try:
                self._send_all(gathered)
            except Exception:  # send() logs broker errors; anything else must not stop us
                log.exception("evaluation publisher: %d result ids left to the sweep",
                              len(gathered))
                self.idle.set()

    def _send_all(self, gathered: list[int]) -> None:
        while True:
            try:
                while True:
                    gathered.append(self.ids.get_nowait())
            except queue.Empty:
                pass
            for start in range(0, len(gathered), EVALUATION_CHUNK):
                chunk = sorted(gathered[start:start + EVALUATION_CHUNK])
                if len(chunk) == 1:
                    send(EVALUATE_RESULT, chunk[0])
                else:
                    send(EVALUATE_RESULTS, chunk)
            gathered = []
            if self.ids.empty():
                self.idle.set()
                if self.ids.empty():
                    return
                self.idle.clear()

    def flush(self, timeout: float) -> bool:
        """Wait until every id put so far is sent; False if that took longer than `timeout`."""
        return self.idle.wait(timeout)


_publisher: _Publisher | None = None
_publisher_lock = threading.Lock()


def _the_publisher() -> _Publisher:
    global _publisher
    if _publisher is None or _publisher.pid != os.getpid():
        with _publisher_lock:
            if _publisher is None or _publisher.pid != os.getpid():
                _publisher = _Publisher()
    return _publisher


def flush_evaluations(timeout: float = 5.0) -> bool:
    """Wait until the evaluations queued so far in this process are sent (at exit, tests)."""
    return _publisher is None or _publisher.pid != os.getpid() or _publisher.flush(timeout)


atexit.register(flush_evaluations)


def evaluate_result(result_id: int) -> None:
    """Queue one result's evaluation: at once in process (no broker), else through this
    process's publisher thread (GATHER_S)."""
    if current_app.conf.task_always_eager:
        send(EVALUATE_RESULT, result_id)
        return
    _the_publisher().put(result_id)


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
