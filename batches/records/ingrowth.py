"""A generator's ingrowth: the product activity available at a time since its previous
elution. Recording an elution checks against it; the pages show it."""

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from qc.engine import site_engine

from ..models import Generator


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


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


