"""Segregation of duties, enforced in the services even when they are called directly by a
person who holds both roles."""

from datetime import timedelta

import pytest

from batches.disposition import blockers as blocking
from batches.disposition import services as disposition
from batches.models import Batch, BatchStatus, Result
from batches.records import results as records
from qc.errors import RuleViolation
from qc.models import AuditEvent, Signature, SigningLock
from qc.roles import Role
from qc.services import specification_approve, specification_author, specification_create_draft
from tests.conftest import PASSWORD

from .conftest import add_role
from .flows import record, release_required_results, reviewed

pytestmark = pytest.mark.django_db


def refused(service, code="segregation_of_duties", **kwargs) -> RuleViolation:
    with pytest.raises(RuleViolation) as refusal:
        service(password=PASSWORD, **kwargs)
    assert refusal.value.code == code, refusal.value.message
    return refusal.value


def test_a_reviewer_who_recorded_a_result_of_the_batch_cannot_review_it(
        ac225_batch, analyst, reviewer, other_reviewer, committed):
    add_role(reviewer, Role.ANALYST)
    with committed():
        release_required_results(analyst, ac225_batch)
        record(reviewer, ac225_batch, "ph", ac225_batch.eos + timedelta(minutes=11), 7.0, "pH")
    assert "review" not in blocking.available_actions(user=reviewer, batch=ac225_batch)
    refusal = refused(disposition.batch_review, actor=reviewer, batch=ac225_batch)
    assert "You recorded results of lot" in refusal.message and "(pH)" in refusal.message
    assert "Another QA reviewer reviews it" in refusal.message
    assert Batch.objects.get(pk=ac225_batch.pk).status == BatchStatus.IN_QC
    assert not Signature.objects.filter(meaning="reviewed").exists()
    event = AuditEvent.objects.filter(action="signature.refused").latest("id")
    assert event.actor == reviewer and event.reason == refusal.message
    assert event.batch_lot == ac225_batch.lot_number

    disposition.batch_review(actor=other_reviewer, password=PASSWORD, batch=ac225_batch)
    assert Batch.objects.get(pk=ac225_batch.pk).status == BatchStatus.REVIEWED


def test_a_superseded_result_counts_as_recorded_too(ac225_batch, analyst, reviewer, committed):
    add_role(reviewer, Role.ANALYST)
    with committed():
        release_required_results(analyst, ac225_batch)
        mine = record(reviewer, ac225_batch, "ph", ac225_batch.eos + timedelta(minutes=11),
                      7.0, "pH")
        records.result_correct(actor=analyst, result=mine, value=7.1, reason="misread")
    refused(disposition.batch_review, actor=reviewer, batch=ac225_batch)


def test_the_qp_who_reviewed_the_batch_cannot_release_it(
        ac225_batch, analyst, reviewer, qp, committed):
    add_role(reviewer, Role.QP)
    reviewed(ac225_batch, analyst=analyst, reviewer=reviewer, committed=committed)
    assert blocking.available_actions(user=reviewer, batch=ac225_batch) == [
        "reject", "invalidate"]
    refusal = refused(disposition.batch_release_conditionally, actor=reviewer,
                      batch=ac225_batch)
    assert "the QP who releases did not review the batch" in refusal.message
    refused(disposition.batch_release, actor=reviewer, batch=ac225_batch)
    assert Batch.objects.get(pk=ac225_batch.pk).status == BatchStatus.REVIEWED

    disposition.batch_release_conditionally(actor=qp, password=PASSWORD, batch=ac225_batch)
    assert Batch.objects.get(pk=ac225_batch.pk).status == BatchStatus.CONDITIONALLY_RELEASED


def test_the_qp_who_recorded_a_result_cannot_release_the_batch(
        ac225_batch, analyst, reviewer, qp, other_qp, committed, clock):
    add_role(qp, Role.ANALYST)
    reviewed(ac225_batch, analyst=analyst, reviewer=reviewer, committed=committed)
    disposition.batch_release_conditionally(actor=other_qp, password=PASSWORD,
                                            batch=ac225_batch)
    clock.advance(days=14)
    with committed():  # the QP reads the sterility plates himself...
        record(qp, ac225_batch, "sterility", clock.now(), text="no growth")
    # ...so neither he nor anyone can be both: the final release is another QP's.
    refusal = refused(disposition.batch_release, actor=qp, batch=ac225_batch)
    assert "recorded none of its results" in refusal.message
    assert "(Sterility)" in refusal.message
    disposition.batch_release(actor=other_qp, password=PASSWORD, batch=ac225_batch)
    assert Batch.objects.get(pk=ac225_batch.pk).status == BatchStatus.RELEASED


