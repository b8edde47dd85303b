"""Master data (products, test methods, instruments and their qualification, draft
specifications and their criteria, role groups): every change through one audited service,
whichever screen it comes from (EU GMP Annex 11 cl. 10: changes to the system's
configuration are controlled and recorded)."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from .audit import audit_record
from .errors import RuleViolation
from .roles import Role, has_role
from .text import require_printable, text_errors


def master_data_snapshot(obj: models.Model) -> dict[str, Any]:
    """The record's fields (foreign keys as ids) and many-to-many members (as names)."""
    values: dict[str, Any] = {field.attname: field.value_from_object(obj)
                              for field in obj._meta.concrete_fields}
    if obj.pk is not None:
        for field in obj._meta.many_to_many:
            values[field.name] = sorted(str(item) for item in getattr(obj, field.name).all())
    return values


def stored_text_errors(obj: models.Model) -> dict[str, list[str]]:
    """Characters that would not print as typed in `obj`'s free-text fields (qc.text): a
    TextField is a text area (line breaks kept), every other character field one line."""
    lines: dict[str, str] = {}
    areas: dict[str, str] = {}
    labels: dict[str, str] = {}
    for field in obj._meta.concrete_fields:
        value = field.value_from_object(obj)
        if not isinstance(field, models.CharField | models.TextField) or not isinstance(
                value, str):
            continue
        (areas if isinstance(field, models.TextField) else lines)[field.name] = value
        labels[field.name] = str(field.verbose_name)
    return text_errors(lines=lines, areas=areas, labels=labels)


def _label(obj: models.Model) -> str:
    return obj._meta.model_name


def _action(obj: models.Model, before: dict[str, Any] | None, after: dict[str, Any]) -> str:
    if before is None:
        return f"{_label(obj)}.create"
    if "in_service" in after and before.get("in_service") != after["in_service"]:
        return (f"{_label(obj)}.return_to_service" if after["in_service"]
                else f"{_label(obj)}.take_out_of_service")
    if "calibration_due" in after and before.get("calibration_due") != after["calibration_due"]:
        return f"{_label(obj)}.qualification"
    return f"{_label(obj)}.change"


def require_master_data_admin(actor) -> None:
    if actor is None:
        return
    if not (has_role(actor, Role.ADMIN) or (actor.is_active and actor.is_superuser)):
        raise RuleViolation("Only an administrator changes master data.", code="forbidden")


def master_data_save(*, actor, obj: models.Model,
                     m2m: Mapping[str, Iterable[models.Model]] | None = None,
                     reason: str = "", batch_lot: str = "", actor_name: str = ""
                     ) -> models.Model:
    """Create `obj` (unsaved) or store the changes made to it, and set its many-to-many
    fields from `m2m`, with an audit event holding the changed fields before and after:
    <model>.create / .change, and for instruments .take_out_of_service,
    .return_to_service and .qualification (calibration due date)."""
    require_master_data_admin(actor)
    if errors := stored_text_errors(obj):
        raise ValidationError(errors)
    require_printable(areas={"reason": reason})
    model = type(obj)
    with transaction.atomic():
        stored = None
        if obj.pk is not None:
            stored = model._base_manager.select_for_update().filter(pk=obj.pk).first()
        before = master_data_snapshot(stored) if stored is not None else None
        obj.save()
        for name, members in (m2m or {}).items():
            getattr(obj, name).set(members)
        after = master_data_snapshot(obj)
        if before == after:
            return obj
        if before is not None:
            changed = [key for key in after if before.get(key) != after[key]]
            before = {key: before.get(key) for key in changed}
            after = {key: after[key] for key in changed}
        audit_record(actor=actor, actor_name=actor_name, action=_action(obj, before, after),
                     obj=obj, object_type=obj._meta.label_lower, before=before, after=after,
                     reason=reason, batch_lot=batch_lot)
    return obj


def master_data_delete(*, actor, obj: models.Model, reason: str = "",
                       actor_name: str = "") -> None:
    """Delete a master-data record (only what nothing refers to: the database protects the
    rest), recording what it held."""
    require_master_data_admin(actor)
    require_printable(areas={"reason": reason})
    with transaction.atomic():
        before = master_data_snapshot(obj)
        pk = obj.pk
        obj.delete()
        audit_record(actor=actor, actor_name=actor_name, action=f"{_label(obj)}.delete",
                     object_type=obj._meta.label_lower, object_id=pk, before=before,
                     reason=reason)
