"""A criterion's numbers stay within what they can physically be: a limit within the range of
its unit (the range a result in that unit is held to), a validity value within what its
validity counts, the earliest result from 0 to ten years after EOS. Outside is refused by the
specification editing service, naming the value and the range, and nothing is stored."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from qc.demo_specifications import PRODUCTS
from qc.errors import RuleViolation
from qc.models import AuditEvent, Criterion, Product, Specification
from qc.services import specification_approve, specification_create_draft
from qc.specification_bounds import limit_problem, validity_value_problem
from qc.specification_edits import criterion_add, criterion_update
from qc.specification_physics import criterion_bounds
from tests.conftest import PASSWORD

# --- the ranges, without a database ---------------------------------------------------------


@pytest.mark.parametrize(("value", "unit", "quantity"), [
    (100.0, "%", "plain"), (0.0, "%", "breakthrough"), (14.0, "pH", "plain"),
    (110.0, "%", "activity"), (2.8e6, "Bq/mL", "activity_concentration"),
    (2.8, "MBq/mL", "activity_concentration"), (175.0, "EU", "plain"),
    (-40.0, "°C", "plain"),  # a unit without a physical range here: any finite number
])
def test_a_limit_its_unit_can_hold_is_accepted(value, unit, quantity):
    assert limit_problem(value, unit=unit, quantity=quantity, label="Upper limit") == ""


@pytest.mark.parametrize(("value", "unit", "quantity", "expected"), [
    (1e308, "%", "plain", "Upper limit 1e+308 % is outside the physical range: above the "
     "largest percentage accepted, 100 %"),
    (-5.0, "pH", "plain", "Upper limit -5 pH is outside the physical range: below the "
     "smallest pH accepted, 0 pH"),
    (15.0, "pH", "plain", "above the largest pH accepted, 14 pH"),
    (1e308, "%", "activity", "Upper limit 1e+308 % is outside the physical range: above the "
     "largest activity (% of nominal) accepted, 1000 % of nominal"),
    (3e9, "MBq/mL", "activity_concentration", "Upper limit 3000000000 MBq/mL is outside the "
     "physical range: above the largest activity concentration accepted, 1000 TBq/mL"),
    (-1.0, "EU/mL", "plain", "Upper limit -1 EU/mL is outside the physical range"),
    (float("inf"), "", "plain", "Upper limit inf is not a finite number"),
])
def test_a_limit_outside_the_range_of_its_unit_is_refused_naming_it_and_the_range(
        value, unit, quantity, expected):
    assert expected in limit_problem(value, unit=unit, quantity=quantity, label="Upper limit")


@pytest.mark.parametrize(("value", "validity", "expected"), [
    (-3.0, "none", "Validity value -3 is not a count or fraction"),
    (-3.0, "product_half_lives", "Validity value -3 is not a count or fraction"),
    (0.0, "product_half_lives", "Validity value 0 half-lives is no wait"),
    (1e308, "product_half_lives", "Validity value 1e+308 half-lives is a wait of beyond any "
     "time, longer than any record (ten years); give from 0 to 8239 half-lives"),
    (1.5, "daughter_equilibrium", "Validity value 1.5 is outside the range of "
     "daughter_equilibrium"),
    (1e308, "counting_window", "between 0 and 1 (exclusive)"),
])
def test_a_validity_value_outside_what_it_counts_is_refused(value, validity, expected):
    # Pb-212: 10.64 h
    assert expected in validity_value_problem(value, validity=validity,
                                              product_half_life_s=10.64 * 3600)


def test_every_demo_specification_row_is_within_its_ranges():
    for product in PRODUCTS:
        for row in product["criteria"]:
            fields = {k: v for k, v in row.items() if k != "method"}
            assert criterion_bounds(Criterion(**fields), None) == {}, row["test_code"]


# --- the specification editing service ------------------------------------------------------


@pytest.fixture
def draft(products, reviewer):
    current = Specification.objects.get(product__code="pb212-dotamtate", status="approved")
    rows = [{**{f: getattr(c, f) for f in (
        "position", "test_code", "name", "unit", "lower_limit", "lower_inclusive",
        "upper_limit", "upper_inclusive", "text_requirement", "judged_at", "quantity",
        "impurity_nuclide", "impurity_with_progeny", "release_before_result", "validity",
        "validity_nuclide", "validity_value", "earliest_after")},
        "method": c.method.code if c.method else None} for c in current.criteria.all()]
    return specification_create_draft(actor=reviewer, product=current.product, criteria=rows,
                                      change_reason="bounds")


def test_the_demo_specifications_as_stored_are_within_every_range(products):
    criteria = Criterion.objects.select_related("specification__product")
    assert criteria.exists()
    for criterion in criteria:
        assert criterion_bounds(criterion, criterion.specification.product) == {}


@pytest.mark.parametrize(("code", "values", "field", "expected"), [
    ("rcp", {"lower_limit": 1e308}, "lower_limit", "Lower limit 1e+308 % is outside the "
     "physical range: above the largest percentage accepted, 100 %"),
    ("ph", {"lower_limit": -5.0}, "lower_limit", "Lower limit -5 pH is outside the physical "
     "range: below the smallest pH accepted, 0 pH"),
    ("endotoxin", {"upper_limit": -5.0}, "upper_limit", "Upper limit -5 EU/mL is outside the "
     "physical range: below the smallest endotoxin concentration accepted, 0 EU/mL"),
    ("activity", {"upper_limit": 1e308}, "upper_limit", "1000 % of nominal"),
    ("ra224-breakthrough", {"validity_value": -0.1}, "validity_value",
     "Validity value -0.1 is not a count or fraction"),
    ("ra224-breakthrough", {"validity": "product_half_lives", "validity_value": 1e308,
                            "validity_nuclide": ""}, "validity_value",
     "Validity value 1e+308 half-lives is a wait of beyond any time"),
    ("sterility", {"earliest_after": timedelta(days=-1)}, "earliest_after",
     "The earliest a result can exist, -1 day, 0:00:00, is outside the range"),
])
def test_an_edit_out_of_range_is_refused_next_to_its_field_and_nothing_changes(
        draft, reviewer, code, values, field, expected):
    criterion = draft.criteria.get(test_code=code)
    before = {f: getattr(criterion, f) for f in values}
    with pytest.raises(ValidationError) as refused:
        criterion_update(actor=reviewer, criterion=criterion, values=values)
    assert expected in refused.value.message_dict[field][0]
    criterion.refresh_from_db()
    assert {f: getattr(criterion, f) for f in values} == before
    assert not AuditEvent.objects.filter(action="specification.criterion_change").exists()


def test_a_criterion_added_with_a_limit_out_of_range_is_not_stored(draft, reviewer):
    with pytest.raises(ValidationError) as refused:
        criterion_add(actor=reviewer, specification=draft, values={
            "test_code": "ethanol", "name": "Ethanol", "unit": "%", "upper_limit": 1e308})
    assert "Upper limit 1e+308 %" in refused.value.message_dict["upper_limit"][0]
    assert not draft.criteria.filter(test_code="ethanol").exists()
    assert not AuditEvent.objects.filter(action="specification.criterion_add").exists()


def test_a_new_draft_with_a_negative_limit_is_refused_whole(products, reviewer):
    product = Product.objects.get(code="pb212-dotamtate")
    versions = Specification.objects.filter(product=product).count()
    with pytest.raises(ValidationError) as refused:
        specification_create_draft(actor=reviewer, product=product, change_reason="typo",
                                   criteria=[{"test_code": "ph", "name": "pH", "unit": "pH",
                                              "lower_limit": -5.5, "upper_limit": 9.0}])
    assert "Lower limit -5.5 pH" in refused.value.message_dict["lower_limit"][0]
    assert Specification.objects.filter(product=product).count() == versions
    assert not AuditEvent.objects.filter(action="specification.draft",
                                         reason="typo").exists()


def test_a_draft_holding_a_limit_out_of_range_cannot_be_approved(draft, qp):
    # a draft written before the ranges were checked (set here past the service)
    Criterion.objects.filter(specification=draft, test_code="ph").update(upper_limit=1e308)
    with pytest.raises(RuleViolation) as refused:
        specification_approve(actor=qp, password=PASSWORD, specification=draft)
    assert "ph: Upper limit 1e+308 pH is outside the physical range" in refused.value.message
    draft.refresh_from_db()
    assert draft.status == "draft"