def test_only_qa_invalidates_and_not_a_result_they_recorded(
        ac225_batch, analyst, reviewer, other_reviewer, qp, committed):
    add_role(reviewer, Role.ANALYST)
    with committed():
        mine = record(reviewer, ac225_batch, "ph", ac225_batch.eos + timedelta(minutes=9),
                      9.6, "pH")
    refusal = refused(disposition.result_invalidate, actor=reviewer, result=mine,
                      cause="strip misread")
    assert "You recorded this result" in refusal.message
    refused(disposition.result_invalidate, code="forbidden", actor=qp, result=mine,
            cause="strip misread")
    refused(disposition.result_invalidate, code="forbidden", actor=analyst, result=mine,
            cause="strip misread")
    assert not hasattr(Result.objects.get(pk=mine.pk), "invalidation")
    disposition.result_invalidate(actor=other_reviewer, password=PASSWORD, result=mine,
                                  cause="strip misread")
    assert Result.objects.get(pk=mine.pk).invalidation.signature.user == other_reviewer


def test_an_analyst_cannot_approve_a_specification_and_an_author_not_their_own(
        products, analyst, reviewer, qp):
    draft = specification_create_draft(
        actor=reviewer, product=products["pb212-dotamtate"],
        criteria=[{"test_code": "ph", "name": "pH", "unit": "pH", "lower_limit": 5.0,
                   "upper_limit": 8.0}])
    refusal = refused(specification_approve, code="forbidden", actor=analyst,
                      specification=draft)
    assert refusal.message == "Only QA or a Qualified Person approves a specification."
    specification_author(actor=reviewer, password=PASSWORD, specification=draft)
    refusal = refused(specification_approve, actor=reviewer, specification=draft)
    assert "You signed version 2 as its author" in refusal.message
    specification_approve(actor=qp, password=PASSWORD, specification=draft)
    draft.refresh_from_db()
    assert draft.status == "approved" and draft.approved_by == qp


@pytest.mark.parametrize("role", [Role.QP, Role.REVIEWER])
def test_an_administrator_cannot_sign_for_a_batch_even_holding_the_role(
        ac225_batch, analyst, reviewer, admin_user, committed, role):
    add_role(admin_user, role)
    reviewed(ac225_batch, analyst=analyst, reviewer=reviewer, committed=committed)
    for service, extra in ((disposition.batch_review, {}),
                           (disposition.batch_release_conditionally, {}),
                           (disposition.batch_release, {}),
                           (disposition.batch_reject, {"reason": "test"})):
        refusal = refused(service, code="forbidden", actor=admin_user, batch=ac225_batch,
                          **extra)
        assert refusal.message.startswith("An administrator cannot sign for a batch")
    result = Result.objects.filter(batch=ac225_batch).first()
    refused(disposition.result_invalidate, code="forbidden", actor=admin_user, result=result,
            cause="x")
    assert blocking.available_actions(user=admin_user, batch=ac225_batch) == []
    assert not Signature.objects.filter(user=admin_user).exists()


def test_a_refusal_on_segregation_does_not_count_as_a_wrong_password(
        ac225_batch, analyst, reviewer, committed):
    add_role(reviewer, Role.ANALYST)
    with committed():
        record(reviewer, ac225_batch, "ph", ac225_batch.eos + timedelta(minutes=9), 7.0, "pH")
    for _ in range(6):
        refused(disposition.batch_review, actor=reviewer, batch=ac225_batch)
    assert not SigningLock.objects.filter(user=reviewer, failures__gt=0).exists()


def test_a_draft_changed_after_its_author_signed_is_not_approved_until_signed_again(
        products, reviewer, other_reviewer, qp):
    from qc.specification_edits import criterion_update

    draft = specification_create_draft(
        actor=reviewer, product=products["pb212-dotamtate"],
        criteria=[{"test_code": "ph", "name": "pH", "unit": "pH", "lower_limit": 5.0,
                   "upper_limit": 8.0}])
    specification_author(actor=reviewer, password=PASSWORD, specification=draft)
    criterion_update(actor=other_reviewer, criterion=draft.criteria.get(),
                     values={"upper_limit": 9.0})
    refusal = refused(specification_approve, code="changed_since_authored", actor=qp,
                      specification=draft)
    assert "changed after its author signed it" in refusal.message
    specification_author(actor=reviewer, password=PASSWORD, specification=draft)
    specification_approve(actor=qp, password=PASSWORD, specification=draft)
    draft.refresh_from_db()
    assert draft.status == "approved"
