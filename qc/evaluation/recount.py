"""The breakthrough recount of a criterion: which line it counts, how long after EOS it can
see its own limit, and the refusal a specification gets when its typed wait is too short."""

from __future__ import annotations

from collections.abc import Mapping

from qc.formatting import format_duration, number
from qc.physics.decay import DecayEngine
from qc.physics.nuclides import normalise_nuclide
from qc.physics.recount import RecountImpossible, recount_wait_s

from .values import RECOUNT_TOLERANCE, Rule


def is_recount(rule: Rule) -> bool:
    return rule.quantity == "breakthrough" and rule.validity in (
        "recount_line", "product_half_lives") and rule.upper is not None


def counted_nuclide(rule: Rule, product: str) -> str:
    """The nuclide whose line the recount counts: stated, or else the product's own line
    (the case of a gamma counter that cannot separate 238.6 from 241.0 keV)."""
    return normalise_nuclide(rule.validity_nuclide or product)


def tolerance(rule: Rule) -> float:
    if rule.validity == "recount_line" and rule.validity_value is not None:
        return float(rule.validity_value)
    return RECOUNT_TOLERANCE


def line_wait_s(rule: Rule, engine: DecayEngine, *, product: str, share_at_s: float,
                product_inventory: Mapping[str, float] | None = None) -> float:
    """Seconds after EOS from which the recount reads the impurity at the upper limit within
    the tolerance (RecountImpossible if never)."""
    return recount_wait_s(
        engine, product=product, impurity=rule.impurity_nuclide,
        counted=counted_nuclide(rule, product), share=float(rule.upper) / 100.0,  # type: ignore[arg-type]
        share_at_s=share_at_s, tolerance=tolerance(rule), product_inventory=product_inventory)


def line_text(rule: Rule, product: str) -> str:
    counted = counted_nuclide(rule, product)
    impurity = normalise_nuclide(rule.impurity_nuclide)
    return (f"on the {counted} line the product's own {counted} must be below "
            f"{number(100.0 * tolerance(rule))} % of what {impurity} at the "
            f"{number(rule.upper)} % limit supports")


def specification_recount_problem(rule: Rule, engine: DecayEngine, *, product: str,
                                  shelf_life_s: float | None) -> str | None:
    """Why a specification's breakthrough recount cannot measure its own limit, or None.

    Judged at calibration, the limit is taken at EOS (the earliest calibration; a later one
    only lengthens the wait, and the evaluation then refuses a count that is too early);
    judged at expiry, at EOS + the shelf life."""
    if not is_recount(rule):
        return None
    product = normalise_nuclide(product)
    share_at_s = (shelf_life_s or 0.0) if rule.judged_at == "expiry" else 0.0
    try:
        wait = line_wait_s(rule, engine, product=product, share_at_s=share_at_s)
    except RecountImpossible as exc:
        return f"{rule.name}: {exc}."
    if rule.validity != "product_half_lives":
        return None
    typed = float(rule.validity_value) * engine.half_life_s(product)  # type: ignore[arg-type]
    if typed >= wait:
        return None
    return (f"{rule.name}: a recount {number(rule.validity_value)} half-lives of {product} "
            f"({format_duration(typed)}) after EOS cannot measure its own limit: "
            f"{line_text(rule, product)}, which takes {format_duration(wait)} after EOS. "
            f"Set the wait to at least {format_duration(wait)} "
            f"({number(wait / engine.half_life_s(product))} half-lives), or use the "
            "recount_line validity, which derives it.")
