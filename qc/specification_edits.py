"""Editing a draft specification's criteria. An approved (or retired) version is immutable:
every edit here refuses it, and a change makes a new draft version instead."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .audit import audit_record
from .errors import RuleViolation
from .models import Criterion, Specification, SpecificationStatus, TestMethod
from .roles import Role, has_role
from .services import CRITERION_FIELDS, criterion_text_errors
from .specification_physics import check_criterion_physics


def _criterion_values(criterion: Criterion) -> dict[str, Any]:
    return {**{f: getattr(criterion, f) for f in CRITERION_FIELDS},
            "method": criterion.method.code if criterion.method else None}


def _require_author(actor) -> None:
    if not (has_role(actor, Role.REVIEWER) or has_role(actor, Role.QP)):
        raise RuleViolation("Only QA or a Qualified Person edits a specification.",
                            code="forbidden")


def _locked_draft(specification: Specification) -> Specification:
    spec = Specification.objects.select_for_update().select_related("product").get(
        pk=specification.pk)
    if spec.status != SpecificationStatus.DRAFT:
        raise RuleViolation(
            f"{spec.product.code} version {spec.version} is {spec.get_status_display().lower()} "
            "and cannot change; draft a new version instead.", code="spec_locked")
    return spec


def _apply(criterion: Criterion, values: dict[str, Any]) -> None:
    values = dict(values)
    if "method" in values:
        code = values.pop("method")
        criterion.method = TestMethod.objects.get(code=code) if code else None
    unknown = set(values) - set(CRITERION_FIELDS)
    if unknown:
        raise ValueError(f"not criterion fields: {', '.join(sorted(unknown))}")
    if errors := criterion_text_errors(values):
        raise ValidationError(errors)
    for field, value in values.items():
        setattr(criterion, field, value)
    try:
        criterion.full_clean(exclude=["specification"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    check_criterion_physics(criterion, criterion.specification.product)


def criterion_add(*, actor, specification: Specification, values: dict[str, Any]) -> Criterion:
    _require_author(actor)
    with transaction.atomic():
        spec = _locked_draft(specification)
        criterion = Criterion(specification=spec)
        if "position" not in values:
            last = spec.criteria.order_by("-position").values_list("position", flat=True).first()
            values = {**values, "position": (last or 0) + 1}
        _apply(criterion, values)
        try:
            with transaction.atomic():
                criterion.save()
        except IntegrityError:
            raise ValidationError({"test_code": [
                f"Test code {criterion.test_code} is already in this version."]}) from None
        audit_record(actor=actor, action="specification.criterion_add", obj=criterion,
                     after=_criterion_values(criterion),
                     reason=f"{spec.product.code} v{spec.version} (draft)")
    return criterion


def criterion_update(*, actor, criterion: Criterion, values: dict[str, Any]) -> Criterion:
    _require_author(actor)
    with transaction.atomic():
        _locked_draft(criterion.specification)
        locked = Criterion.objects.select_for_update(of=("self",)).select_related("method").get(
            pk=criterion.pk)
        before = _criterion_values(locked)
        _apply(locked, values)
        after = _criterion_values(locked)
        changed = {k: after[k] for k in after if after[k] != before[k]}
        if not changed:
            return locked
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise ValidationError({"test_code": [
                f"Test code {locked.test_code} is already in this version."]}) from None
        audit_record(actor=actor, action="specification.criterion_change", obj=locked,
                     before={k: before[k] for k in changed}, after=changed,
                     reason=f"{locked.specification.product.code} "
                     f"v{locked.specification.version} (draft)")
    return locked


def criterion_remove(*, actor, criterion: Criterion) -> None:
    _require_author(actor)
    with transaction.atomic():
        spec = _locked_draft(criterion.specification)
        locked = Criterion.objects.select_for_update(of=("self",)).select_related("method").get(
            pk=criterion.pk)
        before = _criterion_values(locked)
        object_id = locked.pk
        locked.delete()
        audit_record(actor=actor, action="specification.criterion_remove",
                     object_type="qc.criterion", object_id=object_id, before=before,
                     reason=f"{spec.product.code} v{spec.version} (draft)")


def previous_version(specification: Specification) -> Specification | None:
    return (Specification.objects.filter(product_id=specification.product_id,
                                         version__lt=specification.version)
            .order_by("-version").first())


def criteria_diff(older: Specification | None, newer: Specification) -> list[dict[str, Any]]:
    """What changed between two versions, criterion by criterion (matched by test code):
    [{"test_code", "name", "change": added|removed|changed, "fields": [(field, old, new)]}]."""
    def by_code(spec):
        if spec is None:
            return {}
        return {c.test_code: c for c in spec.criteria.select_related("method")}

    old, new = by_code(older), by_code(newer)
    labels = {f.name: str(f.verbose_name) for f in Criterion._meta.get_fields()
              if hasattr(f, "verbose_name")}
    rows = []
    for code in sorted(set(old) | set(new), key=lambda c: (
            (new.get(c) or old.get(c)).position, c)):
        before, after = old.get(code), new.get(code)
        if before is None:
            rows.append({"test_code": code, "name": after.name, "change": "added", "fields": []})
        elif after is None:
            rows.append({"test_code": code, "name": before.name, "change": "removed",
                         "fields": []})
        else:
            b, a = _criterion_values(before), _criterion_values(after)
            fields = [(labels.get(k, k), b[k], a[k]) for k in a
                      if a[k] != b[k] and k != "position"]
            if fields:
                rows.append({"test_code": code, "name": after.name, "change": "changed",
                             "fields": fields})
    return rows
