"""Reads of stability studies: the ICH Q1E estimate of a product from its lots' current
stability results, and the check that an approved shelf life does not exceed it."""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from qc.errors import RuleViolation
from qc.models import Criterion, Product
from qc.stability import Extrapolation, NotEnoughData, Point, estimate_shelf_life
from qc.stability.models import ProtocolStatus, StabilityProtocol
from qc.stability.plan import ProtocolPlan, protocol_plan

from .models import StabilityResult


@dataclass(frozen=True)
class CriterionStudy:
    criterion: Criterion
    model: str | None  # pooled / common_slope / separate; None for a text criterion
    observed_s: float | None
    statistical_s: float | None  # None: text criterion, no data, or bound never meets it
    shelf_life_s: float | None
    batches: int
    points: int
    reason: str = ""
    p_slope: float | None = None
    p_intercept: float | None = None
    estimate: Any = None  # the binding qc.stability.ShelfLifeEstimate
    series: dict[str, list[StabilityResult]] = field(default_factory=dict)


@dataclass(frozen=True)
class ProductStability:
    product: Product
    protocol: StabilityProtocol | None
    approved_shelf_life_s: float
    supported_shelf_life_s: float | None
    criteria: list[CriterionStudy]
    reason: str
    complete_lots: list[str]

    @property
    def completed(self) -> bool:
        return self.supported_shelf_life_s is not None


def current_protocol(product: Product) -> StabilityProtocol | None:
    return (StabilityProtocol.objects.filter(product=product, status=ProtocolStatus.APPROVED)
            .select_related("specification").order_by("-version").first())


def current_results(protocol: StabilityProtocol) -> list[StabilityResult]:
    return list(StabilityResult.objects.filter(protocol=protocol, superseded_by__isnull=True)
                .select_related("batch", "criterion", "time_point")
                .order_by("batch__eos", "time_point__position", "id"))


def _points(results: list[StabilityResult]) -> list[Point]:
    return [Point(r.batch.lot_number, r.after_eos_s / 3600.0, r.value,
                  nominal_h=r.time_point.after_eos.total_seconds() / 3600.0) for r in results]


def _numeric(criterion: Criterion, results, protocol: StabilityProtocol, series,
             plan: ProtocolPlan) -> CriterionStudy:
    limits = [("lower_limit", criterion.lower_limit), ("upper_limit", criterion.upper_limit)]
    estimates = []
    try:
        for name, limit in limits:
            if limit is not None:
                estimates.append(estimate_shelf_life(
                    _points(results), **{name: limit}, min_batches=protocol.batches_required,
                    extrapolation=Extrapolation(factor=protocol.extrapolation_factor)))
    except NotEnoughData as exc:
        return CriterionStudy(criterion, None, None, None, None, len(series), len(results),
                              reason=str(exc), series=series)
    binding = min(estimates, key=lambda e: e.shelf_life_h)
    statistical = None if math.isinf(binding.statistical_h) else binding.statistical_h * 3600
    return CriterionStudy(
        criterion, binding.model, binding.observed_h * 3600, statistical,
        binding.shelf_life_h * 3600, binding.batches, binding.points, p_slope=binding.p_slope,
        p_intercept=binding.p_intercept, estimate=binding, series=series)


def _text(criterion: Criterion, results, protocol: StabilityProtocol, series,
          plan: ProtocolPlan) -> CriterionStudy:
    """No statistics for a text result: the observed support alone (over the time points at
    which the plan tests it), no extrapolation."""
    if len(series) < protocol.batches_required:
        return CriterionStudy(criterion, None, None, None, None, len(series), len(results),
                              reason=f"Not enough data: {len(series)} batches of the "
                              f"{protocol.batches_required} required.", series=series)
    observed = 0.0
    for point in plan.points_for(criterion):
        at = [r for r in results if r.time_point_id == point.pk]
        if len({r.batch_id for r in at}) < len(series) or any(r.verdict != "pass" for r in at):
            break
        observed = point.after_eos.total_seconds()
    return CriterionStudy(criterion, None, observed, None, observed, len(series), len(results),
                          series=series)


def _complete_lots(plan: ProtocolPlan, results) -> list[str]:
    """The lots with a result in every cell of the protocol's plan."""
    wanted = plan.cells
    have = defaultdict(set)
    for r in results:
        have[r.batch.lot_number].add((r.time_point_id, r.criterion_id))
    return sorted(lot for lot, cells in have.items() if wanted <= cells)


def product_stability(product: Product) -> ProductStability:
    approved = product.shelf_life.total_seconds()
    protocol = current_protocol(product)
    if protocol is None:
        return ProductStability(product, None, approved, None, [],
                                "No approved stability protocol for this product.", [])
    results = current_results(protocol)
    plan = protocol_plan(protocol)
    studies = []
    for sc in plan.criteria:
        mine = [r for r in results if r.criterion_id == sc.criterion_id]
        series: dict[str, list[StabilityResult]] = defaultdict(list)
        for r in mine:
            series[r.batch.lot_number].append(r)
        study = (_text if sc.criterion.is_text else _numeric)(sc.criterion, mine, protocol,
                                                              dict(series), plan)
        studies.append(study)
    complete = _complete_lots(plan, results)
    supported, reason = None, ""
    if len(complete) < protocol.batches_required:
        reason = (f"Not enough data: {len(complete)} of the {protocol.batches_required} batches "
                  f"required have a result for every planned test at every time point of "
                  f"protocol v{protocol.version}.")
    elif any(s.shelf_life_s is None for s in studies):
        reason = "; ".join(f"{s.criterion.test_code}: {s.reason}" for s in studies if s.reason)
    else:
        supported = min(s.shelf_life_s for s in studies)
    return ProductStability(product, protocol, approved, supported, studies, reason, complete)


