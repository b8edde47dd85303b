"""Reads for the lab pages. Each page takes a fixed number of queries, however many batches
the site holds (tests assert the counts)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q, QuerySet

from qc.models import AuditEvent, Criterion, Product, Signature

from ..models import Batch, BatchStatus, Certificate, Result
from ..selectors import CriterionStatus, batch_results, criterion_statuses

UNDISPOSED = (BatchStatus.REGISTERED, BatchStatus.IN_QC, BatchStatus.REVIEWED)
ACCEPTING = (*UNDISPOSED, BatchStatus.CONDITIONALLY_RELEASED)
IN_USE = (*UNDISPOSED, BatchStatus.CONDITIONALLY_RELEASED, BatchStatus.RELEASED)
# An undisposed batch stays on the dashboard this long after expiry, marked expired, so that
# somebody rejects it rather than it silently dropping off.
EXPIRED_GRACE = timedelta(hours=24)
DASHBOARD_ROWS = 60
ALERT_ROWS = 30


def status_counts() -> list[tuple[str, str, int]]:
    counts = dict(Batch.objects.order_by().values_list("status").annotate(n=Count("id")))
    return [(value, label, counts.get(value, 0)) for value, label in BatchStatus.choices]


# The lists need neither the decay table (a JSON document per batch) nor the expiry reason.
LIST_DEFER = ("decay_table", "expiry_reason")


def active_batches(*, now: datetime) -> list[Batch]:
    """Batches in production, QC or use: undisposed ones (also just expired) and released
    ones within their shelf life.

    A batch expires at most one shelf life after its EOS, so bounding EOS by the longest
    shelf life lets the (status, EOS) index find them among years of released batches."""
    longest = Product.objects.aggregate(longest=Max("shelf_life"))["longest"] or timedelta(0)
    in_window = (Batch.objects.filter(status__in=IN_USE, eos__gte=now - longest - EXPIRED_GRACE)
                 .filter(Q(status__in=UNDISPOSED, expiry__gte=now - EXPIRED_GRACE)
                         | Q(expiry__gte=now) | Q(expiry__isnull=True)))
    # an undisposed batch whose expiry was never computed is shown whatever its age
    stuck = Batch.objects.filter(status__in=UNDISPOSED, expiry__isnull=True)
    return list((in_window | stuck).select_related("product").defer(*LIST_DEFER)
                .order_by("-eos")[:DASHBOARD_ROWS])


def _current(results: QuerySet[Result]) -> QuerySet[Result]:
    return results.filter(superseded_by__isnull=True, invalidation__isnull=True)


# More undisposed batches than this means the site has stopped disposing of them; the alerts
# then show the newest.
ACCEPTING_SCAN = 500


def accepting_batch_ids() -> list[int]:
    """The batches that still take results: few at any time, found by the status index. The
    alerts start from them rather than from every result ever recorded, which keeps their
    plan good on any database, analyzed or not."""
    return list(Batch.objects.filter(status__in=ACCEPTING).order_by("-eos")
                .values_list("id", flat=True)[:ACCEPTING_SCAN])


def failing_results(*, batch_ids: list[int]) -> list[Result]:
    return list(_current(Result.objects.filter(
        batch_id__in=batch_ids, evaluation__verdict="fail"))
        .select_related("batch", "criterion", "evaluation")
        .defer(*(f"batch__{f}" for f in LIST_DEFER))
        .order_by("-recorded_at")[:ALERT_ROWS])


def waiting_results(*, now: datetime, batch_ids: list[int]) -> list[Result]:
    """Results judged invalid because they were counted too early (e.g. before Fr-221
    regrew): the countdown runs to the time a recount becomes valid."""
    return list(_current(Result.objects.filter(
        batch_id__in=batch_ids, evaluation__verdict="invalid",
        evaluation__valid_from__isnull=False, batch__expiry__gte=now - EXPIRED_GRACE))
        .select_related("batch", "criterion", "evaluation")
        .defer(*(f"batch__{f}" for f in LIST_DEFER))
        .order_by("evaluation__valid_from")[:ALERT_ROWS])


@dataclass(frozen=True)
class PendingTests:
    batch: Batch
    criteria: list[Criterion]


def pending_post_release() -> list[PendingTests]:
    """Conditionally released batches and the may-release-before-result tests still to come;
    three queries for all of them."""
    batches = list(Batch.objects.filter(status=BatchStatus.CONDITIONALLY_RELEASED)
                   .select_related("product").defer(*LIST_DEFER).order_by("eos")[:ALERT_ROWS])
    if not batches:
        return []
    criteria = list(Criterion.objects.filter(
        specification_id__in={b.specification_id for b in batches}, release_before_result=True))
    passed = set(_current(Result.objects.filter(
        batch__in=batches, evaluation__verdict="pass", criterion__release_before_result=True))
        .values_list("batch_id", "criterion_id"))
    rows = []
    for batch in batches:
        open_ = [c for c in criteria if c.specification_id == batch.specification_id
                 and (batch.id, c.id) not in passed]
        rows.append(PendingTests(batch, open_))
    return rows


@dataclass(frozen=True)
class RecallAlert:
    batch: Batch
    failing: list[Result]


def post_release_oos() -> list[RecallAlert]:
    """Released batches a later result failed, newest first, with the failing results."""
    batches = list(Batch.objects.filter(status=BatchStatus.POST_RELEASE_OOS)
                   .select_related("product").defer(*LIST_DEFER).order_by("-eos")[:ALERT_ROWS])
    if not batches:
        return []
    failing: dict[int, list[Result]] = {}
    for result in (Result.objects.filter(batch__in=batches, evaluation__verdict="fail",
                                         invalidation__isnull=True)
                   .select_related("criterion", "evaluation").order_by("id")):
        failing.setdefault(result.batch_id, []).append(result)
    return [RecallAlert(batch, failing.get(batch.id, [])) for batch in batches]


# ------------------------------------------------------------------------ batch list


def batch_list(*, status: str = "", product: str = "", search: str = "") -> QuerySet[Batch]:
    batches = Batch.objects.select_related("product").defer(*LIST_DEFER).order_by("-eos")
    if status:
        batches = batches.filter(status=status)
    if product:
        batches = batches.filter(product__code=product)
    if search:
        batches = batches.filter(lot_number__icontains=search.strip())
    return batches


# ------------------------------------------------------------------------ batch page


@dataclass
class BatchPage:
    batch: Batch
    statuses: list[CriterionStatus]
    results: list[Result]
    signatures: list[Signature]
    certificates: list[Certificate]

    @property
    def evaluating(self) -> bool:
        return any(s.verdict == "evaluating" for s in self.statuses)

    @property
    def certificate_pending(self) -> bool:
        return any(c.status == "pending" for c in self.certificates)


def batch_page(*, lot_number: str) -> BatchPage:
    batch = (Batch.objects
             .select_related("product", "specification", "elution__generator", "source_lot",
                             "registered_by")
             .get(lot_number=lot_number))
    results = list(batch_results(batch=batch).select_related("invalidation__signature"))
    statuses = criterion_statuses(batch=batch, results=results)
    return BatchPage(batch=batch, statuses=statuses, results=results,
                     signatures=batch_signatures(batch=batch, results=results),
                     certificates=batch_certificates(batch=batch))


def batch_signatures(*, batch: Batch, results: list[Result]) -> list[Signature]:
    """Signatures over the batch (review, release, rejection) and over its results
    (invalidations), oldest first."""
    result_ids = [str(r.id) for r in results]
    return list(Signature.objects.filter(
        Q(object_type="batches.batch", object_id=str(batch.pk))
        | Q(object_type="batches.result", object_id__in=result_ids))
        .order_by("signed_at", "id"))


def batch_certificates(*, batch: Batch) -> list[Certificate]:
    return list(Certificate.objects.filter(batch=batch).order_by("-version"))


def batch_audit_events(*, batch: Batch) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(batch_lot=batch.lot_number).order_by("id")


def current_result(statuses: list[CriterionStatus], criterion_id: int) -> Result | None:
    return next((s.current for s in statuses if s.criterion.id == criterion_id), None)

