"""Readings that see the product's daughters: a dose calibrator in its equilibrium setting
(valid near equilibrium, or corrected with the daughter's state at the reading) and a strip
counted in a wide window (valid once the daughter on the strip is the product's own). The
daughters start from the state the batch records at EOS (qc.physics.inventory); the waits
and factors come from the chain (qc.physics.daughters)."""

from __future__ import annotations

from datetime import datetime, timedelta

from qc.formatting import format_duration, number, utc_text
from qc.physics.daughters import (
    calibrator_factor,
    daughter_fraction,
    equilibrium_within_s,
    strip_wait_s,
)
from qc.physics.decay import DecayEngine
from qc.physics.inventory import eos_inventory
from qc.physics.nuclides import normalise_nuclide

from .values import (
    DAUGHTER_RATIO_TOLERANCE,
    DEVELOPED_AT,
    PRODUCT_LINE,
    WIDE_WINDOW,
    WINDOW_TOLERANCE,
    BatchTimes,
    Measurement,
    Rule,
    ceil_second,
)

WINDOW_NAMES = {PRODUCT_LINE: "the product's own line", WIDE_WINDOW: "a wide window"}


def check_daughter_validity(rule: Rule, measurement: Measurement, batch: BatchTimes,
                            engine: DecayEngine) -> tuple[str | None, datetime | None]:
    """(why the reading is refused, or None; the earliest valid reading time) for the
    daughter_ratio and counting_window validities; (None, None) for any other."""
    if rule.validity == "daughter_ratio":
        return _equilibrium_setting(rule, measurement, batch, engine)
    if rule.validity == "counting_window":
        return _counting_window(rule, measurement, batch, engine)
    return None, None


def _inventory(batch: BatchTimes, engine: DecayEngine) -> dict[str, float]:
    return eos_inventory(engine, batch.product_nuclide,
                         separated_before_eos_s=batch.separated_before_eos_s())


def fraction_at(rule: Rule, batch: BatchTimes, engine: DecayEngine, at: datetime) -> float:
    """The daughter's fraction of equilibrium with the product at ``at`` (not before EOS)."""
    [fraction] = daughter_fraction(
        engine, inventory=_inventory(batch, engine), product=batch.product_nuclide,
        daughter=rule.validity_nuclide, times_s=[max((at - batch.eos).total_seconds(), 0.0)])
    return float(fraction)


def daughters_state(batch: BatchTimes) -> str:
    before = batch.separated_before_eos_s()
    if before is None:
        return "the daughters not separated (in equilibrium at EOS)"
    if before == 0.0:
        return "the daughters separated at EOS"
    return f"the daughters last separated {format_duration(before)} before EOS"


def _equilibrium_setting(rule, measurement, batch, engine):
    product, daughter = normalise_nuclide(batch.product_nuclide), normalise_nuclide(
        rule.validity_nuclide)
    tolerance = rule.validity_value or DAUGHTER_RATIO_TOLERANCE
    wait = timedelta(seconds=equilibrium_within_s(
        engine, inventory=_inventory(batch, engine), product=product, daughter=daughter,
        tolerance=tolerance))
    valid_from = ceil_second(batch.eos + wait)
    read = measurement.measured_at
    if read - batch.eos >= wait:
        return None, valid_from
    fraction = fraction_at(rule, batch, engine, read)
    return (
        f"Read {_duration(read - batch.eos)} after EOS in the equilibrium setting; with "
        f"{daughters_state(batch)}, {daughter} was at {number(100.0 * fraction)} % of its "
        f"equilibrium with {product} and comes within {number(100.0 * tolerance)} % of it "
        f"{_duration(wait)} after EOS, so the setting does not read {product} yet. Read again "
        f"after {utc_text(valid_from)} ({_duration(valid_from - read)} from the reading).",
        valid_from,
    )