def _text_duration(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours:.3g} h" if hours < 48 else f"{hours / 24:.3g} d"


def shelf_life_check(*, product: Product, shelf_life: timedelta) -> None:
    """Refuse a shelf life longer than the product's stability data support (both numbers
    in the message). Without a completed study nothing is refused here: the certificates
    say that the shelf life is not yet supported by stability data."""
    stability = product_stability(product)
    supported = stability.supported_shelf_life_s
    if supported is not None and shelf_life.total_seconds() > supported + 1e-6:
        raise RuleViolation(
            f"A shelf life of {_text_duration(shelf_life.total_seconds())} for {product.code} "
            f"exceeds the {_text_duration(supported)} its stability data support (protocol "
            f"v{stability.protocol.version}, ICH Q1E); approve at most "
            f"{_text_duration(supported)} or complete a longer study.",
            code="shelf_life_unsupported")


def batch_eos_concentration(batch, engine) -> float:
    """The product's activity concentration at EOS, Bq/mL (the label states it at
    calibration)."""
    back = -(batch.calibration_time - batch.eos).total_seconds()
    return batch.activity_bq * engine.decay_factor(batch.product.nuclide, back) / batch.volume_ml


def shelf_life_statement(product: Product, *, concentration_bq_per_ml: float | None = None
                         ) -> str:
    """For a certificate: what supports the shelf life it states. A batch more concentrated
    at EOS than the study's worst case is not covered (radiolysis grows with concentration)."""
    from qc.formatting import format_activity

    stability = product_stability(product)
    if not stability.completed:
        return "Shelf life not yet supported by stability data."
    covered = stability.protocol.concentration_bq_per_ml
    if concentration_bq_per_ml is not None and concentration_bq_per_ml > covered:
        return (f"Shelf life not supported by stability data at this activity concentration "
                f"({format_activity(concentration_bq_per_ml, 'Bq/mL')} at EOS; the study "
                f"covers up to {format_activity(covered, 'Bq/mL')}).")
    return (f"Shelf life supported by stability data up to "
            f"{_text_duration(stability.supported_shelf_life_s)} (protocol "
            f"v{stability.protocol.version}, {len(stability.complete_lots)} batches, ICH Q1E).")


def stability_summary(product: Product, *, printed_at: str):
    """The plain values the PDF stability summary draws (batches.stability.pdf)."""
    from qc.rules import limit_text

    from .pdf import CriterionChart, StabilitySummary

    stability = product_stability(product)
    protocol = stability.protocol
    charts = []
    for s in stability.criteria:
        estimate = s.estimate
        charts.append(CriterionChart(
            name=s.criterion.name, unit=s.criterion.unit, limit_text=limit_text(s.criterion),
            model=s.model or ("text result, observed support" if s.criterion.is_text
                              else "none"),
            observed_h=None if s.observed_s is None else s.observed_s / 3600,
            statistical_h=None if s.statistical_s is None else s.statistical_s / 3600,
            shelf_life_h=None if s.shelf_life_s is None else s.shelf_life_s / 3600,
            reason=s.reason,
            limits=tuple(v for v in (s.criterion.lower_limit, s.criterion.upper_limit)
                         if v is not None) if not s.criterion.is_text else (),
            points={lot: [(r.after_eos_s / 3600, r.value) for r in rs if r.value is not None]
                    for lot, rs in s.series.items()} if not s.criterion.is_text else {},
            curve_times_h=estimate.curve_times_h if estimate else (),
            curves=estimate.curves if estimate else {}))
    protocol_text = "none approved" if protocol is None else (
        f"v{protocol.version} for specification v{protocol.specification.version}; "
        f"{protocol.storage_temperature_c:g} °C, {protocol.container}, "
        f"{protocol.get_orientation_display().lower()}; {protocol.batches_required} batches; "
        f"time points " + ", ".join(f"{tp.after_eos.total_seconds() / 3600:g} h"
                                    for tp in protocol.time_points.order_by("position")))
    return StabilitySummary(
        product=f"{product.name} ({product.code})", protocol=protocol_text,
        approved_h=stability.approved_shelf_life_s / 3600,
        supported_h=None if stability.supported_shelf_life_s is None
        else stability.supported_shelf_life_s / 3600,
        reason=stability.reason, lots=tuple(stability.complete_lots), criteria=tuple(charts),
        printed_at=printed_at)


def protocol_doses(protocol: StabilityProtocol) -> list[dict[str, float]]:
    """Each time point with the radiolysis dose the study's worst-case concentration has
    absorbed by then (Gy): the measure that lets a study at one concentration be compared
    with batches at another."""
    from qc.engine import site_engine
    from qc.physics.radiolysis import product_dose_gy

    points = list(protocol.time_points.order_by("position"))
    doses = product_dose_gy(site_engine(), protocol.product.nuclide,
                            protocol.concentration_bq_per_ml,
                            [p.after_eos.total_seconds() for p in points])
    return [{"after_eos_s": p.after_eos.total_seconds(), "tolerance_s":
             p.tolerance.total_seconds(), "dose_gy": float(dose), "alpha_gy": float(alpha)}
            for p, dose, alpha in zip(points, doses["total"], doses["alpha"], strict=True)]
