"""When a measurement is valid at all: a count once a daughter has regrown to equilibrium
after the strip was developed, a breakthrough recount once the counted line can see the
impurity at its limit (qc.evaluation.recount), a reading that sees the daughters once they
are where its method needs them (qc.evaluation.daughters). The wait comes from the decay
chain; a typed number of product half-lives is only ever a lower bound on it."""

from __future__ import annotations

from datetime import datetime, timedelta

from qc.formatting import format_duration, number, utc_text
from qc.physics.decay import DecayEngine
from qc.physics.inventory import eos_inventory
from qc.physics.nuclides import normalise_nuclide
from qc.physics.recount import RecountImpossible

from .daughters import check_daughter_validity
from .recount import is_recount, line_text, line_wait_s
from .values import DEVELOPED_AT, BatchTimes, Measurement, Rule, ceil_second


def check_validity(
    rule: Rule, measurement: Measurement, batch: BatchTimes, engine: DecayEngine
) -> tuple[str | None, datetime | None]:
    """(why the measurement is refused, or None; the earliest valid measurement time)."""
    if rule.validity in ("none", "daughter_correction"):
        return None, None
    if rule.validity in ("daughter_ratio", "counting_window"):
        return check_daughter_validity(rule, measurement, batch, engine)
    product = normalise_nuclide(batch.product_nuclide)
    counted = measurement.measured_at
    if rule.validity == "daughter_equilibrium":
        daughter = normalise_nuclide(rule.validity_nuclide)
        fraction = rule.validity_value if rule.validity_value is not None else 0.99
        developed = measurement.method_times.get(DEVELOPED_AT)
        if developed is None:
            return (
                f"{rule.name}: the time the strip was developed ({DEVELOPED_AT}) is missing, "
                f"so the count cannot be shown to be after {daughter} regrew to "
                f"{percent(fraction)} of equilibrium with {product}. Record the development "
                "time.",
                None,
            )
        wait = timedelta(seconds=engine.equilibrium_wait_s(product, daughter, fraction))
        valid_from = ceil_second(developed + wait)
        elapsed = counted - developed
        if elapsed >= wait:
            return None, valid_from
        if elapsed < timedelta(0):
            lead = "Counted before the strip was developed"
        else:
            lead = f"Counted {duration(elapsed)} after the strip was developed"
        return (
            f"{lead}; {daughter} reaches {percent(fraction)} of equilibrium with {product} "
            f"{duration(wait)} after development. Count again after {utc_text(valid_from)} "
            f"({duration(valid_from - counted)} from the count).",
            valid_from,
        )
    elapsed = counted - batch.eos
    line_wait = _line_wait(rule, batch, engine, product)
    if isinstance(line_wait, str):
        return line_wait, None
    if rule.validity == "recount_line":
        wait = line_wait
        valid_from = ceil_second(batch.eos + wait)
        if elapsed >= wait:
            return None, valid_from
        return (
            f"Counted {duration(elapsed)} after EOS; {line_text(rule, product)}, which it is "
            f"only {duration(wait)} after EOS. Count again after {utc_text(valid_from)} "
            f"({duration(valid_from - counted)} from the count).",
            valid_from,
        )
    # product_half_lives
    half_lives = float(rule.validity_value)  # type: ignore[arg-type]  # checked in check_rule
    wait = timedelta(seconds=half_lives * engine.half_life_s(product))
    valid_from = ceil_second(batch.eos + max(wait, line_wait or timedelta(0)))
    if elapsed >= wait and (line_wait is None or elapsed >= line_wait):
        return None, valid_from
    if line_wait is not None and line_wait > wait:
        # the typed wait is too short to see the limit (a specification approved before the
        # wait was derived from the chain): the chain decides
        asked = "after" if elapsed >= wait else "before"
        return (
            f"Counted {duration(elapsed)} after EOS, {asked} the {number(half_lives)} "
            f"half-lives of {product} ({duration(wait)}) the specification asks, but "
            f"{line_text(rule, product)}, which it is only {duration(line_wait)} after EOS. "
            f"Count again after {utc_text(valid_from)} "
            f"({duration(valid_from - counted)} from the count).",
            valid_from,
        )
    return (
        f"Counted {duration(elapsed)} after EOS; the count is valid only "
        f"{number(half_lives)} half-lives of {product} ({duration(wait)}) after EOS. "
        f"Count again after {utc_text(valid_from)} "
        f"({duration(valid_from - counted)} from the count).",
        valid_from,
    )


def _line_wait(rule: Rule, batch: BatchTimes, engine: DecayEngine,
               product: str) -> timedelta | str | None:
    """How long after EOS a breakthrough recount sees its limit for this batch (None for
    other rules), or why it never can."""
    if not is_recount(rule):
        return None
    judged = batch.expiry if rule.judged_at == "expiry" and batch.expiry else batch.calibration_time
    try:
        inventory = eos_inventory(engine, product,
                                  separated_before_eos_s=batch.separated_before_eos_s())
        wait_s = line_wait_s(rule, engine, product=product,
                             share_at_s=max((judged - batch.eos).total_seconds(), 0.0),
                             product_inventory=inventory)
    except RecountImpossible as exc:
        return f"{rule.name}: {exc}; the count cannot be judged."
    return timedelta(seconds=wait_s)


def check_expiry_measurement(
    rule: Rule, measurement: Measurement, batch: BatchTimes
) -> tuple[str | None, datetime | None]:
    """A plain (or text) criterion judged at expiry is a statement about the product at
    expiry, so its result must be measured at or after expiry; a decay-physics quantity
    judged at expiry is a projection instead (the verdict says "projected to expiry")."""
    if rule.judged_at != "expiry" or rule.quantity != "plain" or batch.expiry is None:
        return None, None
    if measurement.measured_at >= batch.expiry:
        return None, batch.expiry
    return (
        f"{rule.name} is judged at expiry and is not a decay projection, so it must be "
        f"measured at or after expiry ({utc_text(batch.expiry)}); it was measured "
        f"{duration(batch.expiry - measurement.measured_at)} before expiry. Measure it again "
        "at or after expiry.",
        batch.expiry,
    )


def duration(delta: timedelta) -> str:
    return format_duration(delta.total_seconds())


def percent(fraction: float) -> str:
    return f"{number(100.0 * fraction)} %"
