"""Criterion (a model row) to Rule (the plain value the pure evaluation takes)."""

from . import formatting
from .evaluation.values import Rule
from .models import Criterion


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
        impurity_with_progeny=criterion.impurity_with_progeny,
        release_before_result=criterion.release_before_result,
        validity=criterion.validity,
        validity_nuclide=criterion.validity_nuclide,
        validity_value=criterion.validity_value,
    )


def limit_text(criterion: Criterion) -> str:
    """The specification as a person reads it, e.g. '≥ 95 %', '5.5 – 9' or
    '400 kBq/mL – 2.80 MBq/mL'."""
    return formatting.limit_text(rule_for(criterion))
