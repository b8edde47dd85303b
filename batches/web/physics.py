"""The decay physics the pages show, done on the server with the site's engine: current
activities, a source's activity now, a generator's ingrowth and a lot's Ac-227 share."""

from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np

from qc.engine import site_engine
from qc.physics.shares import activity_share_percent

from ..models import Batch, Elution, Generator, SourceLot
from ..records.ingrowth import Ingrowth as Ingrowth
from ..records.ingrowth import predict_elution


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def decayed(nuclide: str, activity_bq: float, reference: datetime, at: datetime) -> float:
    """The nuclide's own activity at `at` (before or after the reference)."""
    return activity_bq * site_engine().decay_factor(nuclide, _seconds(at, reference))


def current_activities(batches: Iterable[Batch], now: datetime) -> dict[int, float]:
    """Product-nuclide activity of each batch now, decay-corrected from its calibration time;
    one vectorised call per nuclide."""
    engine = site_engine()
    by_nuclide: dict[str, list[Batch]] = {}
    for batch in batches:
        by_nuclide.setdefault(batch.product.nuclide, []).append(batch)
    activities: dict[int, float] = {}
    for nuclide, group in by_nuclide.items():
        dt = np.array([_seconds(now, b.calibration_time) for b in group])
        factors = np.atleast_1d(engine.decay_factor(nuclide, dt))
        for batch, factor in zip(group, factors, strict=True):
            activities[batch.id] = batch.activity_bq * float(factor)
    return activities


def elution_activity_now(elution: Elution, now: datetime) -> float:
    return decayed(elution.generator.product_nuclide, elution.activity_bq, elution.eluted_at, now)


def lot_activity_now(lot: SourceLot, now: datetime) -> float:
    return decayed("Ac-225", lot.activity_bq, lot.reference_time, now)


def ac227_share_percent(lot: SourceLot, times: Sequence[datetime],
                        with_progeny: bool = False) -> list[float]:
    """Ac-227/Ac-225 activity share (%) at each time, from the lot certificate's share at its
    reference time, before the reference time as well as after (see activity_share_percent);
    with its progeny when the criterion judges it so."""
    return activity_share_percent(
        site_engine(), product="Ac-225", impurity="Ac-227", share_percent=lot.ac227_ratio_percent,
        reference=lot.reference_time, times=times, with_progeny=with_progeny)


def elution_yields(generator: Generator, elutions: Sequence[Elution]) -> dict[int, float]:
    """Each elution's activity as % of what ingrowth since the one before predicted."""
    ordered = sorted(elutions, key=lambda e: e.eluted_at)
    yields: dict[int, float] = {}
    previous: datetime | None = None
    for elution in ordered:
        predicted = predict_elution(generator, last_elution_at=previous, at=elution.eluted_at)
        if predicted.product_bq > 0:
            yields[elution.id] = 100.0 * elution.activity_bq / predicted.product_bq
        previous = elution.eluted_at
    return yields
