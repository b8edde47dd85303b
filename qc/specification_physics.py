"""Physics a specification must satisfy when it is written: a breakthrough recount whose
wait cannot measure its own limit is refused with the wait it needs (qc.evaluation.recount);
a reading that follows a daughter names one that reaches equilibrium with the product
(qc.evaluation.daughters)."""

from django.core.exceptions import ValidationError

from .engine import site_engine
from .evaluation.daughters import specification_daughter_problem
from .evaluation.recount import specification_recount_problem
from .evaluation.values import check_rule
from .models import Criterion, Product
from .rules import rule_for


def criterion_physics_problem(criterion: Criterion, product: Product) -> str | None:
    rule = rule_for(criterion)
    try:
        check_rule(rule)
    except ValueError as exc:
        return str(exc)
    problem = specification_daughter_problem(rule, site_engine(), product=product.nuclide)
    if problem:
        return problem
    return specification_recount_problem(
        rule, site_engine(), product=product.nuclide,
        shelf_life_s=product.shelf_life.total_seconds() if product.shelf_life else None)


def check_criterion_physics(criterion: Criterion, product: Product) -> None:
    """ValidationError on the criterion's validity when its measurement cannot work."""
    problem = criterion_physics_problem(criterion, product)
    if problem:
        raise ValidationError({"validity": [problem]})
