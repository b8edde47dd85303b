"""When a breakthrough recount can see its own limit: the earliest time after EOS at which a
count on one nuclide's gamma line reads the impurity, at its limit, to within a tolerance.

A recount counts the line of one nuclide (the "counted" nuclide: Pb-212's 238.6 keV for a
Ra-224 breakthrough in a 212Pb product, Bi-213's 440 keV for an Ac-225 breakthrough in a
213Bi product) and reads it as the impurity in equilibrium with that nuclide. The product's
own left-over activity on the same line reads as impurity too, and a counted daughter still
growing in reads as too little. The count is valid once

    | A_counted(t) / equilibrium ratio - A_impurity(t) | <= tolerance * A_impurity(t)

for the product and the impurity at its limit together, worked out with the decay engine.
A fixed number of product half-lives does not say this: at 72 h (6.8 Pb-212 half-lives) the
product's own Pb-212 is still ~145 times what Ra-224 at 0.01 % supports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .decay import DecayEngine, Projection
from .nuclides import normalise_nuclide


class RecountImpossible(ValueError):
    """The counted line never reads the impurity at its limit within the tolerance."""


def impurity_at_limit_bq(
    engine: DecayEngine, *, product_inventory: Mapping[str, float], product: str,
    impurity: str, share: float, share_at_s: float,
) -> float:
    """The impurity activity at EOS that is ``share`` (a fraction) of the product activity
    ``share_at_s`` seconds after EOS (the time the limit is judged at)."""
    product_then = float(engine.project(product_inventory, [share_at_s])[product][0])
    return share * product_then / engine.decay_factor(impurity, share_at_s)


def recount_reading_error(
    engine: DecayEngine, *, product_inventory: Mapping[str, float], product: str,
    impurity: str, counted: str, share: float, share_at_s: float, times_s,
) -> np.ndarray:
    """(reading - true impurity) / true impurity at each time after EOS, for the impurity at
    its limit; positive where the product's own activity on the line reads as impurity."""
    product, impurity, counted = (normalise_nuclide(n) for n in (product, impurity, counted))
    inventory = _inventory(engine, product_inventory, product, impurity, share, share_at_s)
    ratio = _counted_ratio(engine, impurity, counted)
    projection = engine.project(inventory, times_s)
    return _error(projection, impurity, counted, ratio)


def recount_wait_s(
    engine: DecayEngine, *, product: str, impurity: str, counted: str, share: float,
    share_at_s: float = 0.0, tolerance: float = 0.1,
    product_inventory: Mapping[str, float] | None = None,
) -> float:
    """Seconds after EOS from which a count on ``counted``'s line reads ``impurity`` at
    ``share`` (fraction of the product activity ``share_at_s`` after EOS) within
    ``tolerance``. ``product_inventory`` is the product as it left EOS in Bq (default: the
    product nuclide alone, 1 Bq, its daughters separated). RecountImpossible if never."""
    product, impurity, counted = (normalise_nuclide(n) for n in (product, impurity, counted))
    if not (0.0 < tolerance < 1.0):
        raise ValueError("tolerance must be between 0 and 1 (exclusive), e.g. 0.1")
    if not (math.isfinite(share) and share > 0.0):
        raise ValueError("the limit must be a positive share of the product activity")
    ratio = _counted_ratio(engine, impurity, counted)
    inventory = _inventory(engine, product_inventory, product, impurity, share, share_at_s)

    def error(projection: Projection) -> np.ndarray:
        return np.abs(_error(projection, impurity, counted, ratio))

    lam_product, lam_impurity = engine.decay_constant(product), engine.decay_constant(impurity)
    if lam_product > lam_impurity:
        horizon = (math.log(1.0 / (tolerance * share)) + 10.0) / (lam_product - lam_impurity)
    else:
        horizon = 20.0 * engine.half_life_s(impurity)
    for _ in range(3):
        wait = engine.crossing_time_s(inventory, error, tolerance, "falls_below", horizon)
        if wait is not None:
            return wait
        horizon *= 4.0
    raise RecountImpossible(
        f"a count on the {counted} line never reads {impurity} at "
        f"{100.0 * share:.3g} % of {product} within {100.0 * tolerance:.3g} %: "
        f"{product}'s own activity on that line does not decay away fast enough; "
        "count a line of the impurity or of a daughter the product does not feed")


def _inventory(engine, product_inventory, product, impurity, share, share_at_s):
    inventory = dict(product_inventory or {product: 1.0})
    inventory[impurity] = inventory.get(impurity, 0.0) + impurity_at_limit_bq(
        engine, product_inventory=inventory, product=product, impurity=impurity, share=share,
        share_at_s=share_at_s)
    return inventory


def _counted_ratio(engine: DecayEngine, impurity: str, counted: str) -> float:
    if counted == impurity:
        return 1.0
    if counted not in engine.chain(impurity):
        raise RecountImpossible(
            f"{counted} is not fed by {impurity}, so a count on its line cannot read "
            f"{impurity}; count a line of {impurity} or of one of its daughters")
    return engine.equilibrium_ratio(impurity, counted)


def _error(projection: Projection, impurity: str, counted: str, ratio: float) -> np.ndarray:
    truth = projection[impurity]
    reading = projection.get(counted, np.zeros_like(truth)) / ratio
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(truth > 0.0, (reading - truth) / truth, np.inf)
