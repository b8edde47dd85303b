"""Stability protocols on the web: QA drafts one per product and specification version (the
storage condition, the worst case, the time points and the plan of tests across them), signs
it as its author, and another QA reviewer or QP approves it by e-signature. Thin: the
services check and write (one transaction, audited), as for a specification."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from qc.errors import RuleViolation
from qc.formatting import format_activity
from qc.models import Product, Signature, SpecificationStatus
from qc.stability.models import ProtocolStatus, StabilityProtocol
from qc.stability.plan import protocol_plan
from qc.stability.services import (
    PROTOCOL_TYPE,
    stability_protocol_approve,
    stability_protocol_author,
    stability_protocol_create_draft,
)

from ..forms import SignForm
from ..web.common import QA, add_service_errors, may, role_required, staff_required
from ..web.results import _refusal
from .forms import ProtocolDraftForm
from .selectors import protocol_doses

# a service's field -> the form's field
DRAFT_FIELDS = {"concentration_bq_per_ml": "concentration"}


def _specification(product: Product, version: str | None):
    """The version asked for, else the newest approved one, else the newest draft."""
    versions = product.specifications.exclude(status=SpecificationStatus.RETIRED)
    if version:
        if not version.isdigit():
            raise Http404("No such specification version.")
        return get_object_or_404(versions, version=int(version))
    return (versions.filter(status=SpecificationStatus.APPROVED).order_by("-version").first()
            or versions.order_by("-version").first())


@require_http_methods(["GET", "POST"])
@role_required(*QA, what="draft a stability protocol")
def protocol_draft(request, code: str):
    product = get_object_or_404(Product, code=code)
    specification = _specification(product, request.GET.get("spec"))
    if specification is None:
        messages.error(request, f"{product.code} has no specification to study; draft and "
                       "approve one first.")
        return redirect("product-stability", code=code)
    base = StabilityProtocol.objects.filter(product=product).order_by("-version").first()
    form = ProtocolDraftForm(request.POST or None, specification=specification, base=base)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            protocol = stability_protocol_create_draft(
                actor=request.user, product=product, specification=specification,
                storage_temperature_c=data["storage_temperature_c"],
                container=data["container"], orientation=data["orientation"],
                concentration_bq_per_ml=data["concentration"],
                time_points=data["time_points"], criteria=data["criteria"],
                schedule=data["schedule"], batches_required=data["batches_required"],
                extrapolation_factor=data["extrapolation_factor"],
                change_reason=data["change_reason"])
        except ValidationError as exc:
            add_service_errors(form, exc, DRAFT_FIELDS)
        except RuleViolation as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Draft stability protocol v{protocol.version} of "
                             f"{product.code} created; sign it as its author, then another "
                             "QA reviewer or QP approves it.")
            return redirect("stability-protocol-detail", protocol.pk)
    return render(request, "stability/protocol_draft.html", {
        "product": product, "specification": specification, "base": base, "form": form,
        "versions": product.specifications.exclude(status=SpecificationStatus.RETIRED)
        .order_by("-version")})


def _protocol(pk: int) -> StabilityProtocol:
    return get_object_or_404(StabilityProtocol.objects.select_related(
        "product", "specification", "approved_by"), pk=pk)


def _context(protocol: StabilityProtocol) -> dict:
    """What the protocol says, as its page and the signing pages show it."""
    plan = protocol_plan(protocol)
    doses = {row["after_eos_s"]: row["dose_gy"] for row in protocol_doses(protocol)}
    return {
        "protocol": protocol, "product": protocol.product, "plan": plan,
        "rows": [{"row": row, "after_h": f"{row.time_point.after_eos.total_seconds() / 3600:g}",
                  "tolerance_min": f"{row.time_point.tolerance.total_seconds() / 60:g}",
                  "dose_gy": doses.get(row.time_point.after_eos.total_seconds())}
                 for row in plan.rows()],
        "concentration": format_activity(protocol.concentration_bq_per_ml, "Bq/mL"),
        "signatures": Signature.objects.filter(object_type=PROTOCOL_TYPE,
                                               object_id=str(protocol.pk))
        .select_related("user").order_by("signed_at"),
    }


@require_GET
@staff_required
def protocol_detail(request, pk: int):
    protocol = _protocol(pk)
    context = _context(protocol)
    qa = may(request.user, "specifications")
    context.update({
        "can_sign": qa and protocol.status == ProtocolStatus.DRAFT,
        "authored_by_me": context["signatures"].filter(meaning="authored",
                                                       user=request.user).exists(),
        "others": StabilityProtocol.objects.filter(product=protocol.product)
        .exclude(pk=protocol.pk).select_related("specification").order_by("-version"),
    })
    return render(request, "stability/protocol_detail.html", context)


def _sign(request, pk: int, *, author: bool):
    protocol = _protocol(pk)
    form = SignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        service = stability_protocol_author if author else stability_protocol_approve
        try:
            service(actor=request.user, password=data["password"], protocol=protocol,
                    comment=data["comment"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        except RuleViolation as exc:
            _refusal(form, exc)
        else:
            messages.success(request, (
                f"You signed stability protocol v{protocol.version} as its author; another QA "
                "reviewer or QP approves it.") if author else (
                f"Stability protocol v{protocol.version} of {protocol.product.code} approved; "
                "results are recorded against it from now on, and the protocol it supersedes "
                "is retired."))
            return redirect("stability-protocol-detail", protocol.pk)
    return render(request, "stability/protocol_sign.html",
                  {**_context(protocol), "form": form, "author": author})


@require_http_methods(["GET", "POST"])
@role_required(*QA, what="sign a stability protocol as its author")
def protocol_author(request, pk: int):
    return _sign(request, pk, author=True)


@require_http_methods(["GET", "POST"])
@role_required(*QA, what="approve a stability protocol")
def protocol_approve(request, pk: int):
    return _sign(request, pk, author=False)
