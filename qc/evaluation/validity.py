"""When a measurement is valid at all: a count once a daughter has regrown to equilibrium
after the strip was developed, or a recount some half-lives of the product after EOS. The
wait comes from the decay chain, never typed in by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

from qc.formatting import format_duration, number, utc_text
from qc.physics.decay import DecayEngine
from qc.physics.nuclides import normalise_nuclide

from .values import DEVELOPED_AT, BatchTimes, Measurement, Rule, ceil_second


def check_validity(
    rule: Rule, measurement: Measurement, batch: BatchTimes, engine: DecayEngine
) -> tuple[str | None, datetime | None]:
    """(why the measurement is refused, or None; the earliest valid measurement time)."""
    if rule.validity == "none":
        return None, None
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
    # product_half_lives
    half_lives = float(rule.validity_value)  # type: ignore[arg-type]  # checked in check_rule
    wait = timedelta(seconds=half_lives * engine.half_life_s(product))
    valid_from = ceil_second(batch.eos + wait)
    elapsed = counted - batch.eos
    if elapsed >= wait:
        return None, valid_from
    return (
        f"Counted {duration(elapsed)} after EOS; the count is valid only "
        f"{number(half_lives)} half-lives of {product} ({duration(wait)}) after EOS. "
        f"Count again after {utc_text(valid_from)} "
        f"({duration(valid_from - counted)} from the count).",
        valid_from,
    )


def duration(delta: timedelta) -> str:
    return format_duration(delta.total_seconds())


def percent(fraction: float) -> str:
    return f"{number(100.0 * fraction)} %"
