"""What a reading of the product with its daughters sees: the daughters' share of equilibrium
at the reading, worked out from the batch's state at EOS (qc.physics.inventory).

Three uses (qc.evaluation.daughters):

- A dose calibrator set for the product *in equilibrium* with its daughters (the 212Pb
  setting) reads the product right only once the daughters are back in equilibrium. Its
  reading D relates to the product activity A by

      D = A (s + (1 - s) q),    q = (A_d / A_p) / equilibrium ratio,

  where s is the product's own share of the equilibrium reading (a property of the
  calibrator and its setting, measured when the setting is calibrated: the reading of a
  freshly separated source over its reading at equilibrium) and q the daughter's fraction of
  equilibrium at the reading. So the reading is either taken once q is within a tolerance
  of 1, or corrected by 1 / (s + (1 - s) q).
- A radio-TLC strip counted in a wide window counts the daughters on the strip with the
  product. The daughter present when the strip was developed sits where its own chemistry
  took it (free Bi-212 recoiled from the chelate migrates unlike the labelled product), so
  until it has decayed and been replaced by daughter grown from the product where it lies,
  the strip's distribution is not the product's (``strip_misplaced_share``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .crossing import first_crossing, search_grid
from .decay import DecayEngine
from .nuclides import normalise_nuclide


def daughter_fraction(engine: DecayEngine, *, inventory: Mapping[str, float], product: str,
                      daughter: str, times_s) -> np.ndarray:
    """(A_daughter / A_product) / equilibrium ratio at each time after EOS, the product
    leaving EOS as ``inventory`` (Bq per nuclide)."""
    product, daughter = normalise_nuclide(product), normalise_nuclide(daughter)
    ratio = engine.equilibrium_ratio(product, daughter)
    return engine.activity_ratio(inventory, daughter, product, times_s) / ratio


def _horizon_s(engine: DecayEngine, product: str, daughter: str, tolerance: float) -> float:
    """A first search horizon: the daughter's own approach to equilibrium coming within
    ``tolerance`` (callers widen it if a slower member between the two holds it back)."""
    rate = engine.decay_constant(daughter) - engine.decay_constant(product)
    return (math.log(1.0 / tolerance) + 10.0) / rate


def equilibrium_within_s(engine: DecayEngine, *, inventory: Mapping[str, float], product: str,
                         daughter: str, tolerance: float) -> float:
    """Seconds after EOS from which the daughter stays within ``tolerance`` (a fraction) of
    its equilibrium ratio with the product; 0 for a product that left EOS in equilibrium."""
    if not 0.0 < tolerance < 1.0:
        raise ValueError("the tolerance must be between 0 and 1 (exclusive), e.g. 0.02")
    product, daughter = normalise_nuclide(product), normalise_nuclide(daughter)
    ratio = engine.equilibrium_ratio(product, daughter)

    def deviation(projection) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.abs(projection[daughter] / (projection[product] * ratio) - 1.0)

    horizon = _horizon_s(engine, product, daughter, tolerance)
    for _ in range(6):
        wait = engine.crossing_time_s(inventory, deviation, tolerance, "falls_below", horizon)
        if wait is not None:
            return wait
        horizon *= 4.0
    raise ArithmeticError(f"{daughter} did not come within {tolerance:.0%} of equilibrium")


def calibrator_factor(product_share: float, fraction: float) -> float:
    """The factor from a reading in the equilibrium setting to the product's activity:
    1 / (s + (1 - s) q), with s the product's own share of the equilibrium reading and q
    the daughter's fraction of equilibrium."""
    if not 0.0 < product_share < 1.0:
        raise ValueError("the product's share of the equilibrium reading must be between 0 "
                         "and 1 (exclusive)")
    return 1.0 / (product_share + (1.0 - product_share) * max(fraction, 0.0))


def strip_misplaced_share(engine: DecayEngine, *, product: str, daughter: str,
                          developed_fraction: float, times_s) -> np.ndarray:
    """The share of the daughter on a developed strip that was already there when it was
    developed, at each time after development: old / (old + grown), with

        old(t)   = q0 R exp(-lambda_d t)   (q0: the daughter's fraction of equilibrium in the
                                            vial at development, R the equilibrium ratio)
        grown(t) = A_d(t) grown from the product alone on the strip,

    both per 1 Bq of product at development. The old daughter may sit anywhere on the strip;
    the grown one lies with the product it comes from."""
    product, daughter = normalise_nuclide(product), normalise_nuclide(daughter)
    times = np.atleast_1d(np.asarray(times_s, dtype=float))
    ratio = engine.equilibrium_ratio(product, daughter)
    old = developed_fraction * ratio * np.exp(-engine.decay_constant(daughter) * times)
    grown = engine.project({product: 1.0}, times)[daughter]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(old + grown > 0.0, old / (old + grown), 0.0)


def strip_wait_s(engine: DecayEngine, *, product: str, daughter: str,
                 developed_fraction: float, share: float) -> float:
    """Seconds after development from which the old daughter is at most ``share`` of the
    daughter on the strip (0 when none was there)."""
    if not 0.0 < share < 1.0:
        raise ValueError("the share must be between 0 and 1 (exclusive)")
    if developed_fraction <= 0.0:
        return 0.0
    product, daughter = normalise_nuclide(product), normalise_nuclide(daughter)
    horizon = _horizon_s(engine, product, daughter, min(share / developed_fraction, 0.5))

    def crossed(times: np.ndarray) -> np.ndarray:
        return strip_misplaced_share(engine, product=product, daughter=daughter,
                                     developed_fraction=developed_fraction,
                                     times_s=times) <= share

    for _ in range(6):
        wait = first_crossing(crossed, search_grid(horizon))
        if wait is not None:
            return wait
        horizon *= 4.0
    raise ArithmeticError(f"the {daughter} on the strip did not renew")
