"""A batch's expiry: EOS + the approved shelf life, or earlier where a criterion judged at
expiry would fail sooner by decay (an activity concentration falling to its floor, an
impurity share rising to its ceiling)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from qc.formatting import LIMIT_DIGITS, MESSAGE, bound_text, compact_value_text, format_duration
from qc.physics.decay import DecayEngine
from qc.physics.nuclides import normalise_nuclide
from qc.units import convert

from .values import (
    BatchTimes,
    ExpiryConstraint,
    Rule,
    check_aware,
    check_rule,
    floor_second,
    seconds,
)


def compute_expiry(
    *,
    eos: datetime,
    shelf_life: timedelta,
    rules: Sequence[Rule],
    batch: BatchTimes,
    impurity_ratio_at_ref: Mapping[str, tuple[float, datetime]],
    engine: DecayEngine,
) -> ExpiryConstraint:
    """The earliest of EOS + shelf life and the time a criterion judged at expiry would fail.

    Decay-projected criteria: an activity concentration falling to its lower limit, and an
    impurity ratio (impurity nuclide -> (ratio in %, reference time) from the source lot)
    rising to its upper limit. The reason names the constraint that set the expiry.
    """
    check_aware(eos, batch.calibration_time)
    if shelf_life <= timedelta(0):
        raise ValueError("The shelf life must be positive")
    best = ExpiryConstraint(
        eos + shelf_life,
        f"EOS + approved shelf life ({format_duration(seconds(shelf_life), trim=True)})",
    )
    product = normalise_nuclide(batch.product_nuclide)
    for rule in rules:
        check_rule(rule)
        if rule.judged_at != "expiry":
            continue
        if rule.quantity == "activity_concentration" and rule.lower is not None:
            candidate = _concentration_floor(rule, batch, product, engine)
        elif rule.quantity == "impurity_ratio" and rule.upper is not None:
            candidate = _impurity_ceiling(rule, product, impurity_ratio_at_ref, best.expiry, engine)
        else:
            continue  # not decay-projected, or cannot fail by decay
        if candidate is not None and candidate.expiry < best.expiry:
            best = candidate
    return best


def _concentration_floor(
    rule: Rule, batch: BatchTimes, product: str, engine: DecayEngine
) -> ExpiryConstraint | None:
    if batch.volume_ml <= 0:
        raise ValueError("The batch volume must be positive to compute its concentration")
    bq_per_ml = batch.activity_at_calibration_bq / batch.volume_ml
    try:
        at_calibration = convert(bq_per_ml, "Bq/mL", rule.unit)
    except ValueError as exc:
        raise ValueError(f"Cannot express Bq/mL in the rule's unit {rule.unit!r}") from exc
    lower = float(rule.lower)  # type: ignore[arg-type]  # checked by the caller
    if lower <= 0:
        return None  # a concentration cannot decay below zero
    # a lone nuclide decays exponentially, so the crossing has a closed form
    crossing = math.log(at_calibration / lower) / engine.decay_constant(product)
    expiry = floor_second(batch.calibration_time + timedelta(seconds=crossing))
    return ExpiryConstraint(
        expiry, f"{rule.name} falls to the {bound_text(rule, 'lower', MESSAGE)} limit")


def _impurity_ceiling(
    rule: Rule,
    product: str,
    impurity_ratio_at_ref: Mapping[str, tuple[float, datetime]],
    latest: datetime,
    engine: DecayEngine,
) -> ExpiryConstraint | None:
    impurity = normalise_nuclide(rule.impurity_nuclide)
    known = {normalise_nuclide(k): v for k, v in impurity_ratio_at_ref.items()}
    if impurity not in known:
        raise ValueError(
            f"No {impurity}/{product} ratio from the source lot; it is needed to project "
            f"'{rule.name}' to expiry"
        )
    ratio_percent, reference = known[impurity]
    check_aware(reference)
    horizon = seconds(latest - reference)
    if horizon <= 0:
        return None
    upper = float(rule.upper)  # type: ignore[arg-type]  # checked by the caller
    chain = engine.chain(impurity) if rule.impurity_with_progeny else [impurity]
    crossing = engine.crossing_time_s(
        {product: 1.0, impurity: ratio_percent / 100.0},
        lambda projection: 100.0 * sum(projection[n] for n in chain) / projection[product],
        upper,
        "rises_above",
        horizon,
    )
    if crossing is None:
        return None
    expiry = floor_second(reference + timedelta(seconds=crossing))
    limit = compact_value_text(upper, rule.unit, LIMIT_DIGITS)
    return ExpiryConstraint(expiry, f"{rule.name} reaches the {limit} limit")
