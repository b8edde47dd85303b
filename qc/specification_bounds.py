"""The numbers a criterion may hold, checked when a specification is written (every entry
path: the web form, admin, a new draft, the demo specifications) before any physics runs
on them. A limit lies within the physical range of its unit, the same range a result in
that unit is held to (qc.units); a validity value within what its validity counts; the
earliest result from 0 to ten years after EOS. Outside is a typing or unit error, refused
naming the value as entered and the range."""

import math
from datetime import timedelta

from .entered import derived_text
from .formatting import format_duration
from .time_range import MAX_DURATION_H
from .units import (
    SHARE_OF_NOMINAL,
    UnitError,
    accepted_units,
    check_physical_range,
    to_canonical,
)

LIMIT_LABELS = {"lower_limit": "Lower limit", "upper_limit": "Upper limit"}
# validities whose value is a fraction: of equilibrium, or a tolerance (qc.evaluation.values)
FRACTION_VALIDITIES = {
    "daughter_equilibrium": "the fraction of equilibrium the daughter reaches, e.g. 0.99",
    "recount_line": "the largest share of the impurity's reading the product's own activity "
    "may have, e.g. 0.1",
    "daughter_ratio": "the tolerance on the daughter's equilibrium, e.g. 0.02",
    "daughter_correction": "the product's own share of the equilibrium reading, e.g. 0.1",
    "counting_window": "the share of the impurity at the limit the daughter may move, e.g. 0.1",
}
MAX_WAIT_S = MAX_DURATION_H * 3600.0
_TEN_YEARS = "ten years"


def _number(value: float) -> str:
    return derived_text(value) if math.isfinite(value) else str(value)


def _in_range_unit(value: float, unit: str, quantity: str) -> tuple[float, str]:
    """The limit in the unit whose physical range holds it: an activity (concentration) in
    Bq (Bq/mL), an activity's % as a share of the nominal activity, else as it is."""
    if quantity == "activity" and unit == "%":
        return value, SHARE_OF_NOMINAL  # % of the nominal activity, not a share of a whole
    for canonical in ("Bq", "Bq/mL"):
        if unit in accepted_units(canonical):
            return to_canonical(value, unit, canonical), canonical
    return value, unit


def limit_problem(value: float | None, *, unit: str, quantity: str, label: str) -> str:
    """'' for a limit its unit can hold, else why not ('Upper limit 1e+308 % is outside ...')."""
    if value is None:
        return ""
    shown = f"{_number(value)} {unit}".strip()
    if not math.isfinite(value):
        return f"{label} {shown} is not a finite number; give the limit as a number."
    try:
        check_physical_range(*_in_range_unit(value, unit, quantity), entered=shown)
    except UnitError as exc:
        return f"{label} {exc}. Give a limit within that range in {unit}."
    return ""


def validity_value_problem(value: float | None, *, validity: str,
                           product_half_life_s: float | None) -> str:
    """'' for a validity value its validity can use, else why not."""
    if value is None:
        return ""
    shown = _number(value)
    if not math.isfinite(value) or value < 0:
        return (f"Validity value {shown} is not a count or fraction: it must be a finite "
                "number of 0 or more.")
    if validity in FRACTION_VALIDITIES and not 0.0 < value < 1.0:
        return (f"Validity value {shown} is outside the range of {validity}: give "
                f"{FRACTION_VALIDITIES[validity]}, between 0 and 1 (exclusive).")
    if validity == "product_half_lives":
        if value <= 0:
            return (f"Validity value {shown} half-lives is no wait; give the number of product "
                    "half-lives after EOS the measurement waits, more than 0.")
        wait_s = value * (product_half_life_s or 0.0)
        if wait_s > MAX_WAIT_S:
            most = MAX_WAIT_S / product_half_life_s  # type: ignore[operator]  # wait_s > 0
            wait = format_duration(wait_s) if math.isfinite(wait_s) else "beyond any time"
            return (f"Validity value {shown} half-lives is a wait of {wait}, longer than any "
                    f"record ({_TEN_YEARS}); give from 0 to {derived_text(float(f'{most:.4g}'))} "
                    "half-lives.")
    return ""


def earliest_after_problem(wait: timedelta | None, shown: str = "") -> str:
    """'' for an earliest result from 0 to ten years after EOS, else why not, naming the
    wait as `shown` (the typed text) or as it reads."""
    if wait is None or timedelta(0) <= wait <= timedelta(hours=MAX_DURATION_H):
        return ""
    return (f"The earliest a result can exist, {shown or wait}, is outside the range: it is "
            f"from 0 to {_TEN_YEARS} after EOS.")


def criterion_bounds_errors(criterion, *, product_half_life_s: float | None = None
                            ) -> dict[str, list[str]]:
    """{field: [what is wrong]} for the criterion's numbers; empty when all are in range."""
    errors: dict[str, list[str]] = {}
    for field, label in LIMIT_LABELS.items():
        problem = limit_problem(getattr(criterion, field), unit=criterion.unit or "",
                                quantity=criterion.quantity, label=label)
        if problem:
            errors[field] = [problem]
    if problem := validity_value_problem(criterion.validity_value, validity=criterion.validity,
                                         product_half_life_s=product_half_life_s):
        errors["validity_value"] = [problem]
    if problem := earliest_after_problem(criterion.earliest_after):
        errors["earliest_after"] = [problem]
    return errors
