"""Every read: services, views, the API and the pages call these; none of them writes. The
page reads take a fixed number of queries, however many batches the site holds (tests
assert the counts)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.core.paginator import Paginator
from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from qc.models import AuditEvent, Criterion, Product, Signature, Specification, SpecificationStatus

from .lifecycle import IN_USE, RESULT_ACCEPTING_STATUSES, UNDISPOSED
from .models import Batch, BatchStatus, Certificate, Elution, Result, Verdict
from .stability.models import StabilityResult, StabilityVerdict


def specification_in_force(*, product, at: datetime) -> Specification | None:
    """The approved version effective at `at` (a retired one still governs batches made
    while it was in force)."""
    return (
        Specification.objects.filter(
            product=product,
            status__in=[SpecificationStatus.APPROVED, SpecificationStatus.RETIRED],
            effective_from__lte=at,
        )
        .order_by("-effective_from", "-version")
        .first()
    )


def batch_results(*, batch: Batch) -> QuerySet[Result]:
    return (
        Result.objects.filter(batch=batch)
        .select_related("criterion", "evaluation", "invalidation", "recorded_by", "instrument",
                        "superseded_by")
        .order_by("criterion__position", "recorded_at", "id")
    )


@dataclass(frozen=True)
class CriterionStatus:
    criterion: Criterion
    current: Result | None
    history: list[Result]

    @property
    def verdict(self) -> str:
        if self.current is None:
            return "pending"
        evaluation = getattr(self.current, "evaluation", None)
        return evaluation.verdict if evaluation else "evaluating"


def criterion_statuses(*, batch: Batch, results: list[Result] | None = None
                       ) -> list[CriterionStatus]:
    if results is None:
        results = list(batch_results(batch=batch))
    by_criterion: dict[int, list[Result]] = {}
    for result in results:
        by_criterion.setdefault(result.criterion_id, []).append(result)
    statuses = []
    for criterion in batch.specification.criteria.select_related("method").all():
        history = by_criterion.get(criterion.id, [])
        current = [r for r in history if r.is_current]
        statuses.append(CriterionStatus(criterion, current[-1] if current else None, history))
    return statuses


def batch_detail(*, lot_number: str) -> Batch:
    return (
        Batch.objects.select_related(
            "product", "specification", "elution__generator", "source_lot", "registered_by"
        )
        .prefetch_related(Prefetch("specification__criteria"))
        .get(lot_number=lot_number)
    )


# An undisposed batch stays on the dashboard this long after expiry, marked expired, so that
# somebody rejects it rather than it silently dropping off.
EXPIRED_GRACE = timedelta(hours=24)
DASHBOARD_ROWS = 60
ALERT_ROWS = 30


def status_counts() -> list[tuple[str, str, int]]:
    # COUNT(*), not COUNT(id): PostgreSQL then counts from the status index alone (an
    # index-only scan) instead of reading every batch row, decay tables and all.
    counts = dict(Batch.objects.order_by().values_list("status").annotate(n=Count("*")))
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


def accepting_batches() -> list[Batch]:
    """The batches that still take results: few at any time, found by the status index. The
    alerts and queues start from them rather than from every result ever recorded, which
    keeps their plan good on any database, analyzed or not."""
    return list(Batch.objects.filter(status__in=RESULT_ACCEPTING_STATUSES)
                .select_related("product").defer(*LIST_DEFER)
                .order_by("-eos")[:ACCEPTING_SCAN])


class CurrentResult(NamedTuple):
    """A current result of a batch taking results, as the dashboard needs it: its verdict
    (None while it is being evaluated) and when an early count's recount becomes valid.
    (A plain tuple: the batches in work have thousands.)"""

    id: int
    batch_id: int
    criterion_id: int
    verdict: str | None
    valid_from: datetime | None


def current_results(*, batch_ids: list[int]) -> list[CurrentResult]:
    """The current results of these batches, oldest recorded first: one query, read once for
    the waiting counts, the failing results and the work queues (each read them in turn,
    three walks over every result of the batches in work). Ordered by time alone: Result's
    default ordering joins the batch, criterion, specification and product only to sort."""
    if not batch_ids:
        return []
    return list(map(CurrentResult._make, _current(Result.objects.filter(
        batch_id__in=batch_ids)).order_by("recorded_at", "id").values_list(
            "id", "batch_id", "criterion_id", "evaluation__verdict",
            "evaluation__valid_from")))


@dataclass(frozen=True)
class ResultAlerts:
    failing: list[Result]
    waiting: list[Result]


def result_alerts(*, now: datetime, batches: list[Batch], current: list[CurrentResult]
                  ) -> ResultAlerts:
    """Failing results (fail or error), newest first; and results judged invalid because
    they were counted too early (e.g. before Fr-221 regrew) on batches not long expired, the
    soonest valid recount first: the countdown runs to the time a recount becomes valid.
    Picked from `current` (current_results of `batches`); one query for the rows shown, none
    when there is nothing to show."""
    floor = now - EXPIRED_GRACE
    fresh = {b.id for b in batches if b.expiry is not None and b.expiry >= floor}
    # newest recorded first: `current` is oldest first
    failing = [r for r in reversed(current)
               if r.verdict in (Verdict.FAIL, Verdict.ERROR)][:ALERT_ROWS]
    waiting = sorted((r for r in current if r.verdict == Verdict.INVALID
                      and r.valid_from is not None and r.batch_id in fresh),
                     key=lambda r: r.valid_from)[:ALERT_ROWS]
    ids = {r.id for r in failing} | {r.id for r in waiting}
    rows = {r.id: r for r in Result.objects.filter(pk__in=ids).select_related(
        "batch", "criterion", "evaluation").defer(*(f"batch__{f}" for f in LIST_DEFER))
    } if ids else {}
    return ResultAlerts(failing=[rows[r.id] for r in failing],
                        waiting=[rows[r.id] for r in waiting])


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
        .order_by().values_list("batch_id", "criterion_id"))
    rows = []
    for batch in batches:
        open_ = [c for c in criteria if c.specification_id == batch.specification_id
                 and (batch.id, c.id) not in passed]
        rows.append(PendingTests(batch, open_))
    return rows


def pending_tests(*, batch: Batch) -> list[Criterion]:
    """The batch's may-release-before-result tests without a current passing result."""
    passed = set(_current(Result.objects.filter(
        batch=batch, evaluation__verdict=Verdict.PASS)).order_by()
        .values_list("criterion_id", flat=True))
    return [c for c in Criterion.objects.filter(specification_id=batch.specification_id,
                                                release_before_result=True)
            .order_by("position") if c.id not in passed]


