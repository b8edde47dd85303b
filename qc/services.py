"""Writes to master data: specifications and their approval."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .audit import audit_record
from .errors import RuleViolation
from .models import Criterion, Product, Signature, Specification, SpecificationStatus, TestMethod
from .roles import Role, has_role
from .signatures import check_signer, record_hash, signature_apply
from .specification_physics import check_criterion_physics, criterion_physics_problem
from .text import require_printable, text_errors

SPECIFICATION_TYPE = "qc.specification"

CRITERION_FIELDS = (
    "position", "test_code", "name", "unit", "lower_limit", "lower_inclusive", "upper_limit",
    "upper_inclusive", "text_requirement", "judged_at", "quantity", "impurity_nuclide",
    "impurity_with_progeny", "release_before_result", "validity", "validity_nuclide",
    "validity_value", "earliest_after",
)
CRITERION_TEXT_FIELDS = ("test_code", "name", "unit", "text_requirement", "impurity_nuclide",
                         "validity_nuclide")
# Fields added after specifications were first signed: left out of the signed record while
# empty, so the hashes of versions approved before them still verify.
_RECORDED_WHEN_SET = frozenset({"earliest_after"})


def specification_record(specification: Specification) -> dict[str, Any]:
    """The canonical content of a specification version, as signed at approval."""
    return {
        "product": specification.product.code,
        "version": specification.version,
        "criteria": [
            {**{f: getattr(c, f) for f in CRITERION_FIELDS
                if f not in _RECORDED_WHEN_SET or getattr(c, f) is not None},
             "method": c.method.code if c.method else None}
            for c in specification.criteria.select_related("method").order_by("position", "id")
        ],
    }


def criterion_text_errors(values: dict[str, Any]) -> dict[str, list[str]]:
    """The single-line text fields of a criterion (name, unit, accepted texts, nuclides)."""
    return text_errors(lines={field: values[field] for field in CRITERION_TEXT_FIELDS
                              if isinstance(values.get(field), str)},
                       labels={"name": "criterion name",
                               "text_requirement": "accepted text results"})


def specification_create_draft(*, actor, product: Product, criteria: Iterable[dict[str, Any]],
                               change_reason: str = "") -> Specification:
    """A new draft version; `criteria` are dicts of Criterion fields, `method` a method code."""
    criteria = [dict(row) for row in criteria]
    require_printable(areas={"change_reason": change_reason})
    problems = [f"Criterion {position} ({row.get('test_code', '')}): {message}"
                for position, row in enumerate(criteria, start=1)
                for messages in criterion_text_errors(row).values() for message in messages]
    if problems:
        raise ValidationError({"criteria": problems})
    with transaction.atomic():
        last = (Specification.objects.select_for_update().filter(product=product)
                .order_by("-version").first())
        spec = Specification.objects.create(
            product=product, version=(last.version + 1) if last else 1,
            change_reason=change_reason)
        for position, row in enumerate(criteria, start=1):
            row = dict(row)
            method_code = row.pop("method", None)
            method = TestMethod.objects.get(code=method_code) if method_code else None
            row.setdefault("position", position)
            criterion = Criterion(specification=spec, method=method, **row)
            check_criterion_physics(criterion, product)
            criterion.save()
        audit_record(actor=actor, action="specification.draft", obj=spec,
                     after=specification_record(spec), reason=change_reason)
    return spec


def _may_sign_specifications(actor) -> bool:
    return has_role(actor, Role.QP) or has_role(actor, Role.REVIEWER)


def _authors(specification: Specification) -> set[int]:
    return set(Signature.objects.filter(
        object_type=SPECIFICATION_TYPE, object_id=str(specification.pk), meaning="authored",
    ).values_list("user_id", flat=True))


def specification_author(*, actor, password: str, specification: Specification,
                         comment: str = "") -> Signature:
    """QA or a QP signs a draft as its author ("authored"); whoever authored a version does
    not approve it."""
    if not _may_sign_specifications(actor):
        raise RuleViolation("Only QA or a Qualified Person signs a specification as its "
                            "author.", code="forbidden")
    require_printable(areas={"comment": comment})
    check_signer(user=actor, password=password, meaning="authored",
                 object_type=SPECIFICATION_TYPE, object_id=specification.pk)
    with transaction.atomic():
        spec = Specification.objects.select_for_update().get(pk=specification.pk)
        if spec.status != SpecificationStatus.DRAFT:
            raise RuleViolation(f"Version {spec.version} is {spec.status}; only a draft is "
                                "signed by its author.", code="invalid_state")
        if not spec.criteria.exists():
            raise RuleViolation("A specification without criteria cannot be signed; add its "
                                "criteria first.", code="invalid_state")
        return signature_apply(user=actor, meaning="authored", object_type=SPECIFICATION_TYPE,
                               object_id=spec.pk, record=specification_record(spec),
                               comment=comment)


def specification_approve(*, actor, password: str, specification: Specification,
                          effective_from: datetime | None = None, comment: str = ""
                          ) -> Specification:
    """Approve a draft by e-signature; the previous approved version is retired."""
    if not _may_sign_specifications(actor):
        raise RuleViolation("Only QA or a Qualified Person approves a specification.",
                            code="forbidden")
    require_printable(areas={"comment": comment})
    check_signer(user=actor, password=password, meaning="approved",
                 object_type=SPECIFICATION_TYPE, object_id=specification.pk)
    effective_from = effective_from or timezone.now()
    with transaction.atomic():
        spec = Specification.objects.select_for_update().get(pk=specification.pk)
        if spec.status != SpecificationStatus.DRAFT:
            raise RuleViolation(f"Version {spec.version} is {spec.status}; only a draft can be "
                                "approved.", code="invalid_state")
        if not spec.criteria.exists():
            raise RuleViolation("A specification without criteria cannot be approved.",
                                code="invalid_state")
        if actor.pk in _authors(spec):
            raise RuleViolation(f"You signed version {spec.version} as its author; another QA "
                                "reviewer or Qualified Person approves it.",
                                code="segregation_of_duties")
        problems = [p for p in (criterion_physics_problem(c, spec.product)
                                for c in spec.criteria.all()) if p]
        if problems:
            raise RuleViolation(f"Version {spec.version} cannot be approved: "
                                + " ".join(problems), code="measurement_physics")
        record = specification_record(spec)
        authored = Signature.objects.filter(object_type=SPECIFICATION_TYPE,
                                            object_id=str(spec.pk), meaning="authored")
        if authored.exists() and not authored.filter(
                record_sha256=record_hash(record)).exists():
            raise RuleViolation(f"Version {spec.version} changed after its author signed it; "
                                "the author signs the draft as it stands before it is "
                                "approved.", code="changed_since_authored")
        signature = signature_apply(user=actor, meaning="approved",
                                    object_type=SPECIFICATION_TYPE, object_id=spec.pk,
                                    record=record, comment=comment)
        retired = list(Specification.objects.select_for_update().filter(
            product=spec.product, status=SpecificationStatus.APPROVED))
        for old in retired:
            old.status = SpecificationStatus.RETIRED
            old.save(update_fields=["status"])
            audit_record(actor=actor, action="specification.retire", obj=old,
                         before={"status": "approved"}, after={"status": "retired"},
                         reason=f"superseded by version {spec.version}")
        spec.status = SpecificationStatus.APPROVED
        spec.effective_from = effective_from
        spec.approved_at = signature.signed_at
        spec.approved_by = actor
        spec.save(update_fields=["status", "effective_from", "approved_at", "approved_by"])
        audit_record(actor=actor, action="specification.approve", obj=spec,
                     before={"status": "draft"},
                     after={"status": "approved", "effective_from": effective_from,
                            "signature_id": signature.pk, "record_sha256":
                            signature.record_sha256}, reason=comment)
    return spec
