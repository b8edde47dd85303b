"""Reads. Views, API and services call these; none of them writes."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from qc.models import Criterion, Specification, SpecificationStatus

from .models import Batch, Result


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


def is_current(result: Result) -> bool:
    """A result counts unless a correction superseded it or QA invalidated it."""
    return not hasattr(result, "superseded_by") and not hasattr(result, "invalidation")


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
        current = [r for r in history if is_current(r)]
        statuses.append(CriterionStatus(criterion, current[-1] if current else None, history))
    return statuses


def batch_list() -> QuerySet[Batch]:
    return Batch.objects.select_related("product").order_by("-eos")


def batch_detail(*, lot_number: str) -> Batch:
    return (
        Batch.objects.select_related(
            "product", "specification", "elution__generator", "source_lot", "registered_by"
        )
        .prefetch_related(Prefetch("specification__criteria"))
        .get(lot_number=lot_number)
    )
