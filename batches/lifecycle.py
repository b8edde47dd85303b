"""A batch's life: its statuses grouped by what they allow, and the one way to lock batches.

    registered -> in_qc -> reviewed -> released
                           reviewed -> conditionally_released -> released (final release)
    registered | in_qc | reviewed -> rejected
    conditionally_released | released -> post_release_oos (a failing result after release)

Lock order, for every transaction that writes: batch rows first (lock_batches, in id order),
then the rows that hang off them (certificates), and the audit chain head last (qc.audit
takes it in audit_record, and holds it to the commit). A transaction that took the head and
then waited for a batch another writer holds while it waits for the head would deadlock."""

from collections.abc import Iterable

from config.sql import fetch_locked, fetch_one_related

from .models import Batch, BatchStatus

UNDISPOSED = (BatchStatus.REGISTERED, BatchStatus.IN_QC, BatchStatus.REVIEWED)
# Results are accepted until the batch is released or rejected; a conditionally released
# batch still awaits its may-release-before-result tests (e.g. sterility).
RESULT_ACCEPTING_STATUSES = (*UNDISPOSED, BatchStatus.CONDITIONALLY_RELEASED)
IN_USE = (*UNDISPOSED, BatchStatus.CONDITIONALLY_RELEASED, BatchStatus.RELEASED)
REVIEWABLE = (BatchStatus.IN_QC, BatchStatus.REVIEWED)
# Conditional release already lets the product be used, so it counts as released here: a
# problem found afterwards is a post-release OOS (recall), not a rejection.
REJECTABLE = UNDISPOSED
RELEASED_STATUSES = (BatchStatus.CONDITIONALLY_RELEASED, BatchStatus.RELEASED)
# QA may invalidate while results still count for a decision, and during a post-release
# OOS investigation; a released or rejected batch's record is closed.
INVALIDATABLE = (BatchStatus.IN_QC, BatchStatus.REVIEWED, BatchStatus.CONDITIONALLY_RELEASED,
                 BatchStatus.POST_RELEASE_OOS)


def lock_batches(ids: Iterable[int], *, shared: bool = False) -> dict[int, Batch]:
    """Lock these batches until the transaction ends, in id order, and return them as
    locked (fresh from the database), by id. Call it before anything that writes an audit
    event (see the lock order above).

    `shared`: a shared lock (PostgreSQL FOR SHARE) for writers that do not change the batch
    row: they do not wait for each other, while a writer that changes the batch (which locks
    it exclusively) waits for them and they for it."""
    return {batch.pk: batch for batch in fetch_locked(Batch, ids, shared=shared)}


def lock_batch(batch_id: int) -> Batch:
    """One batch, locked for update: see lock_batches."""
    locked = lock_batches([batch_id])
    if batch_id not in locked:
        raise Batch.DoesNotExist(f"batch {batch_id} does not exist")
    return locked[batch_id]


def lock_batch_by_lot(lot_number: str) -> Batch | None:
    """The batch with this lot number, with its specification, locked for update (as
    lock_batch), or None: the lookup and the lock in one query, for a writer that knows the
    batch only by its lot number and locks no other batch."""
    return fetch_one_related(Batch, "specification", for_update=True, lot_number=lot_number)
