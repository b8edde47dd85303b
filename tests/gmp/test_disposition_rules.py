"""The disposition rules one by one: each refusal names why and what is missing."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from batches import selectors
from batches.disposition import blockers as blocking
from batches.disposition import record as signed_record
from batches.disposition import services as disposition
from batches.evaluation import oos
from batches.models import Batch, BatchStatus, Result
from batches.records import results as records
from qc.canonical import canonical_json, sha256_hex
from qc.errors import RuleViolation
from qc.models import AuditEvent, Signature
from tests.conftest import PASSWORD

from .flows import (
    conditionally_released,
    criterion,
    record,
    release_required_results,
    reviewed,
    settle,
    with_rapid_sterility,
)

pytestmark = pytest.mark.django_db


def refusal(service, **kwargs) -> RuleViolation:
    with pytest.raises(RuleViolation) as refused:
        service(password=PASSWORD, **kwargs)
    return refused.value


def fresh(batch) -> Batch:
    return Batch.objects.get(pk=batch.pk)


# --------------------------------------------------------------------------- review


def test_review_of_a_registered_batch_says_results_come_first(ac225_batch, reviewer):
    settle(ac225_batch)
    refused = refusal(disposition.batch_review, actor=reviewer, batch=ac225_batch)
    assert refused.code == "review_blocked"
    assert f"Lot {ac225_batch.lot_number} has no results yet" in refused.message
    assert "Radiochemical purity has no result yet." in refused.message
    assert "Sterility" not in refused.message  # may be released before its result


def test_review_names_each_missing_release_required_result(ac225_batch, analyst, reviewer,
                                                           committed):
    settle(ac225_batch)
    with committed():
        record(analyst, ac225_batch, "ph", ac225_batch.eos + timedelta(minutes=9), 7.0, "pH")
    blockers = blocking.review_blockers(batch=fresh(ac225_batch))
    missing = {b.removesuffix(" has no result yet.") for b in blockers}
    expected = set(ac225_batch.specification.criteria.filter(release_before_result=False)
                   .exclude(test_code__in=["ph", "ac227-share"]).values_list("name", flat=True))
    assert missing == expected


def test_review_waits_for_evaluations(ac225_batch, analyst, reviewer):
    settle(ac225_batch)
    release_required_results(analyst, ac225_batch)  # not committed: nothing evaluated yet
    refused = refusal(disposition.batch_review, actor=reviewer, batch=ac225_batch)
    assert "is still being evaluated; wait for its evaluation" in refused.message


def test_a_radio_tlc_counted_too_early_blocks_review_and_says_when_to_count(
        ac225_batch, analyst, reviewer, committed):
    with committed():
        release_required_results(analyst, ac225_batch)
        developed = ac225_batch.eos + timedelta(minutes=30)
        record(analyst, ac225_batch, "rcp", developed + timedelta(minutes=12), 96.0, "%",
               developed_at=developed)
    refused = refusal(disposition.batch_review, actor=reviewer, batch=ac225_batch)
    assert "Radiochemical purity: the current result is invalid" in refused.message
    assert "Count again after" in refused.message


def test_a_corrected_failure_still_blocks_until_qa_invalidates_it(
        ac225_batch, analyst, reviewer, committed):
    with committed():
        release_required_results(analyst, ac225_batch)
        failing = record(analyst, ac225_batch, "ph", ac225_batch.eos + timedelta(minutes=11),
                         9.6, "pH")
    # The correction service sends a failure to QA...
    with pytest.raises(RuleViolation) as refused:
        records.result_correct(actor=analyst, result=failing, value=7.0, reason="typo")
    assert refused.value.code == "failing_result"
    assert "QA invalidates it with an assignable cause" in refused.value.message
    # ...and a correction recorded around it does not cure the failure either.
    with committed():
        records.result_record(actor=analyst, batch=ac225_batch, criterion=failing.criterion,
                               measured_at=failing.measured_at, value=7.0, unit="pH",
                               supersedes=failing, reason="typo")
    blockers = blocking.review_blockers(batch=fresh(ac225_batch))
    assert len(blockers) == 1 and "pH result 9.6 pH" in blockers[0]
    assert "failed" in blockers[0]


def test_a_reviewed_batch_is_not_reviewed_again_unless_results_changed(
        ac225_batch, analyst, reviewer, other_reviewer, qp, committed):
    reviewed(ac225_batch, analyst=analyst, reviewer=reviewer, committed=committed)
    refused = refusal(disposition.batch_review, actor=other_reviewer, batch=ac225_batch)
    assert "was reviewed by Rui Reviewer" in refused.message
    assert "it awaits the QP" in refused.message

    ph = Result.objects.get(batch=ac225_batch, criterion__test_code="ph")
    with committed():
        records.result_correct(actor=analyst, result=ph, value=7.2,
                                   reason="strip re-read under daylight")
    refused = refusal(disposition.batch_release_conditionally, actor=qp, batch=ac225_batch)
    assert refused.code == "release_blocked"
    assert "Since QA reviewed lot" in refused.message and "pH was corrected at" in refused.message
    assert "QA must review it again" in refused.message

    disposition.batch_review(actor=other_reviewer, password=PASSWORD, batch=ac225_batch)
    event = AuditEvent.objects.filter(action="batch.review").latest("id")
    assert event.before == {"status": "reviewed"} and event.after["re_review"] is True
    disposition.batch_release_conditionally(actor=qp, password=PASSWORD, batch=ac225_batch)
    assert fresh(ac225_batch).status == BatchStatus.CONDITIONALLY_RELEASED


def test_a_pending_result_arriving_after_review_needs_no_new_review(
        ac225_batch, analyst, reviewer, qp, committed):
    reviewed(ac225_batch, analyst=analyst, reviewer=reviewer, committed=committed)
    with_rapid_sterility(ac225_batch)
    with committed():
        record(analyst, ac225_batch, "sterility", ac225_batch.eos + timedelta(minutes=48),
               text="no growth")
    assert blocking.release_blockers(batch=fresh(ac225_batch)) == []
    disposition.batch_release(actor=qp, password=PASSWORD, batch=ac225_batch)
    assert fresh(ac225_batch).status == BatchStatus.RELEASED


# --------------------------------------------------------------------------- release


def test_release_before_review_is_refused_with_what_is_missing(ac225_batch, analyst, qp,
                                                               committed):
    with committed():
        release_required_results(analyst, ac225_batch)
    refused = refusal(disposition.batch_release, actor=qp, batch=ac225_batch)
    assert refused.code == "release_blocked"
    assert "has not been reviewed by QA yet; QA reviews it first." in refused.message
    assert "Sterility has no result yet (it may be released before its result" in refused.message
    assert fresh(ac225_batch).status == BatchStatus.IN_QC


def test_an_expired_batch_cannot_be_released(ac225_batch, analyst, reviewer, qp, committed,
                                             clock):
    reviewed(ac225_batch, analyst=analyst, reviewer=reviewer, committed=committed)
    clock.advance(hours=3)  # the 225Ac product's shelf life is 3 h from EOS
    assert "release_conditionally" not in blocking.available_actions(user=qp,
                                                                        batch=ac225_batch)
    refused = refusal(disposition.batch_release_conditionally, actor=qp, batch=ac225_batch)
    assert f"Lot {ac225_batch.lot_number} expired at" in refused.message
    assert "an expired batch cannot be released" in refused.message
    assert fresh(ac225_batch).status == BatchStatus.REVIEWED


def test_a_batch_without_a_computed_expiry_is_not_released(
        ac225_batch, analyst, reviewer, qp, committed):
    reviewed(ac225_batch, analyst=analyst, reviewer=reviewer, committed=committed)
    Batch.objects.filter(pk=ac225_batch.pk).update(expiry=None)
    assert "has not been computed yet" in " ".join(
        blocking.conditional_release_blockers(batch=fresh(ac225_batch)))


def test_a_failing_pending_result_before_conditional_release_blocks_it(
        bi213_batch, analyst, reviewer, qp, committed):
    reviewed(bi213_batch, analyst=analyst, reviewer=reviewer, committed=committed)
    with committed():
        record(analyst, bi213_batch, "endotoxin", bi213_batch.eos + timedelta(minutes=9),
               12.0, "EU/mL")
    refused = refusal(disposition.batch_release_conditionally, actor=qp, batch=bi213_batch)
    assert "Bacterial endotoxins result 12 EU/mL" in refused.message  # a float: no typed digits
    assert fresh(bi213_batch).status == BatchStatus.REVIEWED


def test_the_signature_of_a_conditional_release_binds_the_record_as_it_was(
        pb212_batch, analyst, reviewer, qp, committed):
    batch = conditionally_released(pb212_batch, analyst=analyst, reviewer=reviewer, qp=qp,
                                   committed=committed)
    signature = Signature.objects.get(meaning="conditionally_released")
    record_now = signed_record.batch_record(batch)
    assert signature.record_sha256 == sha256_hex(canonical_json(record_now))
    assert signature.printed_name == "Quinn Person" and signature.user == qp
    assert signature.signed_at.utcoffset() == timedelta(0)
    assert signature.comment == "Released before the results of: Ra-224 breakthrough; Sterility."
    event = AuditEvent.objects.get(action="batch.release_conditionally")
    assert event.after["pending"] == ["ra224-breakthrough", "sterility"]
    assert "status" not in record_now and "status" not in record_now["batch"]
    tested = {r["test_code"] for r in record_now["results"]}
    assert {"identity", "rcp", "activity", "ph", "endotoxin", "filter-integrity"} <= tested
    assert all(r["evaluation"]["verdict"] == "pass" for r in record_now["results"])


# --------------------------------------------------------------------------- reject


def test_rejection_needs_a_reason(ac225_batch, qp):
    with pytest.raises(ValidationError) as invalid:
        disposition.batch_reject(actor=qp, password=PASSWORD, batch=ac225_batch, reason=" ")
    assert invalid.value.message_dict == {"reason": ["Say why the batch is rejected."]}


def test_a_released_batch_is_not_rejected_but_recalled(pb212_batch, analyst, reviewer, qp,
                                                       committed):
    conditionally_released(pb212_batch, analyst=analyst, reviewer=reviewer, qp=qp,
                           committed=committed)
    refused = refusal(disposition.batch_reject, actor=qp, batch=pb212_batch, reason="doubt")
    assert refused.code == "invalid_state"
    assert "only a batch not yet released can be rejected" in refused.message
    assert "post-release OOS" in refused.message


def test_a_registered_batch_can_be_rejected(ac225_batch, qp):
    disposition.batch_reject(actor=qp, password=PASSWORD, batch=ac225_batch,
                             reason="synthesis module fault")
    assert fresh(ac225_batch).status == BatchStatus.REJECTED


# --------------------------------------------------------------------------- invalidation


def test_invalidation_needs_a_cause_and_happens_once(ac225_batch, analyst, reviewer,
                                                     other_reviewer, committed):
    settle(ac225_batch)
    with committed():
        result = record(analyst, ac225_batch, "ph", ac225_batch.eos + timedelta(minutes=9),
                        9.9, "pH")
    with pytest.raises(ValidationError) as invalid:
        disposition.result_invalidate(actor=reviewer, password=PASSWORD, result=result,
                                      cause="")
    assert "assignable cause" in invalid.value.message_dict["cause"][0]
    disposition.result_invalidate(actor=reviewer, password=PASSWORD, result=result,
                                  cause="wrong buffer")
    assert fresh(ac225_batch).qc_status == "pending"  # the failure no longer counts
    refused = refusal(disposition.result_invalidate, actor=other_reviewer, result=result,
                      cause="again")
    assert refused.code == "already_invalidated"
    assert "already invalidated by Rui Reviewer" in refused.message


def test_results_of_a_rejected_batch_cannot_be_invalidated(ac225_batch, analyst, reviewer, qp,
                                                           committed):
    with committed():
        release_required_results(analyst, ac225_batch)
    disposition.batch_reject(actor=qp, password=PASSWORD, batch=ac225_batch, reason="x")
    result = Result.objects.filter(batch=ac225_batch).first()
    refused = refusal(disposition.result_invalidate, actor=reviewer, result=result,
                      cause="late finding")
    assert refused.code == "invalid_state"


# --------------------------------------------------------------------------- closed records


def test_a_closed_batch_takes_only_qa_corrections(ac225_batch, analyst, reviewer, qp,
                                                  committed):
    with_rapid_sterility(ac225_batch)
    with committed():
        release_required_results(analyst, ac225_batch)
        record(analyst, ac225_batch, "sterility", ac225_batch.eos + timedelta(minutes=45),
               text="no growth")
    disposition.batch_review(actor=reviewer, password=PASSWORD, batch=ac225_batch)
    disposition.batch_release(actor=qp, password=PASSWORD, batch=ac225_batch)
    ph = Result.objects.get(batch=ac225_batch, criterion__test_code="ph")

    with pytest.raises(RuleViolation) as refused:
        record(analyst, ac225_batch, "ph", ph.measured_at, 7.1, "pH")
    assert refused.value.code == "batch_closed"
    assert "goes through QA: a QA reviewer records it as a superseding result" in (
        refused.value.message)
    with pytest.raises(RuleViolation):
        records.result_correct(actor=analyst, result=ph, value=7.1, reason="re-read")
    with pytest.raises(RuleViolation):
        record(reviewer, ac225_batch, "ph", ph.measured_at, 7.1, "pH")  # new, not a correction

    with committed():
        correction = records.result_correct(actor=reviewer, result=ph, value=7.1,
                                                reason="strip re-read by QA")
    assert correction.supersedes == ph and correction.recorded_by == reviewer
    assert fresh(ac225_batch).status == BatchStatus.RELEASED  # it still passes
    release = Signature.objects.get(meaning="released")
    assert signed_record.signature_integrity(release)  # what the QP signed is untouched
    assert selectors.amendments_since(release) == [ph]  # and shown as amended since


def test_only_an_analyst_records_results_on_the_web(ac225_batch, operator, reviewer, qp):
    settle(ac225_batch)
    for person in (operator, reviewer, qp):
        with pytest.raises(RuleViolation) as refused:
            record(person, ac225_batch, "ph", ac225_batch.eos + timedelta(minutes=9), 7.0,
                   "pH")
        assert refused.value.message == "Only a QC analyst records results and their corrections."
    assert not Result.objects.filter(batch=ac225_batch, criterion=criterion(ac225_batch, "ph"))


# --------------------------------------------------------------------------- post-release


def test_the_flag_ignores_batches_not_released_and_passing_results(
        ac225_batch, analyst, committed, mailoutbox):
    with committed():
        results = release_required_results(analyst, ac225_batch)
        failing = record(analyst, ac225_batch, "ph", ac225_batch.eos + timedelta(minutes=11),
                         9.9, "pH")
    oos.batch_flag_post_release_oos(batch_id=ac225_batch.pk, result_id=failing.pk)
    oos.batch_flag_post_release_oos(batch_id=ac225_batch.pk, result_id=results[0].pk)
    assert fresh(ac225_batch).status == BatchStatus.IN_QC
    assert mailoutbox == []
    assert not AuditEvent.objects.filter(action="batch.post_release_oos").exists()


def test_a_second_failure_after_the_flag_does_not_flag_or_mail_again(
        ac225_batch, analyst, reviewer, qp, committed, clock, mailoutbox):
    conditionally_released(ac225_batch, analyst=analyst, reviewer=reviewer, qp=qp,
                           committed=committed)
    clock.advance(days=14)
    with committed():
        first = record(analyst, ac225_batch, "sterility", clock.now(), text="growth observed")
    with committed():
        records.result_record(actor=reviewer, batch=ac225_batch, criterion=first.criterion,
                               measured_at=clock.now(), value_text="turbid, growth",
                               supersedes=first, reason="QA re-read the canister")
    assert fresh(ac225_batch).status == BatchStatus.POST_RELEASE_OOS
    assert AuditEvent.objects.filter(action="batch.post_release_oos").count() == 1
    assert len(mailoutbox) == 1


def test_a_mail_that_cannot_be_sent_is_recorded_and_the_flag_stands(
        ac225_batch, analyst, reviewer, qp, committed, clock, monkeypatch):
    def broken_smtp(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(oos, "send_mail", broken_smtp)
    conditionally_released(ac225_batch, analyst=analyst, reviewer=reviewer, qp=qp,
                           committed=committed)
    clock.advance(days=14)
    with committed():
        record(analyst, ac225_batch, "sterility", clock.now(), text="growth observed")
    assert fresh(ac225_batch).status == BatchStatus.POST_RELEASE_OOS
    failed = AuditEvent.objects.get(action="batch.post_release_oos_mail_failed")
    assert failed.after["recipients"] == ["quinn@example.org"]
    assert "connection refused" in failed.after["error"]
    assert [a.batch.pk for a in selectors.post_release_alerts()] == [ac225_batch.pk]
