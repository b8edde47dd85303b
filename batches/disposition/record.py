"""What a signature on a batch covers: the canonical batch record (identity, source, times,
specification, every result with its evaluation), the record of an invalidation, and the
check that a signed record still hashes to what was signed."""

from typing import Any

from qc.models import Specification
from qc.services import SPECIFICATION_TYPE, specification_record
from qc.signatures import record_hash

from ..models import Batch, Result, ResultInvalidation

BATCH_TYPE = "batches.batch"
RESULT_TYPE = "batches.result"
RECORD_FORMAT = 1


def _source(batch: Batch) -> dict[str, Any]:
    if batch.source_lot_id:
        lot = batch.source_lot
        return {"source_lot": lot.lot_number, "supplier": lot.supplier, "route": lot.route,
                "activity_bq": lot.activity_bq, "reference_time": lot.reference_time,
                "ac227_ratio_percent": lot.ac227_ratio_percent}
    elution = batch.elution
    return {"generator": elution.generator.serial, "eluted_at": elution.eluted_at,
            "eluate_activity_bq": elution.activity_bq}


def _evaluation_entry(result: Result, as_of=None) -> dict[str, Any] | None:
    evaluation = getattr(result, "evaluation", None)
    if evaluation is None or (as_of is not None and evaluation.evaluated_at > as_of):
        return None
    return {"verdict": evaluation.verdict, "measured_value": evaluation.measured_value,
            "projected_value": evaluation.projected_value,
            "judged_at_time": evaluation.judged_at_time, "message": evaluation.message,
            "valid_from": evaluation.valid_from, "data_source": evaluation.data_source,
            "evaluated_at": evaluation.evaluated_at}


def _result_entry(result: Result, *, with_invalidation: bool = True, as_of=None
                  ) -> dict[str, Any]:
    entry = {
        "id": result.pk, "test_code": result.criterion.test_code, "value": result.value,
        "entered_value": result.entered_value, "unit": result.unit,
        "value_text": result.value_text, "measured_at": result.measured_at,
        "method_times": result.method_times,
        "instrument": result.instrument.serial if result.instrument_id else None,
        "raw_data_sha256": result.raw_data.sha256 if result.raw_data_id else None,
        "recorded_by": result.recorded_by.get_username(), "recorded_at": result.recorded_at,
        "channel": result.channel, "supersedes": result.supersedes_id, "reason": result.reason,
        "evaluation": _evaluation_entry(result, as_of),
    }
    if with_invalidation:
        invalidation = getattr(result, "invalidation", None)
        if invalidation is not None and as_of is not None and invalidation.created_at > as_of:
            invalidation = None
        entry["invalidation"] = None if invalidation is None else {
            "cause": invalidation.cause, "signature_id": invalidation.signature_id,
            "created_at": invalidation.created_at}
    return entry


def _results_for_record(batch_id: int):
    return (Result.objects.filter(batch_id=batch_id)
            .select_related("criterion", "evaluation", "invalidation", "instrument", "raw_data",
                            "recorded_by")
            .order_by("id"))


def batch_record(batch: Batch, *, as_of=None) -> dict:
    """The canonical batch record that a batch signature covers: identity, source, times,
    the specification, and every result (superseded and invalidated ones too) with its
    evaluation. Read fresh from the database. The status is not part of it: a signature
    binds what was judged, and the status is what the signatures decided.

    `as_of` gives the record as it stood then: what a signature made at that time covered.
    Results, evaluations and invalidations added later are a later record, not a change."""
    return batch_records(batch.pk, [as_of])[0]


def batch_records(batch_id: int, moments: list) -> list[dict]:
    """batch_record as of each of `moments` (None: now), the batch and its results read once
    for all of them (a page checks every signature on a batch)."""
    batch = Batch.objects.select_related(
        "product", "specification__product", "source_lot", "elution__generator",
        "registered_by").get(pk=batch_id)
    head = {
        "format": RECORD_FORMAT,
        "batch": {
            "id": batch.pk, "lot_number": batch.lot_number, "product": batch.product.code,
            "product_name": batch.product.name, "nuclide": batch.product.nuclide,
            "source": _source(batch), "eos": batch.eos,
            "calibration_time": batch.calibration_time, "expiry": batch.expiry,
            "expiry_reason": batch.expiry_reason, "activity_bq": batch.activity_bq,
            "volume_ml": batch.volume_ml, "registered_by": batch.registered_by.get_username(),
        },
        "specification": specification_record(batch.specification),
    }
    results = list(_results_for_record(batch.pk))
    return [{**head, "results": [_result_entry(r, as_of=as_of) for r in results
                                 if as_of is None or r.recorded_at <= as_of]}
            for as_of in moments]


def invalidation_record(result: Result, cause: str) -> dict[str, Any]:
    """What QA signs when invalidating: the result as it stood and the assignable cause."""
    return {"format": RECORD_FORMAT, "lot_number": result.batch.lot_number,
            "result": _result_entry(result, with_invalidation=False), "cause": cause.strip()}


def signature_integrity(signature) -> bool:
    """Does the record as it stood at signing still hash to what was signed? False when it
    was changed behind the application's back (append-only rows edited with raw SQL), or is
    gone. Results recorded since are a later record and leave the signature intact."""
    try:
        if signature.object_type == BATCH_TYPE:
            record = batch_record(Batch(pk=int(signature.object_id)), as_of=signature.signed_at)
        elif signature.object_type == RESULT_TYPE:
            invalidation = ResultInvalidation.objects.get(signature_id=signature.pk)
            result = Result.objects.select_related(
                "batch", "criterion", "evaluation", "instrument", "raw_data",
                "recorded_by").get(pk=invalidation.result_id)
            record = invalidation_record(result, invalidation.cause)
        elif signature.object_type == SPECIFICATION_TYPE:
            record = specification_record(Specification.objects.get(pk=int(signature.object_id)))
        else:
            raise ValueError(f"no record is known for signatures of {signature.object_type}")
    except (Batch.DoesNotExist, ResultInvalidation.DoesNotExist, Result.DoesNotExist,
            Specification.DoesNotExist):
        return False
    return record_hash(record) == signature.record_sha256


def signatures_integrity(signatures: list) -> list[bool]:
    """signature_integrity of each signature, in order; a batch's record is read once for
    all the signatures on it."""
    on_batches: dict[int, list] = {}
    for signature in signatures:
        if signature.object_type == BATCH_TYPE:
            on_batches.setdefault(int(signature.object_id), []).append(signature)
    intact: dict[int, bool] = {}
    for batch_id, signed in on_batches.items():
        try:
            records = batch_records(batch_id, [s.signed_at for s in signed])
        except Batch.DoesNotExist:
            records = [None] * len(signed)
        for signature, record in zip(signed, records, strict=True):
            intact[signature.pk] = (record is not None
                                    and record_hash(record) == signature.record_sha256)
    return [intact[s.pk] if s.pk in intact else signature_integrity(s) for s in signatures]
