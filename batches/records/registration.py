"""Registering a batch, with what its source brings along (a 225Ac lot's certificate values)."""

import math
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from qc.audit import audit_record
from qc.entered import derived_text
from qc.errors import RuleViolation
from qc.roles import Role, has_role
from qc.units import volume_problem

from .. import jobs
from ..models import Batch, Channel, Elution, Result, SourceLot
from ..selectors import specification_in_force
from .checks import require_aware
from .daughters import daughters_state
from .lots import lot_number_problem
from .plausibility import batch_plausibility_errors


def _batch_snapshot(batch: Batch) -> dict[str, Any]:
    return {
        "lot_number": batch.lot_number,
        "product": batch.product.code,
        "specification": f"{batch.product.code} v{batch.specification.version}",
        "elution_id": batch.elution_id,
        "source_lot_id": batch.source_lot_id,
        "eos": batch.eos,
        "calibration_time": batch.calibration_time,
        "activity_bq": batch.activity_bq,
        "volume_ml": batch.volume_ml,
        "daughters_separated_at": batch.daughters_separated_at,
        "daughters_not_separated": batch.daughters_not_separated,
        "status": batch.status,
    }


def batch_register(
    *,
    actor,
    lot_number: str,
    product,
    eos: datetime,
    calibration_time: datetime,
    activity_bq: float,
    volume_ml: float,
    elution: Elution | None = None,
    source_lot: SourceLot | None = None,
    actor_name: str = "",
    channel: str = Channel.WEB,
    daughters_separated_at: datetime | None = None,
    daughters_not_separated: bool = False,
) -> Batch:
    """Register a batch. A person must be a production operator; the synthesis module
    registers over the API with a key whose scope allows it (checked by the API)."""
    if channel == Channel.WEB and not has_role(actor, Role.OPERATOR):
        raise RuleViolation("Only a production operator registers batches.", code="forbidden")
    errors: dict[str, list[str]] = {}
    lot_number = (lot_number or "").strip()
    lot_problem = lot_number_problem(lot_number)
    if lot_problem:
        errors["lot_number"] = [lot_problem]
    elif Batch.objects.filter(lot_number=lot_number).exists():
        errors["lot_number"] = [f"Lot number {lot_number} is already registered; lot numbers "
                                "are unique per site."]
    require_aware(errors, "eos", eos)
    require_aware(errors, "calibration_time", calibration_time)
    if "eos" not in errors and "calibration_time" not in errors and calibration_time < eos:
        errors["calibration_time"] = ["The calibration time is before the end of synthesis; "
                                      "it must be at or after EOS."]
    if activity_bq is None or not math.isfinite(activity_bq) or activity_bq <= 0:
        errors["activity_bq"] = ["Must be a positive number of Bq."]
    if problem := volume_problem(volume_ml):
        errors["volume_ml"] = [problem]
    daughters_separated_at = daughters_state(
        errors, eos=eos, separated_at=daughters_separated_at,
        not_separated=daughters_not_separated, elution=elution)
    if (elution is None) == (source_lot is None):
        errors["source"] = ["Choose exactly one source: a generator elution or a 225Ac lot."]
    elif product is not None:
        wants_lot = product.family == "central_ac225"
        if wants_lot and source_lot is None:
            errors["source"] = ["A central 225Ac product is made from a 225Ac source lot."]
        if not wants_lot and elution is None:
            errors["source"] = ["A generator product is made from a generator elution."]
        if elution is not None and elution.generator.product_nuclide != product.nuclide:
            errors["source"] = [f"This elution gives {elution.generator.product_nuclide}, "
                                f"but {product.name} needs {product.nuclide}."]
        elif elution is not None and (
                timezone.localdate(elution.eluted_at) > elution.generator.expires_on):
            errors["source"] = [f"Generator {elution.generator.serial} expired on "
                                f"{elution.generator.expires_on:%Y-%m-%d}; this elution is "
                                "later and cannot be used for a batch."]
    plausible = not errors
    specification = None
    if product is None:
        errors["product"] = ["Choose a product."]
    elif "eos" not in errors:
        specification = specification_in_force(product=product, at=eos)
        if specification is None:
            errors["product"] = [f"{product.name} has no approved specification in force at "
                                 "this EOS; QA must approve one first."]
    if plausible:
        errors.update(batch_plausibility_errors(
            product=product, eos=eos, calibration_time=calibration_time, activity_bq=activity_bq,
            elution=elution, source_lot=source_lot, now=timezone.now()))
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        batch = Batch(
            lot_number=lot_number, product=product, specification=specification,
            elution=elution, source_lot=source_lot, eos=eos, calibration_time=calibration_time,
            activity_bq=float(activity_bq), volume_ml=float(volume_ml),
            daughters_separated_at=daughters_separated_at,
            daughters_not_separated=bool(daughters_not_separated),
            registered_by=actor, criteria_total=specification.criteria.count(),
        )
        try:
            with transaction.atomic():
                batch.save()
        except IntegrityError:
            raise ValidationError({"lot_number": [
                f"Lot number {lot_number} is already registered."]}) from None
        audit_record(actor=actor, actor_name=actor_name, action="batch.register", obj=batch,
                     after=_batch_snapshot(batch), batch_lot=batch.lot_number)
        transaction.on_commit(lambda: jobs.compute_batch_physics(batch.id))
        if source_lot is not None:
            _record_source_lot_ratios(batch=batch, actor=actor, actor_name=actor_name)
    return batch


def _record_source_lot_ratios(*, batch: Batch, actor, actor_name: str) -> None:
    """The Ac-227/Ac-225 share is not measured on the batch: it is the supplier certificate's
    value at the lot's reference time, recorded with the batch and projected by evaluation."""
    lot = batch.source_lot
    for criterion in batch.specification.criteria.filter(quantity="impurity_ratio",
                                                         impurity_nuclide="Ac-227"):
        result = Result.objects.create(
            batch=batch, criterion=criterion, value=lot.ac227_ratio_percent,
            entered_value=f"{derived_text(lot.ac227_ratio_percent)} %", unit="%",
            entered_number=derived_text(lot.ac227_ratio_percent),
            measured_at=lot.reference_time, recorded_by=actor, channel=Channel.WEB,
        )
        audit_record(actor=actor, actor_name=actor_name, action="result.record", obj=result,
                     after={"test_code": criterion.test_code, "value": result.value,
                            "measured_at": lot.reference_time,
                            "source": f"certificate of 225Ac lot {lot.lot_number}"},
                     batch_lot=batch.lot_number)
        transaction.on_commit(lambda rid=result.id: jobs.evaluate_result(rid))
