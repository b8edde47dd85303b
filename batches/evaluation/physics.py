"""The physics of a batch: its times as the pure evaluation sees them, its expiry and its
decay table (computed once, on registration)."""

from datetime import datetime

from django.db import transaction

from qc.audit import audit_record
from qc.engine import site_engine
from qc.evaluation.decay_table import decay_table
from qc.evaluation.expiry import compute_expiry
from qc.evaluation.values import BatchTimes, Measurement
from qc.physics.inventory import eos_inventory
from qc.rules import rule_for

from ..models import Batch, Result


def batch_times(batch: Batch):
    return BatchTimes(
        product_nuclide=batch.product.nuclide, eos=batch.eos,
        calibration_time=batch.calibration_time, expiry=batch.expiry,
        activity_at_calibration_bq=batch.activity_bq, volume_ml=batch.volume_ml,
        daughters_separated_at=batch.daughters_separated_at,
        daughters_in_equilibrium=batch.daughters_not_separated,
    )


def measurement(result: Result):
    reference_time = None
    if result.criterion.quantity == "impurity_ratio" and result.batch.source_lot_id:
        reference_time = result.batch.source_lot.reference_time
    return Measurement(
        value=result.value, text=result.value_text, measured_at=result.measured_at,
        method_times={k: datetime.fromisoformat(v) for k, v in result.method_times.items()},
        reference_time=reference_time, censor=result.censor,
        figures=result.figures if result.value is not None else None,
        counting_window=result.counting_window,
    )


def batch_compute_physics(*, batch_id: int) -> Batch:
    """Expiry and decay table. Idempotent: a batch whose expiry is set is left alone."""
    batch = Batch.objects.select_related("product", "source_lot", "specification").get(
        pk=batch_id)
    if batch.expiry is not None:
        return batch
    engine = site_engine()
    rules = [rule_for(c) for c in batch.specification.criteria.all()]
    ratios = {}
    if batch.source_lot_id:
        ratios["Ac-227"] = (batch.source_lot.ac227_ratio_percent, batch.source_lot.reference_time)
    constraint = compute_expiry(eos=batch.eos, shelf_life=batch.product.shelf_life, rules=rules,
                                batch=batch_times(batch), impurity_ratio_at_ref=ratios,
                                engine=engine)
    # The table starts at EOS from the daughters' state the batch records (separated at
    # EOS, grown in since an earlier separation, or in equilibrium).
    eos_activity = batch.activity_bq * engine.decay_factor(
        batch.product.nuclide, -(batch.calibration_time - batch.eos).total_seconds())
    daughters = eos_inventory(engine, batch.product.nuclide,
                              separated_before_eos_s=batch_times(batch).separated_before_eos_s())
    table = decay_table(product_nuclide=batch.product.nuclide, activity_bq=eos_activity,
                        reference_time=batch.eos,
                        until=max(constraint.expiry, batch.calibration_time), step=None,
                        engine=engine, daughters=daughters)
    with transaction.atomic():
        claimed = Batch.objects.filter(pk=batch.pk, expiry__isnull=True).update(
            expiry=constraint.expiry, expiry_reason=constraint.reason[:200], decay_table=table)
        if claimed != 1:
            return Batch.objects.get(pk=batch.pk)
        audit_record(actor=None, action="batch.expiry", obj=batch,
                     after={"expiry": constraint.expiry, "reason": constraint.reason,
                            "data_source": engine.data_source},
                     batch_lot=batch.lot_number)
    batch.refresh_from_db()
    return batch
