"""What stands in the way of a review or a release, who may not sign (segregation of duties),
and so what a user may do on a batch now. Reads only; every message says why and what
would unblock it."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.utils import timezone

from qc.models import Signature
from qc.roles import Role, has_role
from qc.signatures import is_administrator, signing_is_locked

from ..lifecycle import INVALIDATABLE, REJECTABLE, RESULT_ACCEPTING_STATUSES, REVIEWABLE
from ..models import Batch, BatchStatus, Result, ResultInvalidation, Verdict
from ..selectors import CriterionStatus, batch_results, criterion_statuses
from ..texts import message, when
from .record import BATCH_TYPE

ACTIONS = ("record_result", "review", "release", "release_conditionally", "reject",
           "invalidate")


@dataclass(frozen=True)
class Picture:
    batch: Batch
    results: list[Result]
    statuses: list[CriterionStatus]

    @property
    def unevaluated(self) -> list[Result]:
        return [r for r in self.results
                if r.verdict is None and not r.is_invalidated]

    @property
    def open_failures(self) -> list[Result]:
        """Failing results QA has not invalidated, current or not: a failure is not cured
        by recording another result or a correction on top of it."""
        return [r for r in self.results if r.verdict == Verdict.FAIL and not r.is_invalidated]

    @property
    def open_errors(self) -> list[Result]:
        """Results whose evaluation could not run, not invalidated by QA: nobody knows
        whether they pass."""
        return [r for r in self.results if r.verdict == Verdict.ERROR and not r.is_invalidated]


def batch_picture(batch: Batch) -> Picture:
    results = list(batch_results(batch=batch).select_related("recorded_by"))
    return Picture(batch, results, criterion_statuses(batch=batch, results=results))


def _describe(result: Result) -> str:
    return (f"{result.criterion.name} result {result.shown} (measured {when(result.measured_at)}"
            f", recorded by {result.recorded_by.get_full_name() or result.recorded_by})")


def _result_blockers(picture: Picture, *, optional_pending_blocks: bool) -> list[str]:
    """What in the results stands in the way. `optional_pending_blocks`: whether a
    may-release-before-result criterion without a result counts (full release) or not
    (review, conditional release)."""
    out = []
    for result in picture.open_failures:
        out.append(f"{_describe(result)} failed: {message(result.evaluation.message)}. A "
                   "failing result blocks the batch until QA invalidates it with an assignable "
                   "cause (e-signed) and a retest is recorded, or the QP rejects the batch.")
    for result in picture.open_errors:
        out.append(f"{_describe(result)} could not be evaluated: "
                   f"{message(result.evaluation.message)}")
    for result in picture.unevaluated:
        out.append(f"{_describe(result)} is still being evaluated; wait for its evaluation.")
    for status in picture.statuses:
        name, verdict = status.criterion.name, status.verdict
        required = optional_pending_blocks or not status.criterion.release_before_result
        retest = _retest_missing(status)
        if verdict == Verdict.INVALID:
            out.append(f"{name}: the current result is invalid "
                       f"({message(status.current.evaluation.message)}); record a valid result.")
        elif retest and required:
            out.append(f"{name}: QA invalidated a result at {when(retest)}; record the retest "
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
    invalidated = [r.invalidation.created_at for r in status.history if r.is_invalidated]
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
        changes.append(f"{result.criterion.name} was {verb} at {when(result.recorded_at)}")
    invalidated = (ResultInvalidation.objects.filter(
        result__batch=batch, result__criterion__release_before_result=False,
        created_at__gt=review.signed_at).select_related("result__criterion").order_by("id"))
    for invalidation in invalidated:
        changes.append(f"a {invalidation.result.criterion.name} result was invalidated at "
                       f"{when(invalidation.created_at)}")
    return changes


def _review_currency_blockers(batch: Batch) -> list[str]:
    review = _latest_review(batch)
    if review is None:
        return [f"Lot {batch.lot_number} has no QA review signature."]
    changes = _changes_since_review(batch, review)
    if changes:
        return [f"Since QA reviewed lot {batch.lot_number} ({review.printed_name}, "
                f"{when(review.signed_at)}), {'; '.join(changes)}; QA must review it again."]
    return []


def _expiry_blockers(batch: Batch) -> list[str]:
    if batch.expiry is None:
        return [f"The expiry of lot {batch.lot_number} has not been computed yet; wait a "
                "moment and try again."]
    if batch.expiry <= timezone.now():
        return [f"Lot {batch.lot_number} expired at {when(batch.expiry)}; an expired batch "
                "cannot be released."]
    return []


def status_label(batch: Batch) -> str:
    return batch.get_status_display().lower()


def review_blockers(*, batch: Batch, picture: Picture | None = None) -> list[str]:
    """Why QA cannot review the batch now (empty when a review is possible). `picture`: the
    batch's results as already read (batch_picture), else they are read."""
    out = []
    if batch.status == BatchStatus.REVIEWED:
        review = _latest_review(batch)
        if review is not None and not _changes_since_review(batch, review):
            out.append(f"Lot {batch.lot_number} was reviewed by {review.printed_name} at "
                       f"{when(review.signed_at)} and no release-required result changed "
                       "since; it awaits the QP.")
    elif batch.status == BatchStatus.REGISTERED:
        out.append(f"Lot {batch.lot_number} has no results yet; QC records them first.")
    elif batch.status not in REVIEWABLE:
        out.append(f"Lot {batch.lot_number} is {status_label(batch)}; only a batch in QC is "
                   "reviewed.")
    out += _result_blockers(picture or batch_picture(batch), optional_pending_blocks=False)
    return out


