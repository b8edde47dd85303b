"""Disposition: QA review, the QP's release, conditional release and rejection, QA's
invalidation of a result, and the post-release out-of-specification (OOS) flag.

One status per batch, changed only here (and by result_record's first result):

    registered -> in_qc -> reviewed -> released
                           reviewed -> conditionally_released -> released (final release)
    registered | in_qc | reviewed -> rejected
    conditionally_released | released -> post_release_oos (a failing result after release)

Every signed service re-checks the password with check_signer before its transaction (so a
wrong password is counted even though the action is refused), then in one transaction locks
the batch, checks roles, segregation of duties and state, signs the canonical batch record
(batch_record) and changes the status, with its audit events. A refusal is a RuleViolation
whose message says why and what is missing, and is itself an audit event
("signature.refused")."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from qc.audit import audit_record
from qc.errors import RuleViolation
from qc.models import AuditEvent, Signature, Specification
from qc.roles import Role, has_role
from qc.services import SPECIFICATION_TYPE, specification_record
from qc.signatures import (
    SignatureRefused,
    check_signer,
    is_administrator,
    record_hash,
    signature_apply,
    signing_is_locked,
)

from . import services
from .models import Batch, BatchStatus, Channel, Result, ResultInvalidation, Verdict
from .selectors import CriterionStatus, batch_results, criterion_statuses

log = logging.getLogger(__name__)

BATCH_TYPE = "batches.batch"
RESULT_TYPE = "batches.result"
RECORD_FORMAT = 1

ACTIONS = ("record_result", "review", "release", "release_conditionally", "reject",
           "invalidate")

REVIEWABLE = (BatchStatus.IN_QC, BatchStatus.REVIEWED)
# Conditional release already lets the product be used, so it counts as released here: a
# problem found afterwards is a post-release OOS (recall), not a rejection.
REJECTABLE = (BatchStatus.REGISTERED, BatchStatus.IN_QC, BatchStatus.REVIEWED)
RELEASED_STATUSES = (BatchStatus.CONDITIONALLY_RELEASED, BatchStatus.RELEASED)
# QA may invalidate while results still count for a decision, and during a post-release
# OOS investigation; a released or rejected batch's record is closed.
INVALIDATABLE = (BatchStatus.IN_QC, BatchStatus.REVIEWED, BatchStatus.CONDITIONALLY_RELEASED,
                 BatchStatus.POST_RELEASE_OOS)


# --------------------------------------------------------------------------- the record


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "an unknown time"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def _source(batch: Batch) -> dict[str, Any]:
    if batch.source_lot_id:
        lot = batch.source_lot
        return {"source_lot": lot.lot_number, "supplier": lot.supplier, "route": lot.route,
                "activity_bq": lot.activity_bq, "reference_time": lot.reference_time,
                "ac227_ratio_percent": lot.ac227_ratio_percent}
    elution = batch.elution
    return {"generator": elution.generator.serial, "eluted_at": elution.eluted_at,
            "eluate_activity_bq": elution.activity_bq}


def _evaluation_entry(result: Result, as_of=None) -> dict[str, Any] | None:
    evaluation = getattr(result, "evaluation", None)
    if evaluation is None or (as_of is not None and evaluation.evaluated_at > as_of):
        return None
    return {"verdict": evaluation.verdict, "measured_value": evaluation.measured_value,
            "projected_value": evaluation.projected_value,
            "judged_at_time": evaluation.judged_at_time, "message": evaluation.message,
            "valid_from": evaluation.valid_from, "data_source": evaluation.data_source,
            "evaluated_at": evaluation.evaluated_at}


def _result_entry(result: Result, *, with_invalidation: bool = True, as_of=None
                  ) -> dict[str, Any]:
    entry = {
        "id": result.pk, "test_code": result.criterion.test_code, "value": result.value,
        "entered_value": result.entered_value, "unit": result.unit,
        "value_text": result.value_text, "measured_at": result.measured_at,
        "method_times": result.method_times,
        "instrument": result.instrument.serial if result.instrument_id else None,
        "raw_data_sha256": result.raw_data.sha256 if result.raw_data_id else None,
        "recorded_by": result.recorded_by.get_username(), "recorded_at": result.recorded_at,
        "channel": result.channel, "supersedes": result.supersedes_id, "reason": result.reason,
        "evaluation": _evaluation_entry(result, as_of),
    }
    if with_invalidation:
        invalidation = getattr(result, "invalidation", None)
        if invalidation is not None and as_of is not None and invalidation.created_at > as_of:
            invalidation = None
        entry["invalidation"] = None if invalidation is None else {
            "cause": invalidation.cause, "signature_id": invalidation.signature_id,
            "created_at": invalidation.created_at}
    return entry


def _results_for_record(batch_id: int):
    return (Result.objects.filter(batch_id=batch_id)
            .select_related("criterion", "evaluation", "invalidation", "instrument", "raw_data",
                            "recorded_by")
            .order_by("id"))


def batch_record(batch: Batch, *, as_of=None) -> dict:
    """The canonical batch record that a batch signature covers: identity, source, times,
    the specification, and every result (superseded and invalidated ones too) with its
    evaluation. Read fresh from the database. The status is not part of it: a signature
    binds what was judged, and the status is what the signatures decided.

    `as_of` gives the record as it stood then: what a signature made at that time covered.
    Results, evaluations and invalidations added later are a later record, not a change."""
    batch = Batch.objects.select_related(
        "product", "specification__product", "source_lot", "elution__generator",
        "registered_by").get(pk=batch.pk)
    return {
        "format": RECORD_FORMAT,
        "batch": {
            "id": batch.pk, "lot_number": batch.lot_number, "product": batch.product.code,
            "product_name": batch.product.name, "nuclide": batch.product.nuclide,
            "source": _source(batch), "eos": batch.eos,
            "calibration_time": batch.calibration_time, "expiry": batch.expiry,
            "expiry_reason": batch.expiry_reason, "activity_bq": batch.activity_bq,
            "volume_ml": batch.volume_ml, "registered_by": batch.registered_by.get_username(),
        },
        "specification": specification_record(batch.specification),
        "results": [_result_entry(r, as_of=as_of) for r in _results_for_record(batch.pk)
                    if as_of is None or r.recorded_at <= as_of],
    }


def _invalidation_record(result: Result, cause: str) -> dict[str, Any]:
    """What QA signs when invalidating: the result as it stood and the assignable cause."""
    return {"format": RECORD_FORMAT, "lot_number": result.batch.lot_number,
            "result": _result_entry(result, with_invalidation=False), "cause": cause.strip()}


def signature_integrity(signature) -> bool:
    """Does the record as it stood at signing still hash to what was signed? False when it
    was changed behind the application's back (append-only rows edited with raw SQL), or is
    gone. Results recorded since are a later record and leave the signature intact."""
    try:
        if signature.object_type == BATCH_TYPE:
            record = batch_record(Batch(pk=int(signature.object_id)), as_of=signature.signed_at)
        elif signature.object_type == RESULT_TYPE:
            invalidation = ResultInvalidation.objects.get(signature_id=signature.pk)
            result = Result.objects.select_related(
                "batch", "criterion", "evaluation", "instrument", "raw_data",
                "recorded_by").get(pk=invalidation.result_id)
            record = _invalidation_record(result, invalidation.cause)
        elif signature.object_type == SPECIFICATION_TYPE:
            record = specification_record(Specification.objects.get(pk=int(signature.object_id)))
        else:
            raise ValueError(f"no record is known for signatures of {signature.object_type}")
    except (Batch.DoesNotExist, ResultInvalidation.DoesNotExist, Result.DoesNotExist,
            Specification.DoesNotExist):
        return False
    return record_hash(record) == signature.record_sha256


def amendments_since(signature) -> list[Result]:
    """Results of a signed batch corrected or invalidated after the signature: the signed
    record stays intact, but a reader must see that it was amended since."""
    if signature.object_type != BATCH_TYPE:
        return []
    return list(Result.objects.filter(batch_id=int(signature.object_id),
                                      recorded_at__lte=signature.signed_at)
                .filter(Q(superseded_by__recorded_at__gt=signature.signed_at)
                        | Q(invalidation__created_at__gt=signature.signed_at))
                .select_related("criterion").order_by("id"))


def batch_signatures(batch: Batch):
    """The signatures on a batch and on its results, oldest first."""
    result_ids = [str(pk) for pk in Result.objects.filter(batch=batch).values_list("pk",
                                                                                  flat=True)]
    return (Signature.objects.filter(Q(object_type=BATCH_TYPE, object_id=str(batch.pk))
                                     | Q(object_type=RESULT_TYPE, object_id__in=result_ids))
            .select_related("user").order_by("signed_at", "id"))


# --------------------------------------------------------------------------- what blocks


@dataclass(frozen=True)
class _Picture:
    batch: Batch
    results: list[Result]
    statuses: list[CriterionStatus]

    @property
    def unevaluated(self) -> list[Result]:
        return [r for r in self.results
                if getattr(r, "evaluation", None) is None and not _invalidated(r)]

    @property
    def open_failures(self) -> list[Result]:
        """Failing results QA has not invalidated, current or not: a failure is not cured
        by recording another result or a correction on top of it."""
        return [r for r in self.results if _verdict(r) == Verdict.FAIL and not _invalidated(r)]


def _invalidated(result: Result) -> bool:
    return getattr(result, "invalidation", None) is not None


def _verdict(result: Result) -> str | None:
    evaluation = getattr(result, "evaluation", None)
    return evaluation.verdict if evaluation else None


def _picture(batch: Batch) -> _Picture:
    results = list(batch_results(batch=batch).select_related("recorded_by"))
    return _Picture(batch, results, criterion_statuses(batch=batch, results=results))


def _shown(result: Result) -> str:
    if result.value_text:
        return f"'{result.value_text}'"
    return result.entered_value or f"{result.value:g} {result.unit}".strip()


def _describe(result: Result) -> str:
    return (f"{result.criterion.name} result {_shown(result)} (measured {_when(result.measured_at)}"
            f", recorded by {result.recorded_by.get_full_name() or result.recorded_by})")


def _result_blockers(picture: _Picture, *, optional_pending_blocks: bool) -> list[str]:
    """What in the results stands in the way. `optional_pending_blocks`: whether a
    may-release-before-result criterion without a result counts (full release) or not
    (review, conditional release)."""
    out = []
    for result in picture.open_failures:
        out.append(f"{_describe(result)} failed: {result.evaluation.message}. A failing result "
                   "blocks the batch until QA invalidates it with an assignable cause "
                   "(e-signed) and a retest is recorded, or the QP rejects the batch.")
    for result in picture.unevaluated:
        out.append(f"{_describe(result)} is still being evaluated; wait for its evaluation.")
    for status in picture.statuses:
        name, verdict = status.criterion.name, status.verdict
        required = optional_pending_blocks or not status.criterion.release_before_result
        retest = _retest_missing(status)
        if verdict == Verdict.INVALID:
            out.append(f"{name}: the current result is invalid "
                       f"({status.current.evaluation.message}); record a valid result.")
        elif retest and required:
            out.append(f"{name}: QA invalidated a result at {_when(retest)}; record the retest "
                       "(a result from before the invalidation does not replace it).")
        elif verdict == "pending":
            if not status.criterion.release_before_result:
                out.append(f"{name} has no result yet.")
            elif optional_pending_blocks:
                out.append(f"{name} has no result yet (it may be released before its result: "
                           "a conditional release is possible instead).")
    return out


def _retest_missing(status: CriterionStatus) -> datetime | None:
    """When QA invalidated a result of this criterion and no result was recorded after
    that: the time of the invalidation (the retest is missing), else None."""
    invalidated = [r.invalidation.created_at for r in status.history if _invalidated(r)]
    if not invalidated:
        return None
    latest = max(invalidated)
    if status.current is not None and status.current.recorded_at > latest:
        return None
    return latest


def _latest_review(batch: Batch) -> Signature | None:
    return (Signature.objects.filter(object_type=BATCH_TYPE, object_id=str(batch.pk),
                                     meaning="reviewed")
            .order_by("-signed_at", "-id").first())


def _changes_since_review(batch: Batch, review: Signature) -> list[str]:
    """Release-required results recorded, corrected or invalidated after QA's review: the QP
    would otherwise release on results QA has not seen. (May-release-before-result results
    arriving later are the QP's to judge, as at a final release.)"""
    changes = []
    later = (Result.objects.filter(batch=batch, criterion__release_before_result=False,
                                   recorded_at__gt=review.signed_at)
             .select_related("criterion", "recorded_by").order_by("id"))
    for result in later:
        verb = "corrected" if result.supersedes_id else "recorded"
        changes.append(f"{result.criterion.name} was {verb} at {_when(result.recorded_at)}")
    invalidated = (ResultInvalidation.objects.filter(
        result__batch=batch, result__criterion__release_before_result=False,
        created_at__gt=review.signed_at).select_related("result__criterion").order_by("id"))
    for invalidation in invalidated:
        changes.append(f"a {invalidation.result.criterion.name} result was invalidated at "
                       f"{_when(invalidation.created_at)}")
    return changes


def _review_currency_blockers(batch: Batch) -> list[str]:
    review = _latest_review(batch)
    if review is None:
        return [f"Lot {batch.lot_number} has no QA review signature."]
    changes = _changes_since_review(batch, review)
    if changes:
        return [f"Since QA reviewed lot {batch.lot_number} ({review.printed_name}, "
                f"{_when(review.signed_at)}), {'; '.join(changes)}; QA must review it again."]
    return []


def _expiry_blockers(batch: Batch) -> list[str]:
    if batch.expiry is None:
        return [f"The expiry of lot {batch.lot_number} has not been computed yet; wait a "
                "moment and try again."]
    if batch.expiry <= timezone.now():
        return [f"Lot {batch.lot_number} expired at {_when(batch.expiry)}; an expired batch "
                "cannot be released."]
    return []


def _status_label(batch: Batch) -> str:
    return batch.get_status_display().lower()


def review_blockers(*, batch: Batch) -> list[str]:
    """Why QA cannot review the batch now (empty when a review is possible)."""
    out = []
    if batch.status == BatchStatus.REVIEWED:
        review = _latest_review(batch)
        if review is not None and not _changes_since_review(batch, review):
            out.append(f"Lot {batch.lot_number} was reviewed by {review.printed_name} at "
                       f"{_when(review.signed_at)} and no release-required result changed "
                       "since; it awaits the QP.")
    elif batch.status == BatchStatus.REGISTERED:
        out.append(f"Lot {batch.lot_number} has no results yet; QC records them first.")
    elif batch.status not in REVIEWABLE:
        out.append(f"Lot {batch.lot_number} is {_status_label(batch)}; only a batch in QC is "
                   "reviewed.")
    out += _result_blockers(_picture(batch), optional_pending_blocks=False)
    return out


def _not_reviewed(batch: Batch) -> list[str]:
    if batch.status in (BatchStatus.REGISTERED, BatchStatus.IN_QC):
        return [f"Lot {batch.lot_number} has not been reviewed by QA yet; QA reviews it first."]
    return [f"Lot {batch.lot_number} is {_status_label(batch)}."]


def release_blockers(*, batch: Batch) -> list[str]:
    """Why the QP cannot sign a full release now (empty when it is possible). A full release
    needs every criterion passed; it follows QA's review, or closes a conditional release."""
    out = []
    if batch.status == BatchStatus.REVIEWED:
        out += _review_currency_blockers(batch)
        out += _expiry_blockers(batch)
    elif batch.status != BatchStatus.CONDITIONALLY_RELEASED:
        out += _not_reviewed(batch)
    # The final release after a conditional one is not checked against expiry: the product
    # was released for use at the conditional release (checked then), and the pending
    # results (sterility: 14 days) always arrive after expiry.
    picture = _picture(batch)
    out += _result_blockers(picture, optional_pending_blocks=True)
    return out


def _pending_optional(picture: _Picture) -> list[CriterionStatus]:
    return [s for s in picture.statuses
            if s.criterion.release_before_result and s.verdict == "pending"]


def conditional_release_blockers(*, batch: Batch) -> list[str]:
    """Why the QP cannot release before the may-release-before-result tests now."""
    out = []
    if batch.status == BatchStatus.REVIEWED:
        out += _review_currency_blockers(batch)
        out += _expiry_blockers(batch)
    else:
        out += _not_reviewed(batch)
    picture = _picture(batch)
    out += _result_blockers(picture, optional_pending_blocks=False)
    if not out and not _pending_optional(picture):
        out.append("Every criterion has passed; sign a full release instead.")
    return out


# --------------------------------------------------------------------------- who may


_ROLE_DOING = {Role.REVIEWER: "QA reviewer", Role.QP: "Qualified Person"}


def _require_role(actor, role: Role, doing: str) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise RuleViolation(f"Log in first: only a {_ROLE_DOING[role]} {doing}.",
                            code="forbidden")
    if is_administrator(actor):
        raise RuleViolation(f"An administrator cannot sign for a batch; only a "
                            f"{_ROLE_DOING[role]} {doing}.", code="forbidden")
    if not has_role(actor, role):
        raise RuleViolation(f"Only a {_ROLE_DOING[role]} {doing}.", code="forbidden")


def _recorded_by(batch: Batch, user) -> list[Result]:
    return list(Result.objects.filter(batch=batch, recorded_by=user)
                .select_related("criterion").order_by("id"))


def _reviewed_by(batch: Batch, user) -> bool:
    return Signature.objects.filter(object_type=BATCH_TYPE, object_id=str(batch.pk),
                                    meaning="reviewed", user=user).exists()


def _tests(results: list[Result]) -> str:
    return ", ".join(dict.fromkeys(r.criterion.name for r in results))


def _reviewer_conflicts(batch: Batch, user) -> list[str]:
    recorded = _recorded_by(batch, user)
    if recorded:
        return [f"You recorded results of lot {batch.lot_number} ({_tests(recorded)}); a "
                "reviewer does not review results they recorded. Another QA reviewer reviews "
                "it."]
    return []


def _releaser_conflicts(batch: Batch, user) -> list[str]:
    out = []
    if _reviewed_by(batch, user):
        out.append(f"You reviewed lot {batch.lot_number}; the QP who releases did not review "
                   "the batch. Another Qualified Person signs.")
    recorded = _recorded_by(batch, user)
    if recorded:
        out.append(f"You recorded results of lot {batch.lot_number} ({_tests(recorded)}); the "
                   "QP who releases recorded none of its results. Another Qualified Person "
                   "signs.")
    return out


def _refuse_if(problems: list[str], *, lead: str, code: str) -> None:
    if problems:
        raise RuleViolation(f"{lead}: {' '.join(problems)}", code=code)


# --------------------------------------------------------------------------- services


@contextmanager
def _refusal_audited(*, actor, meaning: str, object_type: str, object_id: int | str,
                     batch_lot: str) -> Iterator[None]:
    """A signature refused by a rule is an audit event too (wrong passwords and locked
    signing are recorded by check_signer)."""
    try:
        yield
    except SignatureRefused:
        raise
    except RuleViolation as refused:
        with transaction.atomic():
            audit_record(actor=actor, actor_name=getattr(actor, "username", "") or "anonymous",
                         action="signature.refused", object_type=object_type,
                         object_id=object_id,
                         after={"meaning": meaning, "code": refused.code},
                         reason=refused.message, batch_lot=batch_lot)
        raise


def _lock(batch: Batch) -> Batch:
    return (Batch.objects.select_for_update(of=("self",))
            .select_related("product", "specification").get(pk=batch.pk))


def _set_status(batch: Batch, status: str, *, actor, action: str, signature: Signature,
                reason: str = "", **extra) -> None:
    before = batch.status
    batch.status = status
    batch.save(update_fields=["status"])
    audit_record(actor=actor, action=action, obj=batch, before={"status": before},
                 after={"status": status, "signature_id": signature.pk,
                        "record_sha256": signature.record_sha256, **extra},
                 reason=reason, batch_lot=batch.lot_number)


def _request_certificate(batch_id: int, signature_id: int) -> None:
    from batches.certificates import certificate_request_issue

    certificate_request_issue(batch_id=batch_id, signature_id=signature_id)


def _sign_batch(*, actor, password: str, batch: Batch, meaning: str, role: Role, doing: str,
                comment: str, work) -> Signature:
    """The frame every batch signature shares; `work(locked)` checks the rules and returns
    (new status, audit action, extra audit values, signature comment)."""
    with _refusal_audited(actor=actor, meaning=meaning, object_type=BATCH_TYPE,
                          object_id=batch.pk, batch_lot=batch.lot_number):
        _require_role(actor, role, doing)
        check_signer(user=actor, password=password, meaning=meaning, object_type=BATCH_TYPE,
                     object_id=batch.pk, batch_lot=batch.lot_number)
        with transaction.atomic():
            locked = _lock(batch)
            status, action, extra, signed_comment = work(locked)
            signature = signature_apply(user=actor, meaning=meaning, object_type=BATCH_TYPE,
                                        object_id=locked.pk, record=batch_record(locked),
                                        comment=signed_comment, batch_lot=locked.lot_number)
            _set_status(locked, status, actor=actor, action=action, signature=signature,
                        reason=comment.strip(), **extra)
            if meaning in ("released", "conditionally_released"):
                transaction.on_commit(
                    lambda: _request_certificate(locked.pk, signature.pk))
    batch.status = locked.status
    return signature


def batch_review(*, actor, password: str, batch: Batch, comment: str = "") -> Signature:
    """QA signs "reviewed": every release-required criterion has a valid passing result and
    no result is failing, invalid or still being evaluated."""
    def work(locked: Batch):
        _refuse_if(_reviewer_conflicts(locked, actor),
                   lead=f"You cannot review lot {locked.lot_number}",
                   code="segregation_of_duties")
        _refuse_if(review_blockers(batch=locked),
                   lead=f"Lot {locked.lot_number} cannot be reviewed", code="review_blocked")
        again = locked.status == BatchStatus.REVIEWED
        return BatchStatus.REVIEWED, "batch.review", {"re_review": again}, comment

    return _sign_batch(actor=actor, password=password, batch=batch, meaning="reviewed",
                       role=Role.REVIEWER, doing="reviews a batch", comment=comment, work=work)


def batch_release(*, actor, password: str, batch: Batch, comment: str = "") -> Signature:
    """The QP's full release: after QA's review, or the final release of a conditionally
    released batch once its pending results passed."""
    def work(locked: Batch):
        _refuse_if(_releaser_conflicts(locked, actor),
                   lead=f"You cannot release lot {locked.lot_number}",
                   code="segregation_of_duties")
        _refuse_if(release_blockers(batch=locked),
                   lead=f"Lot {locked.lot_number} cannot be released", code="release_blocked")
        final = locked.status == BatchStatus.CONDITIONALLY_RELEASED
        return BatchStatus.RELEASED, "batch.release", {"final_release": final}, comment

    return _sign_batch(actor=actor, password=password, batch=batch, meaning="released",
                       role=Role.QP, doing="releases a batch", comment=comment, work=work)


def batch_release_conditionally(*, actor, password: str, batch: Batch, comment: str = ""
                                ) -> Signature:
    """The QP releases before the may-release-before-result tests (e.g. sterility); the
    signature names them."""
    def work(locked: Batch):
        _refuse_if(_releaser_conflicts(locked, actor),
                   lead=f"You cannot release lot {locked.lot_number}",
                   code="segregation_of_duties")
        _refuse_if(conditional_release_blockers(batch=locked),
                   lead=f"Lot {locked.lot_number} cannot be released conditionally",
                   code="release_blocked")
        pending = [s.criterion for s in _pending_optional(_picture(locked))]
        names = "; ".join(c.name for c in pending)
        signed = f"Released before the results of: {names}." + (
            f" {comment.strip()}" if comment.strip() else "")
        return (BatchStatus.CONDITIONALLY_RELEASED, "batch.release_conditionally",
                {"pending": [c.test_code for c in pending]}, signed)

    return _sign_batch(actor=actor, password=password, batch=batch,
                       meaning="conditionally_released", role=Role.QP,
                       doing="releases a batch", comment=comment, work=work)


def batch_reject(*, actor, password: str, batch: Batch, reason: str) -> Signature:
    """The QP rejects a batch that has not been released, with the reason."""
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the batch is rejected."]})

    def work(locked: Batch):
        if locked.status not in REJECTABLE:
            after = (" A released batch with a problem is recalled: a failing result flags it "
                     "as post-release OOS." if locked.status in RELEASED_STATUSES else "")
            raise RuleViolation(f"Lot {locked.lot_number} is {_status_label(locked)}; only a "
                                f"batch not yet released can be rejected.{after}",
                                code="invalid_state")
        return BatchStatus.REJECTED, "batch.reject", {}, reason

    return _sign_batch(actor=actor, password=password, batch=batch, meaning="rejected",
                       role=Role.QP, doing="rejects a batch", comment=reason, work=work)


def result_invalidate(*, actor, password: str, result: Result, cause: str) -> Signature:
    """QA invalidates a result with an assignable cause, e-signed; the result stays in the
    record, marked invalid, and no longer counts."""
    if not (cause or "").strip():
        raise ValidationError({"cause": ["Give the assignable cause (e.g. a sample mix-up "
                                         "found in the investigation)."]})
    batch = result.batch
    with _refusal_audited(actor=actor, meaning="invalidated", object_type=RESULT_TYPE,
                          object_id=result.pk, batch_lot=batch.lot_number):
        _require_role(actor, Role.REVIEWER, "invalidates a result")
        check_signer(user=actor, password=password, meaning="invalidated",
                     object_type=RESULT_TYPE, object_id=result.pk, batch_lot=batch.lot_number)
        with transaction.atomic():
            locked = _lock(batch)
            target = (Result.objects.select_related("batch", "criterion", "evaluation",
                                                    "instrument", "raw_data", "recorded_by")
                      .get(pk=result.pk))
            existing = ResultInvalidation.objects.filter(result=target).select_related(
                "signature").first()
            if existing is not None:
                raise RuleViolation(f"This {target.criterion.name} result was already "
                                    f"invalidated by {existing.signature.printed_name} at "
                                    f"{_when(existing.signature.signed_at)}.",
                                    code="already_invalidated")
            if locked.status not in INVALIDATABLE:
                raise RuleViolation(f"Lot {locked.lot_number} is {_status_label(locked)}; its "
                                    "results can no longer be invalidated.",
                                    code="invalid_state")
            if target.recorded_by_id == actor.pk:
                raise RuleViolation("You recorded this result; QA invalidates only results "
                                    "recorded by someone else. Another QA reviewer signs.",
                                    code="segregation_of_duties")
            was_current = not hasattr(target, "superseded_by")
            signature = signature_apply(
                user=actor, meaning="invalidated", object_type=RESULT_TYPE,
                object_id=target.pk, record=_invalidation_record(target, cause),
                comment=cause, batch_lot=locked.lot_number)
            invalidation = ResultInvalidation.objects.create(result=target, cause=cause.strip(),
                                                             signature=signature)
            audit_record(actor=actor, action="result.invalidate", obj=target,
                         before={"verdict": _verdict(target), "current": was_current},
                         after={"invalidated": True, "invalidation_id": invalidation.pk,
                                "signature_id": signature.pk},
                         reason=cause.strip(), batch_lot=locked.lot_number)
            services.batch_refresh_qc_status(batch_id=locked.pk)
    return signature


def result_correct(*, actor, result: Result, reason: str, **new_values) -> Result:
    """A correction: a new result superseding `result`, with a reason (services.result_record
    does the work). Values not given are carried over from the corrected result."""
    old = (Result.objects.select_related("batch", "criterion", "evaluation", "invalidation",
                                         "instrument", "raw_data").get(pk=result.pk))
    if _verdict(old) == Verdict.FAIL and not _invalidated(old):
        raise RuleViolation(
            f"This {old.criterion.name} result failed its specification. A failing result is "
            "investigated, not corrected: QA invalidates it with an assignable cause "
            "(e-signed), then the retest or corrected value is recorded.",
            code="failing_result")
    values: dict[str, Any] = {
        "measured_at": old.measured_at, "instrument": old.instrument, "raw_data": old.raw_data,
        "channel": Channel.WEB,
        "method_times": {k: datetime.fromisoformat(v) for k, v in old.method_times.items()},
    }
    if old.criterion.is_text:
        values["value_text"] = old.value_text
    else:
        values["value"], values["unit"] = old.value, old.unit
    values.update(new_values)
    return services.result_record(actor=actor, batch=old.batch, criterion=old.criterion,
                                  supersedes=old, reason=reason, **values)


# --------------------------------------------------------------------------- after release


def _qp_addresses() -> list[str]:
    users = get_user_model().objects.filter(groups__name=Role.QP.value, is_active=True)
    return sorted(set(users.exclude(email="").values_list("email", flat=True)))


def _notify_qps(*, batch_id: int, result_id: int, recipients: list[str]) -> None:
    batch = Batch.objects.select_related("product").get(pk=batch_id)
    result = Result.objects.select_related("criterion", "evaluation", "recorded_by").get(
        pk=result_id)
    subject = (f"[{settings.SITE_NAME}] Post-release OOS: lot {batch.lot_number} "
               f"({batch.product.name}) - recall assessment needed")
    body = "\n".join([
        f"A result of lot {batch.lot_number} ({batch.product.name}) failed after the batch "
        "was released.",
        "",
        f"Test: {result.criterion.name}",
        f"Result: {_shown(result)}, measured {_when(result.measured_at)}",
        f"Evaluation: {result.evaluation.message}",
        "",
        "The batch is flagged for recall (status: post-release OOS). Assess the recall and "
        f"start the OOS investigation: /batches/{batch.lot_number}/",
    ])
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception as exc:  # the dashboard alert stands; the failure is recorded
        log.exception("post-release OOS mail for %s could not be sent", batch.lot_number)
        with transaction.atomic():
            audit_record(actor=None, action="batch.post_release_oos_mail_failed", obj=batch,
                         after={"recipients": recipients, "error": f"{type(exc).__name__}: "
                                f"{exc}"[:500]}, batch_lot=batch.lot_number)


def batch_flag_post_release_oos(*, batch_id: int, result_id: int) -> None:
    """A result failed on a (conditionally) released batch: flag the batch for recall, alert
    the dashboard, mail the QPs. Does nothing for a batch not released or already flagged."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update(of=("self",)).get(pk=batch_id)
        if batch.status not in RELEASED_STATUSES:
            return
        result = Result.objects.select_related("criterion", "evaluation", "invalidation").get(
            pk=result_id, batch_id=batch_id)
        if _verdict(result) != Verdict.FAIL or _invalidated(result):
            return
        before = batch.status
        batch.status = BatchStatus.POST_RELEASE_OOS
        batch.save(update_fields=["status"])
        recipients = _qp_addresses()
        audit_record(actor=None, action="batch.post_release_oos", obj=batch,
                     before={"status": before},
                     after={"status": BatchStatus.POST_RELEASE_OOS, "result_id": result.pk,
                            "test_code": result.criterion.test_code,
                            "notified": recipients},
                     reason=result.evaluation.message, batch_lot=batch.lot_number)
        if recipients:
            transaction.on_commit(lambda: _notify_qps(batch_id=batch_id, result_id=result_id,
                                                      recipients=recipients))


@dataclass(frozen=True)
class PostReleaseAlert:
    batch: Batch
    failing_results: tuple[Result, ...]
    flagged_at: datetime | None
    released_as: str  # the status the batch had when the failure came in


def post_release_alerts() -> list[PostReleaseAlert]:
    """Batches flagged for recall, newest flag first, with the failing results."""
    batches = list(Batch.objects.filter(status=BatchStatus.POST_RELEASE_OOS)
                   .select_related("product"))
    if not batches:
        return []
    flags: dict[str, AuditEvent] = {}
    for event in AuditEvent.objects.filter(
            action="batch.post_release_oos", object_type=BATCH_TYPE,
            object_id__in=[str(b.pk) for b in batches]).order_by("id"):
        flags.setdefault(event.object_id, event)
    failing: dict[int, list[Result]] = {}
    for result in (Result.objects.filter(batch__in=batches, evaluation__verdict=Verdict.FAIL,
                                         invalidation__isnull=True)
                   .select_related("criterion", "evaluation", "recorded_by").order_by("id")):
        failing.setdefault(result.batch_id, []).append(result)
    alerts = []
    for batch in batches:
        flag = flags.get(str(batch.pk))
        alerts.append(PostReleaseAlert(
            batch=batch, failing_results=tuple(failing.get(batch.pk, [])),
            flagged_at=flag.at if flag else None,
            released_as=(flag.before or {}).get("status", "") if flag else ""))
    epoch = datetime.min.replace(tzinfo=timezone.get_current_timezone())
    return sorted(alerts, key=lambda a: a.flagged_at or epoch, reverse=True)


# --------------------------------------------------------------------------- for the pages


def _may_record_result(user, batch: Batch) -> bool:
    # An expired batch in QC still takes results measured before its expiry (result_record
    # refuses later measurements with its own message).
    return has_role(user, Role.ANALYST) and batch.status in services.RESULT_ACCEPTING_STATUSES


def available_actions(*, user, batch: Batch) -> list[str]:
    """What `user` may do on `batch` now (a subset of ACTIONS, in that order)."""
    allowed: set[str] = set()
    if _may_record_result(user, batch):
        allowed.add("record_result")
    signer = (getattr(user, "is_authenticated", False) and not is_administrator(user)
              and not signing_is_locked(user))
    if signer and has_role(user, Role.REVIEWER):
        if not _reviewer_conflicts(batch, user) and not review_blockers(batch=batch):
            allowed.add("review")
        if batch.status in INVALIDATABLE and Result.objects.filter(
                batch=batch, invalidation__isnull=True).exclude(recorded_by=user).exists():
            allowed.add("invalidate")
    if signer and has_role(user, Role.QP):
        if not _releaser_conflicts(batch, user):
            if not release_blockers(batch=batch):
                allowed.add("release")
            if not conditional_release_blockers(batch=batch):
                allowed.add("release_conditionally")
        if batch.status in REJECTABLE:
            allowed.add("reject")
    return [action for action in ACTIONS if action in allowed]
