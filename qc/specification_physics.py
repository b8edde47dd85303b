"""Physics a specification must satisfy when it is written: its numbers within their
physical range (qc.specification_bounds); a breakthrough recount whose wait cannot measure
its own limit is refused with the wait it needs (qc.evaluation.recount); a reading that
follows a daughter names one that reaches equilibrium with the product
(qc.evaluation.daughters)."""

from django.core.exceptions import ValidationError

from .engine import site_engine
from .evaluation.daughters import specification_daughter_problem
from .evaluation.recount import specification_recount_problem
from .evaluation.values import check_rule
from .models import Criterion, Product
from .rules import rule_for
from .specification_bounds import criterion_bounds_errors


def criterion_bounds(criterion: Criterion, product: Product | None) -> dict[str, list[str]]:
    """{field: [what is wrong]} for the criterion's numbers outside their range (a number of
    product half-lives is bounded only where the product is known)."""
    half_life_s = None
    if product is not None:
        try:
            half_life_s = site_engine().half_life_s(product.nuclide)
        except ValueError:
            pass  # an unknown nuclide is refused by the physics that follows
    return criterion_bounds_errors(criterion, product_half_life_s=half_life_s)


def criterion_physics_problem(criterion: Criterion, product: Product) -> str | None:
    bounds = criterion_bounds(criterion, product)
    if bounds:
        return f"{criterion.test_code}: " + " ".join(m for ms in bounds.values() for m in ms)
    return _measurement_problem(criterion, product)


def _measurement_problem(criterion: Criterion, product: Product) -> str | None:
    """Why the criterion's measurement cannot work, for numbers within their range."""
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
    """ValidationError on the fields out of range, else on the criterion's validity when its
    measurement cannot work."""
    bounds = criterion_bounds(criterion, product)
    if bounds:
        raise ValidationError(bounds)
    problem = _measurement_problem(criterion, product)
    if problem:
        raise ValidationError({"validity": [problem]})
