"""Disposition: QA review, the QP's release, conditional release and rejection, and QA's
invalidation of a result (batches.lifecycle has the statuses they move between).

Every signed service re-checks the password with check_signer before its transaction (so a
wrong password is counted even though the action is refused), then in one transaction locks
the batch, checks roles, segregation of duties and state, signs the canonical batch record
(batch_record) and changes the status, with its audit events. A refusal is a RuleViolation
whose message says why and what is missing, and is itself an audit event
("signature.refused")."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import transaction

from qc.audit import audit_record
from qc.audit_checkpoints import audit_checkpoint
from qc.errors import RuleViolation
from qc.models import Signature
from qc.roles import Role, has_role
from qc.signatures import SignatureRefused, check_signer, is_administrator, signature_apply
from qc.text import require_printable

from .. import jobs
from ..evaluation.results import batch_refresh_qc_status
from ..lifecycle import INVALIDATABLE, REJECTABLE, RELEASED_STATUSES, lock_batch
from ..models import Batch, BatchStatus, Result, ResultInvalidation
from ..texts import when
from .blockers import (
    batch_picture,
    conditional_release_blockers,
    pending_optional,
    release_blockers,
    releaser_conflicts,
    review_blockers,
    reviewer_conflicts,
    status_label,
)
from .record import BATCH_TYPE, RESULT_TYPE, batch_record, invalidation_record

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


def _refuse_if(problems: list[str], *, lead: str, code: str) -> None:
    if problems:
        raise RuleViolation(f"{lead}: {' '.join(problems)}", code=code)


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


def _set_status(batch: Batch, status: str, *, actor, action: str, signature: Signature,
                reason: str = "", **extra) -> None:
    before = batch.status
    batch.status = status
    batch.save(update_fields=["status"])
    audit_record(actor=actor, action=action, obj=batch, before={"status": before},
                 after={"status": status, "signature_id": signature.pk,
                        "record_sha256": signature.record_sha256, **extra},
                 reason=reason, batch_lot=batch.lot_number)


def _sign_batch(*, actor, password: str, batch: Batch, meaning: str, role: Role, doing: str,
                comment: str, work, comment_field: str = "comment") -> Signature:
    """The frame every batch signature shares; `work(locked)` checks the rules and returns
    (new status, audit action, extra audit values, signature comment). `comment_field`: the
    form field the comment was typed in, for its error."""
    require_printable(areas={comment_field: comment})
    with _refusal_audited(actor=actor, meaning=meaning, object_type=BATCH_TYPE,
                          object_id=batch.pk, batch_lot=batch.lot_number):
        _require_role(actor, role, doing)
        check_signer(user=actor, password=password, meaning=meaning, object_type=BATCH_TYPE,
                     object_id=batch.pk, batch_lot=batch.lot_number)
        with transaction.atomic():
            locked = lock_batch(batch.pk)
            status, action, extra, signed_comment = work(locked)
            signature = signature_apply(user=actor, meaning=meaning, object_type=BATCH_TYPE,
                                        object_id=locked.pk, record=batch_record(locked),
                                        comment=signed_comment, batch_lot=locked.lot_number)
            _set_status(locked, status, actor=actor, action=action, signature=signature,
                        reason=comment.strip(), **extra)
            if meaning in ("released", "conditionally_released"):
                # The certificate stage takes it from here; a lost message is found again
                # by the certificate sweep (a release signature without a certificate).
                transaction.on_commit(
                    lambda: jobs.request_certificate(locked.pk, signature.pk))
                # Anchor the trail outside the database at every release (on commit).
                audit_checkpoint(reason=f"{meaning} lot {locked.lot_number}")
    batch.status = locked.status
    return signature


def batch_review(*, actor, password: str, batch: Batch, comment: str = "") -> Signature:
    """QA signs "reviewed": every release-required criterion has a valid passing result and
    no result is failing, invalid or still being evaluated."""
    def work(locked: Batch):
        _refuse_if(reviewer_conflicts(locked, actor),
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
        _refuse_if(releaser_conflicts(locked, actor),
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
        _refuse_if(releaser_conflicts(locked, actor),
                   lead=f"You cannot release lot {locked.lot_number}",
                   code="segregation_of_duties")
        _refuse_if(conditional_release_blockers(batch=locked),
                   lead=f"Lot {locked.lot_number} cannot be released conditionally",
                   code="release_blocked")
        pending = [s.criterion for s in pending_optional(batch_picture(locked))]
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
            raise RuleViolation(f"Lot {locked.lot_number} is {status_label(locked)}; only a "
                                f"batch not yet released can be rejected.{after}",
                                code="invalid_state")
        return BatchStatus.REJECTED, "batch.reject", {}, reason

    return _sign_batch(actor=actor, password=password, batch=batch, meaning="rejected",
                       role=Role.QP, doing="rejects a batch", comment=reason, work=work,
                       comment_field="reason")


def result_invalidate(*, actor, password: str, result: Result, cause: str) -> Signature:
    """QA invalidates a result with an assignable cause, e-signed; the result stays in the
    record, marked invalid, and no longer counts."""
    if not (cause or "").strip():
        raise ValidationError({"cause": ["Give the assignable cause (e.g. a sample mix-up "
                                         "found in the investigation)."]})
    require_printable(areas={"cause": cause}, labels={"cause": "assignable cause"})
    batch = result.batch
    with _refusal_audited(actor=actor, meaning="invalidated", object_type=RESULT_TYPE,
                          object_id=result.pk, batch_lot=batch.lot_number):
        _require_role(actor, Role.REVIEWER, "invalidates a result")
        check_signer(user=actor, password=password, meaning="invalidated",
                     object_type=RESULT_TYPE, object_id=result.pk, batch_lot=batch.lot_number)
        with transaction.atomic():
            locked = lock_batch(batch.pk)
            target = (Result.objects.select_related("batch", "criterion", "evaluation",
                                                    "instrument", "raw_data", "recorded_by")
                      .get(pk=result.pk))
            existing = ResultInvalidation.objects.filter(result=target).select_related(
                "signature").first()
            if existing is not None:
                raise RuleViolation(f"This {target.criterion.name} result was already "
                                    f"invalidated by {existing.signature.printed_name} at "
                                    f"{when(existing.signature.signed_at)}.",
                                    code="already_invalidated")
            if locked.status not in INVALIDATABLE:
                raise RuleViolation(f"Lot {locked.lot_number} is {status_label(locked)}; its "
                                    "results can no longer be invalidated.",
                                    code="invalid_state")
            if target.recorded_by_id == actor.pk:
                raise RuleViolation("You recorded this result; QA invalidates only results "
                                    "recorded by someone else. Another QA reviewer signs.",
                                    code="segregation_of_duties")
            was_current = not hasattr(target, "superseded_by")
            signature = signature_apply(
                user=actor, meaning="invalidated", object_type=RESULT_TYPE,
                object_id=target.pk, record=invalidation_record(target, cause),
                comment=cause, batch_lot=locked.lot_number)
            invalidation = ResultInvalidation.objects.create(result=target, cause=cause.strip(),
                                                             signature=signature)
            audit_record(actor=actor, action="result.invalidate", obj=target,
                         before={"verdict": target.verdict, "current": was_current},
                         after={"invalidated": True, "invalidation_id": invalidation.pk,
                                "signature_id": signature.pk},
                         reason=cause.strip(), batch_lot=locked.lot_number)
            batch_refresh_qc_status(batch_id=locked.pk)
    return signature
