"""Stability protocols: drafted by QA, e-signed like a specification, refused when they
cannot make a study."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from qc.errors import RuleViolation
from qc.models import AuditEvent, Signature
from qc.stability.models import ProtocolStatus
from qc.stability.services import (
    PROTOCOL_TYPE,
    stability_protocol_approve,
    stability_protocol_author,
    stability_protocol_create_draft,
)
from tests.conftest import PASSWORD

H = timedelta(hours=1)
MIN = timedelta(minutes=1)


def draft(actor, product, **overrides):
    fields = {
        "storage_temperature_c": 22.0, "container": "10 mL type I glass vial",
        "concentration_bq_per_ml": 2.8e6,
        "time_points": [(0 * H, 5 * MIN), (1 * H, 10 * MIN), (2 * H, 10 * MIN),
                        (4 * H, 15 * MIN), (6 * H, 15 * MIN)],
        "criteria": [("rcp", "after re-equilibration"), "vector-integrity", "ph"],
    }
    fields.update(overrides)
    return stability_protocol_create_draft(
        actor=actor, product=product, specification=product.specifications.first(), **fields)


def test_qa_drafts_and_a_qp_approves_a_protocol_by_e_signature(products, reviewer, qp):
    product = products["ac225-psma-it"]
    protocol = draft(reviewer, product)
    stability_protocol_author(actor=reviewer, password=PASSWORD, protocol=protocol)

    approved = stability_protocol_approve(actor=qp, password=PASSWORD, protocol=protocol)

    assert approved.status == ProtocolStatus.APPROVED
    assert approved.approved_by == qp
    assert [tp.after_eos for tp in approved.time_points.all()] == [0 * H, H, 2 * H, 4 * H, 6 * H]
    assert [sc.criterion.test_code for sc in approved.criteria.all()] == [
        "rcp", "vector-integrity", "ph"]
    meanings = Signature.objects.filter(object_type=PROTOCOL_TYPE, object_id=str(protocol.pk)
                                        ).values_list("meaning", flat=True)
    assert list(meanings) == ["authored", "approved"]
    actions = AuditEvent.objects.filter(object_id=str(protocol.pk),
                                        action__startswith="stability_protocol")
    assert [e.action for e in actions] == ["stability_protocol.draft",
                                           "stability_protocol.approve"]


def test_a_new_approved_version_retires_the_previous_one(products, reviewer, qp):
    product = products["pb212-dotamtate"]
    first = stability_protocol_approve(actor=qp, password=PASSWORD, protocol=draft(
        reviewer, product, criteria=["rcp"]))

    second = stability_protocol_approve(actor=qp, password=PASSWORD, protocol=draft(
        reviewer, product, criteria=["rcp", "ph"]))

    first.refresh_from_db()
    assert (first.version, first.status) == (1, ProtocolStatus.RETIRED)
    assert (second.version, second.status) == (2, ProtocolStatus.APPROVED)


def test_the_author_does_not_approve_their_own_protocol(products, reviewer):
    protocol = draft(reviewer, products["ac225-psma-it"])
    stability_protocol_author(actor=reviewer, password=PASSWORD, protocol=protocol)

    with pytest.raises(RuleViolation, match="another QA reviewer or Qualified Person"):
        stability_protocol_approve(actor=reviewer, password=PASSWORD, protocol=protocol)
    protocol.refresh_from_db()
    assert protocol.status == ProtocolStatus.DRAFT


def test_an_approved_protocol_is_not_approved_again(products, reviewer, qp):
    protocol = stability_protocol_approve(actor=qp, password=PASSWORD,
                                          protocol=draft(reviewer, products["ac225-psma-it"]))

    with pytest.raises(RuleViolation, match="only a draft is approved"):
        stability_protocol_approve(actor=qp, password=PASSWORD, protocol=protocol)


def test_a_wrong_password_leaves_the_draft_unsigned(products, reviewer, qp):
    protocol = draft(reviewer, products["ac225-psma-it"])

    with pytest.raises(RuleViolation, match="Wrong password"):
        stability_protocol_approve(actor=qp, password="guess", protocol=protocol)
    protocol.refresh_from_db()
    assert protocol.status == ProtocolStatus.DRAFT


def test_a_negative_time_point_is_refused(products, reviewer):
    with pytest.raises(ValidationError, match="before EOS\\) is negative"):
        draft(reviewer, products["ac225-psma-it"],
              time_points=[(-H, MIN), (H, MIN), (2 * H, MIN)])


def test_time_points_out_of_order_are_refused(products, reviewer):
    with pytest.raises(ValidationError, match="increasing order: time point 3"):
        draft(reviewer, products["ac225-psma-it"],
              time_points=[(0 * H, MIN), (4 * H, MIN), (2 * H, MIN)])


def test_a_single_time_point_is_refused(products, reviewer):
    with pytest.raises(ValidationError, match="at least two time points"):
        draft(reviewer, products["ac225-psma-it"], time_points=[(0 * H, MIN)])


def test_a_protocol_without_criteria_is_refused(products, reviewer):
    with pytest.raises(ValidationError, match="without criteria tests nothing"):
        draft(reviewer, products["ac225-psma-it"], criteria=[])


def test_a_criterion_the_specification_lacks_is_refused(products, reviewer):
    with pytest.raises(ValidationError, match="Test free-bi213 is not in ac225-psma-it v1"):
        draft(reviewer, products["ac225-psma-it"], criteria=["rcp", "free-bi213"])


def test_a_specification_of_another_product_is_refused(products, reviewer):
    with pytest.raises(ValidationError, match="not of pb212-dotamtate"):
        stability_protocol_create_draft(
            actor=reviewer, product=products["pb212-dotamtate"],
            specification=products["ac225-psma-it"].specifications.first(),
            storage_temperature_c=22, container="vial", concentration_bq_per_ml=1e6,
            time_points=[(0 * H, MIN), (H, MIN)], criteria=["rcp"])


def test_an_analyst_does_not_draft_a_protocol(products, analyst):
    with pytest.raises(RuleViolation, match="Only QA or a Qualified Person"):
        draft(analyst, products["ac225-psma-it"])
