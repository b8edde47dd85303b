"""Criterion (a model row) to Rule (the plain value the pure evaluation takes)."""

from .evaluation import Rule
from .models import Criterion
from .units import format_activity


def rule_for(criterion: Criterion) -> Rule:
    return Rule(
        test_code=criterion.test_code,
        name=criterion.name,
        unit=criterion.unit,
        lower=criterion.lower_limit,
        lower_inclusive=criterion.lower_inclusive,
        upper=criterion.upper_limit,
        upper_inclusive=criterion.upper_inclusive,
        text_requirement=criterion.text_requirement,
        judged_at=criterion.judged_at,
        quantity=criterion.quantity,
        impurity_nuclide=criterion.impurity_nuclide,
        release_before_result=criterion.release_before_result,
        validity=criterion.validity,
        validity_nuclide=criterion.validity_nuclide,
        validity_value=criterion.validity_value,
    )


def limit_text(criterion: Criterion) -> str:
    """The specification as a person reads it, e.g. '≥ 95 %' or '5.5 – 9.0 pH'."""
    if criterion.text_requirement:
        return " or ".join(part.strip() for part in criterion.text_requirement.split("|"))
    lo, hi = criterion.lower_limit, criterion.upper_limit
    lo_op = "≥" if criterion.lower_inclusive else ">"
    hi_op = "≤" if criterion.upper_inclusive else "<"
    if criterion.unit in ("Bq", "Bq/mL"):  # activities read best with an SI prefix
        def shown(v):
            return format_activity(v, criterion.unit)
        unit = ""
    else:
        def shown(v):
            return f"{v:g}"
        unit = "" if criterion.unit in ("", "pH") else f" {criterion.unit}"
    if lo is not None and hi is not None:
        if criterion.lower_inclusive and criterion.upper_inclusive:
            return f"{shown(lo)} – {shown(hi)}{unit}"
        return f"{lo_op} {shown(lo)} and {hi_op} {shown(hi)}{unit}"
    if lo is not None:
        return f"{lo_op} {shown(lo)}{unit}"
    if hi is not None:
        return f"{hi_op} {shown(hi)}{unit}"
    return "report"