def _not_reviewed(batch: Batch) -> list[str]:
    if batch.status in (BatchStatus.REGISTERED, BatchStatus.IN_QC):
        return [f"Lot {batch.lot_number} has not been reviewed by QA yet; QA reviews it first."]
    return [f"Lot {batch.lot_number} is {status_label(batch)}."]


def release_blockers(*, batch: Batch, picture: Picture | None = None) -> list[str]:
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
    out += _result_blockers(picture or batch_picture(batch), optional_pending_blocks=True)
    return out


def pending_optional(picture: Picture) -> list[CriterionStatus]:
    return [s for s in picture.statuses
            if s.criterion.release_before_result and s.verdict == "pending"]


def conditional_release_blockers(*, batch: Batch, picture: Picture | None = None
                                 ) -> list[str]:
    """Why the QP cannot release before the may-release-before-result tests now."""
    out = []
    if batch.status == BatchStatus.REVIEWED:
        out += _review_currency_blockers(batch)
        out += _expiry_blockers(batch)
    else:
        out += _not_reviewed(batch)
    picture = picture or batch_picture(batch)
    out += _result_blockers(picture, optional_pending_blocks=False)
    if not out and not pending_optional(picture):
        out.append("Every criterion has passed; sign a full release instead.")
    return out


# --------------------------------------------------------------------------- who may sign


def _recorded_by(batch: Batch, user) -> list[Result]:
    return list(Result.objects.filter(batch=batch, recorded_by=user)
                .select_related("criterion").order_by("id"))


def _reviewed_by(batch: Batch, user) -> bool:
    return Signature.objects.filter(object_type=BATCH_TYPE, object_id=str(batch.pk),
                                    meaning="reviewed", user=user).exists()


def _tests(results: list[Result]) -> str:
    return ", ".join(dict.fromkeys(r.criterion.name for r in results))


def reviewer_conflicts(batch: Batch, user) -> list[str]:
    recorded = _recorded_by(batch, user)
    if recorded:
        return [f"You recorded results of lot {batch.lot_number} ({_tests(recorded)}); a "
                "reviewer does not review results they recorded. Another QA reviewer reviews "
                "it."]
    return []


def releaser_conflicts(batch: Batch, user) -> list[str]:
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


# --------------------------------------------------------------------------- for the pages


# The role that may take each action (a user sees the actions of the roles they hold).
ACTION_ROLES = {"record_result": Role.ANALYST, "review": Role.REVIEWER,
                "invalidate": Role.REVIEWER, "release": Role.QP,
                "release_conditionally": Role.QP, "reject": Role.QP}


@dataclass(frozen=True)
class ActionState:
    action: str
    allowed: bool
    reasons: tuple[str, ...]  # why not, each saying what would unblock it; empty if allowed


def _signer_reasons(user) -> list[str]:
    if is_administrator(user):
        return ["An administrator account does not sign batch records; sign in with your own "
                "reviewer or QP account."]
    if signing_is_locked(user):
        return ["Your signing is locked after repeated wrong passwords; an administrator "
                "unlocks it."]
    return []


def _record_reasons(batch: Batch) -> list[str]:
    # An expired batch in QC still takes results measured before its expiry (result_record
    # refuses later measurements with its own message).
    if batch.status in RESULT_ACCEPTING_STATUSES:
        return []
    return [f"Lot {batch.lot_number} is {status_label(batch)}; results are recorded only "
            "until a batch is released or rejected (QA records a correction)."]


def _invalidate_reasons(batch: Batch, user) -> list[str]:
    if batch.status not in INVALIDATABLE:
        return [f"Lot {batch.lot_number} is {status_label(batch)}; QA invalidates results while "
                "they count for a decision or during a post-release investigation."]
    if not Result.objects.filter(batch=batch, invalidation__isnull=True).exclude(
            recorded_by=user).exists():
        return ["No result recorded by someone else is left to invalidate (a reviewer does not "
                "invalidate results they recorded)."]
    return []


def _reject_reasons(batch: Batch) -> list[str]:
    if batch.status in REJECTABLE:
        return []
    return [f"Lot {batch.lot_number} is {status_label(batch)}; only a batch not yet released "
            "is rejected (a failure after release is a post-release OOS: recall)."]


def action_states(*, user, batch: Batch, picture: Picture | None = None) -> list[ActionState]:
    """Every action the roles of `user` could take on `batch`, in ACTIONS order, whether it
    is allowed now, and if not, why and what would unblock it. `picture`: the batch's results
    as the page already read them (batch_picture); the results and the QP's conflicts are
    read at most once for all the actions."""
    states = []
    signer = _signer_reasons(user) if getattr(user, "is_authenticated", False) else []
    the_picture = cache(lambda: picture or batch_picture(batch))
    qp_conflicts = cache(lambda: releaser_conflicts(batch, user))
    for action in ACTIONS:
        if not has_role(user, ACTION_ROLES[action]):
            continue
        if action == "record_result":
            reasons = _record_reasons(batch)
        elif action == "review":
            reasons = (signer or reviewer_conflicts(batch, user)
                       or review_blockers(batch=batch, picture=the_picture()))
        elif action == "invalidate":
            reasons = signer or _invalidate_reasons(batch, user)
        elif action == "release":
            reasons = (signer or qp_conflicts()
                       or release_blockers(batch=batch, picture=the_picture()))
        elif action == "release_conditionally":
            reasons = (signer or qp_conflicts()
                       or conditional_release_blockers(batch=batch, picture=the_picture()))
        else:
            reasons = signer or _reject_reasons(batch)
        states.append(ActionState(action, not reasons, tuple(reasons)))
    return states


def available_actions(*, user, batch: Batch) -> list[str]:
    """What `user` may do on `batch` now (a subset of ACTIONS, in that order)."""
    return [state.action for state in action_states(user=user, batch=batch) if state.allowed]