@dataclass(frozen=True)
class PostReleaseAlert:
    batch: Batch
    failing_results: tuple[Result, ...]
    flagged_at: datetime | None
    released_as: str  # the status the batch had when the failure came in
    # a retained sample's stability result out of specification (batches.stability)
    failing_stability: tuple[StabilityResult, ...] = ()


def post_release_alerts() -> list[PostReleaseAlert]:
    """Batches flagged for recall, newest flag first, with the failing results and failing
    stability results (a retained sample tested at expiry); four queries for all of them."""
    batches = list(Batch.objects.filter(status=BatchStatus.POST_RELEASE_OOS)
                   .select_related("product").defer(*LIST_DEFER).order_by("-eos")[:ALERT_ROWS])
    if not batches:
        return []
    flags: dict[str, AuditEvent] = {}
    named: set[int] = set()  # the stability results a flag names
    for event in AuditEvent.objects.filter(
            action="batch.post_release_oos", object_type="batches.batch",
            object_id__in=[str(b.pk) for b in batches]).order_by("id"):
        flags.setdefault(event.object_id, event)
        if (event.after or {}).get("stability_result_id"):
            named.add(int(event.after["stability_result_id"]))
    failing: dict[int, list[Result]] = {}
    for result in (Result.objects.filter(batch__in=batches, evaluation__verdict=Verdict.FAIL,
                                         invalidation__isnull=True)
                   .select_related("criterion", "evaluation", "recorded_by").order_by("id")):
        failing.setdefault(result.batch_id, []).append(result)
    stability: dict[int, list[StabilityResult]] = {}
    for result in (StabilityResult.objects.filter(
            Q(pk__in=named) | Q(verdict=StabilityVerdict.FAIL, superseded_by__isnull=True),
            batch__in=batches)
                   .select_related("criterion", "time_point", "alert", "protocol__product")
                   .order_by("id")):
        stability.setdefault(result.batch_id, []).append(result)
    alerts = []
    for batch in batches:
        flag = flags.get(str(batch.pk))
        alerts.append(PostReleaseAlert(
            batch=batch, failing_results=tuple(failing.get(batch.pk, [])),
            failing_stability=tuple(stability.get(batch.pk, [])),
            flagged_at=flag.at if flag else None,
            released_as=(flag.before or {}).get("status", "") if flag else ""))
    epoch = datetime.min.replace(tzinfo=timezone.get_current_timezone())
    return sorted(alerts, key=lambda a: a.flagged_at or epoch, reverse=True)


