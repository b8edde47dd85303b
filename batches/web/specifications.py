"""Specifications: versions by product, a new draft from the current version, editing a
draft's criteria, the differences against the previous version, approval by signature."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qc.errors import RuleViolation
from qc.models import Criterion, Product, Signature, Specification, SpecificationStatus
from qc.services import (
    CRITERION_FIELDS,
    specification_approve,
    specification_author,
    specification_create_draft,
)
from qc.specification_edits import (
    criteria_diff,
    criterion_add,
    criterion_remove,
    criterion_update,
    previous_version,
)

from ..forms import ApproveForm, CriterionForm, DraftForm, SignForm
from .common import QA, add_service_errors, may, role_required, staff_required
from .results import _refusal


@require_GET
@staff_required
def specification_list(request):
    products = Product.objects.order_by("name").prefetch_related(Prefetch(
        "specifications", queryset=Specification.objects.select_related("approved_by")
        .order_by("-version")))
    return render(request, "specifications/list.html", {"products": products})


def _spec(pk: int) -> Specification:
    return get_object_or_404(Specification.objects.select_related("product", "approved_by"),
                             pk=pk)


@require_GET
@staff_required
def specification_detail(request, pk: int):
    spec = _spec(pk)
    previous = previous_version(spec)
    has_draft = Specification.objects.filter(product=spec.product,
                                             status=SpecificationStatus.DRAFT).exists()
    signatures = Signature.objects.filter(object_type="qc.specification", object_id=str(spec.pk))
    return render(request, "specifications/detail.html", {
        "spec": spec, "criteria": spec.criteria.select_related("method"),
        "previous": previous, "diff": criteria_diff(previous, spec),
        "can_edit": may(request.user, "specifications") and not spec.is_locked,
        "can_draft": may(request.user, "specifications") and not has_draft,
        "signatures": signatures,
    })


@require_http_methods(["GET", "POST"])
@role_required(*QA, what="draft a specification")
def specification_draft(request, product_code: str):
    product = get_object_or_404(Product, code=product_code)
    base = (Specification.objects.filter(product=product)
            .exclude(status=SpecificationStatus.DRAFT).order_by("-version").first())
    form = DraftForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rows = []
        if base is not None:
            for c in base.criteria.select_related("method").order_by("position", "id"):
                rows.append({**{f: getattr(c, f) for f in CRITERION_FIELDS},
                             "method": c.method.code if c.method else None})
        try:
            draft = specification_create_draft(
                actor=request.user, product=product, criteria=rows,
                change_reason=form.cleaned_data["change_reason"])
        except RuleViolation as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
            for field, problems in errors.items():
                for problem in problems:
                    if field in form.fields:  # the reason typed here
                        form.add_error(field, problem)
                    else:  # copied from a version approved before a check that refuses it
                        form.add_error(None, f"Version {base.version if base else '—'} holds "
                                       f"a value that is refused now: {problem}")
        else:
            messages.success(request, f"Draft version {draft.version} of {product.code} created "
                             f"from version {base.version if base else '—'}; edit its criteria, "
                             "then approve it.")
            return redirect("specification-detail", draft.pk)
    return render(request, "specifications/draft.html",
                  {"product": product, "base": base, "form": form})


@require_http_methods(["GET", "POST"])
@role_required(*QA, what="edit a specification")
def criterion_edit(request, pk: int, criterion_id: int | None = None):
    spec = _spec(pk)
    criterion = (get_object_or_404(Criterion, pk=criterion_id, specification=spec)
                 if criterion_id else Criterion(specification=spec))
    form = CriterionForm(request.POST or None, instance=criterion)
    if request.method == "POST" and form.is_valid():
        try:
            if criterion_id:
                criterion_update(actor=request.user, criterion=criterion, values=form.values())
            else:
                values = form.values()
                criterion_add(actor=request.user, specification=spec, values=values)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except RuleViolation as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Criterion {form.cleaned_data['test_code']} saved in "
                             f"draft version {spec.version}.")
            return redirect("specification-detail", spec.pk)
    return render(request, "specifications/criterion_form.html",
                  {"spec": spec, "criterion": criterion if criterion_id else None, "form": form})


@require_POST
@role_required(*QA, what="edit a specification")
def criterion_delete(request, pk: int, criterion_id: int):
    spec = _spec(pk)
    criterion = get_object_or_404(Criterion, pk=criterion_id, specification=spec)
    try:
        criterion_remove(actor=request.user, criterion=criterion)
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Criterion {criterion.test_code} removed from draft "
                         f"version {spec.version}.")
    return redirect("specification-detail", spec.pk)


@require_http_methods(["GET", "POST"])
@role_required(*QA, what="approve a specification")
def specification_approve_view(request, pk: int):
    spec = _spec(pk)
    form = ApproveForm(request.POST or None,
                       initial={"effective_from": timezone.localtime().replace(microsecond=0)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            specification_approve(actor=request.user, password=data["password"],
                                  specification=spec, effective_from=data["effective_from"],
                                  comment=data["comment"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        except RuleViolation as exc:
            _refusal(form, exc)
        else:
            messages.success(request, f"{spec.product.code} version {spec.version} approved and "
                             "in force from the effective time; the previous version is retired.")
            return redirect("specification-detail", spec.pk)
    return _signing_page(request, "specifications/approve.html", spec, form)


@require_http_methods(["GET", "POST"])
@role_required(*QA, what="sign a specification as its author")
def specification_author_view(request, pk: int):
    spec = _spec(pk)
    form = SignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            specification_author(actor=request.user, password=form.cleaned_data["password"],
                                 specification=spec, comment=form.cleaned_data["comment"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        except RuleViolation as exc:
            _refusal(form, exc)
        else:
            messages.success(request, f"You signed {spec.product.code} version {spec.version} "
                             "as its author; another QA reviewer or QP approves it.")
            return redirect("specification-detail", spec.pk)
    return _signing_page(request, "specifications/author.html", spec, form)


def _signing_page(request, template: str, spec: Specification, form):
    """What is being signed: the criteria and their differences against the previous version."""
    previous = previous_version(spec)
    return render(request, template, {
        "spec": spec, "form": form, "criteria": spec.criteria.select_related("method"),
        "previous": previous, "diff": criteria_diff(previous, spec)})
