"""Review, release, conditional release and rejection: a page that shows what is being
signed and what the signature means, and takes the password again (21 CFR 11.50, 11.200)."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from qc.errors import RuleViolation
from qc.roles import Role
from qc.rules import limit_text

from .. import selectors
from ..disposition import blockers
from ..disposition import services as disposition
from ..forms import RejectForm, SignForm
from ..models import Batch
from .common import add_service_errors, role_required
from .results import _refusal


@dataclass(frozen=True)
class Act:
    action: str
    title: str
    meaning: str
    button: str
    service: object
    form: type
    done: str


ACTS = {
    "review": Act(
        "review", "Review the batch record", "Reviewed",
        "Sign: reviewed", disposition.batch_review, SignForm,
        "Lot {lot} reviewed and signed."),
    "release": Act(
        "release", "Release the batch", "Released",
        "Sign: release", disposition.batch_release, SignForm,
        "Lot {lot} released. The certificate is being issued."),
    "release_conditionally": Act(
        "release_conditionally", "Release the batch conditionally", "Conditionally released",
        "Sign: release conditionally", disposition.batch_release_conditionally, SignForm,
        "Lot {lot} conditionally released; the certificate lists the pending tests."),
    "reject": Act(
        "reject", "Reject the batch", "Rejected",
        "Sign: reject", disposition.batch_reject, RejectForm, "Lot {lot} rejected."),
}


def _declaration(act: Act, batch: Batch, user) -> str:
    name = user.get_full_name() or user.get_username()
    spec = f"{batch.product.code} specification version {batch.specification.version}"
    return {
        "review": f"I, {name}, have reviewed the batch record and every result of lot "
                  f"{batch.lot_number} against {spec}, and find them complete and correct.",
        "release": f"I, {name}, Qualified Person, certify that lot {batch.lot_number} was made "
                   f"and tested in accordance with {spec} and GMP, and release it for use.",
        "release_conditionally":
            f"I, {name}, Qualified Person, release lot {batch.lot_number} before the results of "
            "the tests listed as pending. A failing later result raises a post-release "
            "out-of-specification alert and a recall.",
        "reject": f"I, {name}, Qualified Person, reject lot {batch.lot_number}: it must not be "
                  "used.",
    }[act.action]


def _blockers(action: str, batch: Batch) -> list[str]:
    """What stands in the way of this very action (rejection has no preconditions beyond
    the batch's state, which the service checks)."""
    finder = {"review": blockers.review_blockers,
              "release": blockers.release_blockers,
              "release_conditionally": blockers.conditional_release_blockers}.get(action)
    return finder(batch=batch) if finder else []


def _sign(request, lot_number: str, act: Act):
    try:
        page = selectors.batch_page(lot_number=lot_number)
    except Batch.DoesNotExist:
        raise Http404(f"No batch has lot number {lot_number}.") from None
    batch = page.batch
    form = act.form(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        arguments = {"actor": request.user, "password": data["password"], "batch": batch}
        if act.action == "reject":
            arguments["reason"] = data["reason"]
        else:
            arguments["comment"] = data["comment"]
        try:
            act.service(**arguments)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except RuleViolation as exc:
            _refusal(form, exc)
        else:
            messages.success(request, act.done.format(lot=batch.lot_number))
            return redirect("batch-detail", batch.lot_number)
    actions = blockers.available_actions(user=request.user, batch=batch)
    pending = [s for s in page.statuses if s.criterion.release_before_result
               and s.verdict != "pass"]
    summary = [{"criterion": s.criterion, "limit": limit_text(s.criterion), "status": s,
                "evaluation": getattr(s.current, "evaluation", None) if s.current else None}
               for s in page.statuses]
    return render(request, "batches/sign.html", {
        "batch": batch, "act": act, "form": form, "summary": summary, "pending": pending,
        "available": act.action in actions,
        "blockers": _blockers(act.action, batch),
        "declaration": _declaration(act, batch, request.user),
        "signatures": page.signatures, "now": timezone.now(),
    })


@require_http_methods(["GET", "POST"])
@role_required(Role.REVIEWER, what="review a batch")
def batch_review(request, lot_number: str):
    return _sign(request, lot_number, ACTS["review"])


@require_http_methods(["GET", "POST"])
@role_required(Role.QP, what="release a batch")
def batch_release(request, lot_number: str):
    return _sign(request, lot_number, ACTS["release"])


@require_http_methods(["GET", "POST"])
@role_required(Role.QP, what="release a batch conditionally")
def batch_release_conditionally(request, lot_number: str):
    return _sign(request, lot_number, ACTS["release_conditionally"])


@require_http_methods(["GET", "POST"])
@role_required(Role.QP, what="reject a batch")
def batch_reject(request, lot_number: str):
    return _sign(request, lot_number, ACTS["reject"])