# ------------------------------------------------------------------------ batch list


class IndexPaginator(Paginator):
    """Pages of an ordered queryset whose page rows are picked by id in a subquery: the
    offset is walked there, in an index that carries the id (Batch's (status, -eos) and
    -eos indexes), and only the page's rows are read whole. A plain OFFSET reads every
    skipped row (the last of 3000 pages of batches: 1 s -> 30 ms). One query, as before."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = self.object_list.values("id")[bottom:top]
        return self._get_page(self.object_list.filter(id__in=ids), number, self)


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
                     signatures=list(batch_signatures(batch=batch, results=results)),
                     certificates=batch_certificates(batch=batch))


def batch_signatures(*, batch: Batch, results: list[Result] | None = None
                     ) -> QuerySet[Signature]:
    """Signatures over the batch (review, release, rejection) and over its results
    (invalidations), oldest first."""
    if results is None:
        result_ids = [str(pk) for pk in Result.objects.filter(batch=batch).values_list(
            "pk", flat=True)]
    else:
        result_ids = [str(r.id) for r in results]
    return (Signature.objects.filter(Q(object_type="batches.batch", object_id=str(batch.pk))
                                     | Q(object_type="batches.result", object_id__in=result_ids))
            .select_related("user").order_by("signed_at", "id"))


def batch_certificates(*, batch: Batch) -> list[Certificate]:
    return list(Certificate.objects.filter(batch=batch).order_by("-version"))


def batch_audit_events(*, batch: Batch) -> QuerySet[AuditEvent]:
    # the actor with each event: the page names who did it, one query for all of them
    return (AuditEvent.objects.filter(batch_lot=batch.lot_number).select_related("actor")
            .order_by("id"))


def current_result(statuses: list[CriterionStatus], criterion_id: int) -> Result | None:
    return next((s.current for s in statuses if s.criterion.id == criterion_id), None)


def amendments_since(signature) -> list[Result]:
    """Results of a signed batch corrected or invalidated after the signature: the signed
    record stays intact, but a reader must see that it was amended since."""
    if signature.object_type != "batches.batch":
        return []
    return list(Result.objects.filter(batch_id=int(signature.object_id),
                                      recorded_at__lte=signature.signed_at)
                .filter(Q(superseded_by__recorded_at__gt=signature.signed_at)
                        | Q(invalidation__created_at__gt=signature.signed_at))
                .select_related("criterion").order_by("id"))


# ------------------------------------------------------------------------ work queues


@dataclass(frozen=True)
class QueueEntry:
    """One thing a role should do next, with the time by which it matters (a batch's
    expiry; for an elution, one half-life of its nuclide after elution)."""

    batch: Batch | None
    deadline: datetime | None
    kind: str  # register | record | recount | review | release | release_conditionally | final
    criterion: Criterion | None = None
    valid_from: datetime | None = None  # an early count: when its recount becomes valid
    elution: Elution | None = None
    pending: tuple[Criterion, ...] = ()


def _by_deadline(entries: list[QueueEntry]) -> list[QueueEntry]:
    far = datetime.max.replace(tzinfo=timezone.get_current_timezone())
    return sorted(entries, key=lambda e: e.deadline or far)[:ALERT_ROWS]


def elutions_to_register(*, today_from: datetime, now: datetime,
                         half_lives: dict[str, float]) -> list[QueueEntry]:
    """Elutions no batch was made from yet: today's, and one from before `today_from` (the
    start of the site's day) still within a half-life of its product, so an elution made
    just before midnight stays on the list; the one losing its activity first on top. One
    query."""
    since = min(today_from, now - timedelta(seconds=max(half_lives.values(), default=0.0)))
    elutions = (Elution.objects.filter(eluted_at__gte=since, batches__isnull=True)
                .select_related("generator").order_by("eluted_at")[:ALERT_ROWS])
    entries = [QueueEntry(batch=None, kind="register", elution=e,
                          deadline=e.eluted_at + timedelta(
                              seconds=half_lives.get(e.generator.product_nuclide, 0.0)))
               for e in elutions]
    return _by_deadline([entry for entry in entries
                         if entry.elution.eluted_at >= today_from or entry.deadline > now])


@dataclass(frozen=True)
class Queues:
    record: list[QueueEntry]
    review: list[QueueEntry]
    release: list[QueueEntry]


def batch_queues(*, batches: list[Batch], now: datetime,
                 current: list[CurrentResult]) -> Queues:
    """What the analysts, reviewers and QPs have to do on the batches that take results: the
    tests due (no current result, or an early count now ready for its recount) and the
    counts still waiting for equilibrium; the batches ready for review (every
    release-required criterion passed); the reviewed batches awaiting the QP. `current`:
    current_results of `batches`. One query (the criteria) for all of them, whatever their
    number."""
    if not batches:
        return Queues([], [], [])
    criteria = list(Criterion.objects.filter(
        specification_id__in={b.specification_id for b in batches}).order_by("position"))
    # the latest current result of a criterion wins (a recount after an early count), as on
    # the batch page: `current` is oldest first
    verdict_of = {(r.batch_id, r.criterion_id): (r.verdict, r.valid_from) for r in current}
    record, review, release = [], [], []
    for batch in batches:
        mine = [c for c in criteria if c.specification_id == batch.specification_id]
        verdicts = {c.id: verdict_of.get((batch.id, c.id)) for c in mine}
        undisposed = batch.status in UNDISPOSED
        for criterion in mine:
            state = verdicts[criterion.id]
            if criterion.quantity == "impurity_ratio":
                continue  # judged from the source lot, never recorded by hand
            if not undisposed and not criterion.release_before_result:
                continue
            if state is None:
                record.append(QueueEntry(batch, batch.expiry, "record", criterion))
            elif state[0] == Verdict.INVALID and state[1] is not None:
                kind = "recount" if state[1] <= now else "wait"
                record.append(QueueEntry(batch, batch.expiry, kind, criterion,
                                         valid_from=state[1]))
        required = [verdicts[c.id] for c in mine if not c.release_before_result]
        optional_open = tuple(c for c in mine if c.release_before_result
                              and (verdicts[c.id] or ("",))[0] != Verdict.PASS)
        passed = all(v is not None and v[0] == Verdict.PASS for v in required)
        failing = any(v is not None and v[0] in (Verdict.FAIL, Verdict.ERROR)
                      for v in verdicts.values())
        if batch.status == BatchStatus.IN_QC and passed and not failing:
            review.append(QueueEntry(batch, batch.expiry, "review", pending=optional_open))
        elif batch.status == BatchStatus.REVIEWED:
            kind = "release_conditionally" if optional_open else "release"
            release.append(QueueEntry(batch, batch.expiry, kind, pending=optional_open))
        elif batch.status == BatchStatus.CONDITIONALLY_RELEASED:
            kind = "final" if not optional_open and not failing else "await"
            release.append(QueueEntry(batch, batch.expiry, kind, pending=optional_open))
    return Queues(_by_deadline(record), _by_deadline(review), _by_deadline(release))