def window_share(rule: Rule) -> float:
    """The largest share of the daughter on the strip that may still be the daughter from
    before development: the tolerance x the impurity at the limit / the product at the limit
    (the old daughter, all on the wrong spot, shifts the result by up to that share of the
    larger of the two)."""
    tolerance = rule.validity_value or WINDOW_TOLERANCE
    limit = rule.lower if rule.lower is not None else rule.upper
    small = min(limit, 100.0 - limit)  # type: ignore[operator]  # checked in check_rule
    return tolerance * small / (100.0 - small)


def _counting_window(rule, measurement, batch, engine):
    product, daughter = normalise_nuclide(batch.product_nuclide), normalise_nuclide(
        rule.validity_nuclide)
    window = measurement.counting_window
    if window == PRODUCT_LINE:
        return None, None
    if window != WIDE_WINDOW:
        return (
            f"{rule.name}: the counting window is not recorded, so the count cannot be shown "
            f"to read {product} alone. Record it: {product}'s own line (valid at once) or a "
            f"wide window (valid once the {daughter} on the strip has renewed).",
            None,
        )
    developed = measurement.method_times.get(DEVELOPED_AT)
    if developed is None:
        return (
            f"{rule.name}: counted in a wide window, but the time the strip was developed "
            f"({DEVELOPED_AT}) is missing, so the count cannot be shown to be after the "
            f"{daughter} on the strip renewed. Record the development time.",
            None,
        )
    fraction = fraction_at(rule, batch, engine, developed)
    share = window_share(rule)
    wait = timedelta(seconds=strip_wait_s(engine, product=product, daughter=daughter,
                                          developed_fraction=fraction, share=share))
    valid_from = ceil_second(developed + wait)
    counted = measurement.measured_at
    if counted - developed >= wait:
        return None, valid_from
    tolerance = rule.validity_value or WINDOW_TOLERANCE
    limit = rule.lower if rule.lower is not None else rule.upper
    return (
        f"Counted in a wide window {_duration(counted - developed)} after the strip was "
        f"developed; the {daughter} on the strip then ({number(100.0 * fraction)} % of "
        f"equilibrium in the vial, with {daughters_state(batch)}) may lie apart from its "
        f"{product}, and only {_duration(wait)} after development is it below "
        f"{number(100.0 * share)} % of the {daughter} on the strip, so that it moves the result "
        f"by less than {number(100.0 * tolerance)} % of the impurity at the "
        f"{number(limit)} % limit. Count again after {utc_text(valid_from)} "
        f"({_duration(valid_from - counted)} from the count), or count the {product} line.",
        valid_from,
    )


def calibrator_correction(rule: Rule, measurement: Measurement, batch: BatchTimes,
                          engine: DecayEngine) -> tuple[float, str]:
    """The factor from the equilibrium-setting reading to the product's activity, and what
    the verdict says about it."""
    product, daughter = normalise_nuclide(batch.product_nuclide), normalise_nuclide(
        rule.validity_nuclide)
    fraction = fraction_at(rule, batch, engine, measurement.measured_at)
    share = float(rule.validity_value)  # type: ignore[arg-type]  # checked in check_rule
    factor = calibrator_factor(share, fraction)
    return factor, (
        f"; read in the equilibrium setting, corrected x{number(factor, 4)} to {product} "
        f"({daughter} at {number(100.0 * fraction)} % of equilibrium at the reading, with "
        f"{daughters_state(batch)}; {product}'s own share of the equilibrium reading "
        f"{number(share)})")


def _duration(delta: timedelta) -> str:
    return format_duration(delta.total_seconds())


def specification_daughter_problem(rule: Rule, engine: DecayEngine, *,
                                   product: str) -> str | None:
    """Why a criterion that follows a daughter cannot work for the product, or None: the
    daughter must be in the product's chain and reach equilibrium with it."""
    if rule.validity not in ("daughter_ratio", "daughter_correction", "counting_window"):
        return None
    try:
        engine.equilibrium_ratio(product, rule.validity_nuclide)
    except ValueError as exc:
        return (f"{rule.name}: {exc}; name a daughter of {normalise_nuclide(product)} that "
                "reaches equilibrium with it (e.g. Bi-212 for Pb-212).")
    return None
