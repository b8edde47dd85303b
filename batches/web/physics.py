"""The decay physics the pages show, done on the server with the site's engine: current
activities, a source's activity now, a generator's ingrowth and a lot's Ac-227 share."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from qc.engine import site_engine
from qc.physics.shares import activity_share_percent

from ..models import Batch, Elution, Generator, SourceLot


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


@dataclass(frozen=True)
class Ingrowth:
    since: datetime
    since_what: str
    parent_now_bq: float
    product_bq: float
    at: datetime


def _column_after_elution(generator: Generator, separated_at: datetime) -> dict[str, float]:
    """Activities on the column right after an elution: the parent's chain decayed from the
    loaded activity, with the product nuclide and its progeny washed off."""
    engine = site_engine()
    parent = generator.parent_nuclide
    elapsed = max(_seconds(separated_at, generator.loaded_at), 0.0)
    chain = engine.project({parent: generator.loaded_activity_bq}, elapsed)
    washed = set(engine.chain(generator.product_nuclide))
    return {name: float(values[0]) for name, values in chain.items()
            if name not in washed and values[0] > 0.0}


def predict_elution(generator: Generator, *, last_elution_at: datetime | None,
                    at: datetime) -> Ingrowth:
    """Product activity available at `at` from ingrowth since the last elution (or since
    loading, taken as freshly separated, when the generator was never eluted)."""
    engine = site_engine()
    since = last_elution_at or generator.loaded_at
    column = _column_after_elution(generator, since)
    elapsed = max(_seconds(at, since), 0.0)
    projection = engine.project(column, elapsed)
    product = generator.product_nuclide
    return Ingrowth(
        since=since, since_what="last elution" if last_elution_at else "loading",
        parent_now_bq=float(projection[generator.parent_nuclide][0]),
        product_bq=float(projection.get(product, np.zeros(1))[0]), at=at)


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
