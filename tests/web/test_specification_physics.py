"""A specification whose breakthrough recount cannot measure its own limit is refused when it
is written (web form and service) and when it is approved, with the wait it needs."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from qc.errors import RuleViolation
from qc.models import AuditEvent, Criterion, Specification
from qc.services import specification_approve
from qc.specification_edits import criterion_update
from tests.conftest import PASSWORD

from .test_specifications import criterion_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(products, reviewer, client_for):
    client_for(reviewer).post(reverse("specification-draft", args=["pb212-dotamtate"]),
                              {"change_reason": "recount"})
    return Specification.objects.get(product__code="pb212-dotamtate", status="draft")


def test_the_demo_recount_waits_are_derived_from_the_counted_line(products):
    spec = Specification.objects.get(product__code="pb212-dotamtate", status="approved")
    recount = spec.criteria.get(test_code="ra224-breakthrough")
    assert (recount.validity, recount.validity_nuclide, recount.validity_value) == (
        "recount_line", "Pb-212", 0.1)


def test_a_72_h_recount_on_the_pb212_line_is_refused_with_the_8_3_days_it_needs(
        draft, reviewer):
    recount = draft.criteria.get(test_code="ra224-breakthrough")
    with pytest.raises(ValidationError) as refused:
        criterion_update(actor=reviewer, criterion=recount, values={
            "validity": "product_half_lives", "validity_value": 6.8, "validity_nuclide": ""})
    [message] = refused.value.message_dict["validity"]
    assert "6.8 half-lives of Pb-212 (3.01 d) after EOS cannot measure its own limit" in message
    assert "Set the wait to at least 8.28 d (18.7 half-lives)" in message
    recount.refresh_from_db()
    assert recount.validity == "recount_line"
    assert not AuditEvent.objects.filter(action="specification.criterion_change").exists()


def test_the_web_form_shows_the_wait_a_recount_needs(client_for, reviewer, draft):
    recount = draft.criteria.get(test_code="ra224-breakthrough")
    response = client_for(reviewer).post(
        reverse("criterion-edit", args=[draft.pk, recount.pk]),
        criterion_form(recount, validity="product_half_lives", validity_value="6.8",
                       validity_nuclide=""))
    assert response.status_code == 200
    assert "Set the wait to at least 8.28 d" in response.content.decode()


def test_a_draft_with_a_recount_too_short_for_its_limit_cannot_be_approved(
        draft, reviewer, qp):
    # a draft written before waits were derived from the chain (set here past the service)
    Criterion.objects.filter(specification=draft, test_code="ra224-breakthrough").update(
        validity="product_half_lives", validity_value=6.8, validity_nuclide="")
    with pytest.raises(RuleViolation, match="cannot measure its own limit") as refused:
        specification_approve(actor=qp, password=PASSWORD, specification=draft)
    assert refused.value.code == "measurement_physics"
    assert "8.28 d" in refused.value.message
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert not AuditEvent.objects.filter(action="specification.approve",
                                         object_id=str(draft.pk)).exists()
