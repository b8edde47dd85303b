"""Writes. Each service is one transaction with its audit event; side effects run on commit."""

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from qc.audit import AuditEntry, audit_entry, audit_record, audit_record_many
from qc.bulk_insert import bulk_insert
from qc.engine import site_engine
from qc.errors import RuleViolation
from qc.models import Criterion, Instrument
from qc.roles import Role, has_role
from qc.rows import fetch_one
from qc.rules import rule_for
from qc.units import UnitError, check_physical_range, input_unit_for, to_canonical

from .models import (
    Batch,
    BatchStatus,
    Channel,
    Elution,
    Evaluation,
    QcStatus,
    RawDataFile,
    Result,
    SourceLot,
)
from .selectors import criterion_statuses, specification_in_force

# Results are accepted until the batch is released or rejected; a conditionally released
# batch still awaits its may-release-before-result tests (e.g. sterility).
RESULT_ACCEPTING_STATUSES = (
    BatchStatus.REGISTERED,
    BatchStatus.IN_QC,
    BatchStatus.REVIEWED,
    BatchStatus.CONDITIONALLY_RELEASED,
)


def _require_aware(errors: dict[str, list[str]], field: str, value: datetime | None) -> None:
    if value is None:
        errors.setdefault(field, []).append("This time is required.")
    elif timezone.is_naive(value):
        errors.setdefault(field, []).append(
            "This time has no time zone; give it with its offset, e.g. 2026-11-22T09:30:00+01:00."
        )


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
) -> Batch:
    """Register a batch. A person must be a production operator; the synthesis module
    registers over the API with a key whose scope allows it (checked by the API)."""
    if channel == Channel.WEB and not has_role(actor, Role.OPERATOR):
        raise RuleViolation("Only a production operator registers batches.", code="forbidden")
    errors: dict[str, list[str]] = {}
    lot_number = (lot_number or "").strip()
    if not lot_number:
        errors["lot_number"] = ["A lot number is required."]
    elif Batch.objects.filter(lot_number=lot_number).exists():
        errors["lot_number"] = [f"Lot number {lot_number} is already registered; lot numbers "
                                "are unique per site."]
    _require_aware(errors, "eos", eos)
    _require_aware(errors, "calibration_time", calibration_time)
    if "eos" not in errors and "calibration_time" not in errors and calibration_time < eos:
        errors["calibration_time"] = ["The calibration time is before the end of synthesis; "
                                      "it must be at or after EOS."]
    for field, value, unit in (("activity_bq", activity_bq, "Bq"), ("volume_ml", volume_ml, "mL")):
        if value is None or not math.isfinite(value) or value <= 0:
            errors[field] = [f"Must be a positive number of {unit}."]
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
    specification = None
    if product is None:
        errors["product"] = ["Choose a product."]
    elif "eos" not in errors:
        specification = specification_in_force(product=product, at=eos)
        if specification is None:
            errors["product"] = [f"{product.name} has no approved specification in force at "
                                 "this EOS; QA must approve one first."]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        batch = Batch(
            lot_number=lot_number, product=product, specification=specification,
            elution=elution, source_lot=source_lot, eos=eos, calibration_time=calibration_time,
            activity_bq=float(activity_bq), volume_ml=float(volume_ml),
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
        transaction.on_commit(lambda: _enqueue("compute_batch_physics", batch.id))
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
            entered_value=f"{lot.ac227_ratio_percent} %", unit="%",
            measured_at=lot.reference_time, recorded_by=actor, channel=Channel.WEB,
        )
        audit_record(actor=actor, actor_name=actor_name, action="result.record", obj=result,
                     after={"test_code": criterion.test_code, "value": result.value,
                            "measured_at": lot.reference_time,
                            "source": f"certificate of 225Ac lot {lot.lot_number}"},
                     batch_lot=batch.lot_number)
        transaction.on_commit(lambda rid=result.id: _enqueue("evaluate_result", rid))


def _enqueue(task_name: str, *args) -> None:
    from . import tasks

    getattr(tasks, task_name).delay(*args)


def _validate_value(errors, criterion: Criterion, value, unit: str, value_text: str):
    """Return the value in the canonical unit, or record what is wrong."""
    if criterion.is_text:
        if not (value_text or "").strip():
            errors["value_text"] = [f"{criterion.name} takes a text result: one of "
                                    f"{criterion.text_requirement.replace('|', ', ')}, "
                                    "or what was observed."]
        return None
    if value is None or isinstance(value, bool):
        errors["value"] = [f"{criterion.name} takes a number."]
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors["value"] = [f"{value!r} is not a number."]
        return None
    canonical = input_unit_for(criterion.unit, criterion.quantity)
    try:
        converted = to_canonical(number, unit or canonical, canonical)
        check_physical_range(converted, canonical)
    except UnitError as exc:
        field = "unit" if "unit" in str(exc) and "accepted" in str(exc) else "value"
        errors[field] = [str(exc)[0].upper() + str(exc)[1:] + "."]
        return None
    return converted


def _check_instrument(instrument: Instrument | None, measured_at: datetime) -> None:
    if instrument is None:
        return
    if not instrument.in_service:
        raise RuleViolation(f"Instrument {instrument.serial} is out of service; results from it "
                            "are refused until it is returned to service.",
                            code="instrument_unusable")
    if measured_at.date() > instrument.calibration_due:
        raise RuleViolation(f"Instrument {instrument.serial} was past its calibration due date "
                            f"({instrument.calibration_due}) at the time of measurement; "
                            "recalibrate it and measure again.", code="instrument_unusable")


def _check_recorder(*, actor, batch: Batch, supersedes: Result | None, channel: str) -> None:
    """Results are a QC analyst's (or an instrument's, whose key scopes what it may post).
    Once a batch is released, rejected or flagged, its record is closed: only QA records a
    correction there, as a superseding result with a reason (a failing correction on a
    released batch then flags it as post-release OOS)."""
    if batch.status not in RESULT_ACCEPTING_STATUSES:
        if supersedes is None or not has_role(actor, Role.REVIEWER):
            raise RuleViolation(
                f"Lot {batch.lot_number} is {batch.get_status_display().lower()}: new results "
                "are refused. A correction of a recorded result goes through QA: a QA reviewer "
                "records it as a superseding result with a reason.", code="batch_closed")
        return
    if channel == Channel.WEB and not has_role(actor, Role.ANALYST):
        raise RuleViolation("Only a QC analyst records results and their corrections.",
                            code="forbidden")


def _result_errors(*, batch: Batch, criterion: Criterion, measured_at: datetime, value,
                   unit: str, value_text: str, method_times: dict[str, datetime],
                   supersedes: Result | None, reason: str, now: datetime
                   ) -> tuple[dict[str, list[str]], float | None]:
    """What is wrong with a result before any lock is taken, and its canonical value."""
    errors: dict[str, list[str]] = {}
    if criterion.specification_id != batch.specification_id:
        errors["test_code"] = [f"Test {criterion.test_code} is not in the specification of lot "
                               f"{batch.lot_number} ({batch.product.code} "
                               f"v{batch.specification.version})."]
    _require_aware(errors, "measured_at", measured_at)
    if "measured_at" not in errors:
        if measured_at < batch.eos:
            errors["measured_at"] = [f"Measured before the end of synthesis "
                                     f"({batch.eos.isoformat()}); check the instrument clock."]
        skew = timedelta(seconds=settings.MEASURED_AT_CLOCK_SKEW_S)
        if measured_at > now + skew:
            errors["measured_at"] = ["This time is in the future; check the instrument clock."]
    for name, at in method_times.items():
        _require_aware(errors, name, at)
    canonical_value = _validate_value(errors, criterion, value, unit, value_text)
    if supersedes is not None:
        if supersedes.batch_id != batch.id or supersedes.criterion_id != criterion.id:
            errors["supersedes"] = ["A correction must supersede a result of the same batch "
                                    "and test."]
        if not reason.strip():
            errors["reason"] = ["Say why the result is corrected."]
    return errors, canonical_value


def _check_open_for(locked: Batch, measured_at: datetime) -> None:
    if locked.expiry and measured_at > locked.expiry and locked.status in (
            BatchStatus.REGISTERED, BatchStatus.IN_QC):
        raise RuleViolation(f"Lot {locked.lot_number} expired at {locked.expiry.isoformat()}; "
                            "results measured after expiry are refused.", code="batch_closed")


def _new_result(*, actor, locked: Batch, criterion: Criterion, canonical_value: float | None,
                value, unit: str, value_text: str, measured_at: datetime,
                method_times: dict[str, datetime], instrument: Instrument | None, channel: str,
                raw_data: RawDataFile | None = None, supersedes: Result | None = None,
                reason: str = "") -> Result:
    return Result(
        batch=locked, criterion=criterion, value=canonical_value,
        entered_value=("" if criterion.is_text else f"{value} {unit}".strip()),
        unit=input_unit_for(criterion.unit, criterion.quantity) if not criterion.is_text
        else "",
        value_text=(value_text or "").strip(), measured_at=measured_at,
        method_times={k: v.isoformat() for k, v in method_times.items()},
        instrument=instrument, raw_data=raw_data, recorded_by=actor, channel=channel,
        supersedes=supersedes, reason=reason.strip(),
    )


def _result_entry(result: Result, *, reason: str = "") -> AuditEntry:
    supersedes = result.supersedes
    return audit_entry(
        action="result.supersede" if supersedes else "result.record", obj=result,
        before={"result_id": supersedes.id} if supersedes else None,
        after={"test_code": result.criterion.test_code, "value": result.value,
               "entered": result.entered_value, "text": result.value_text,
               "measured_at": result.measured_at, "channel": result.channel,
               "instrument": result.instrument.serial if result.instrument else None},
        reason=reason, batch_lot=result.batch.lot_number,
    )


def _first_result_entry(locked: Batch) -> AuditEntry:
    """The batch enters QC with its first result (the caller saves the status)."""
    return audit_entry(action="batch.status", obj=locked,
                       before={"status": BatchStatus.REGISTERED},
                       after={"status": BatchStatus.IN_QC}, reason="first result recorded",
                       batch_lot=locked.lot_number)


def result_record(
    *,
    actor,
    batch: Batch,
    criterion: Criterion,
    measured_at: datetime,
    value: float | None = None,
    unit: str = "",
    value_text: str = "",
    method_times: dict[str, datetime] | None = None,
    instrument: Instrument | None = None,
    channel: str = Channel.WEB,
    raw_data: RawDataFile | None = None,
    supersedes: Result | None = None,
    reason: str = "",
    actor_name: str = "",
) -> Result:
    method_times = method_times or {}
    errors, canonical_value = _result_errors(
        batch=batch, criterion=criterion, measured_at=measured_at, value=value, unit=unit,
        value_text=value_text, method_times=method_times, supersedes=supersedes, reason=reason,
        now=timezone.now())
    if errors:
        raise ValidationError(errors)
    _check_instrument(instrument, measured_at)

    # Every refusal is decided before the first write and raised after the block, so the
    # block needs no savepoint of its own inside a caller's transaction (two round trips
    # fewer): it either writes everything or nothing (the batch lock is held until the
    # outermost transaction ends).
    refusal: RuleViolation | None = None
    with transaction.atomic(savepoint=False):
        locked = fetch_one(Batch, id=batch.pk, for_update=True)
        try:
            _check_recorder(actor=actor, batch=locked, supersedes=supersedes, channel=channel)
            _check_open_for(locked, measured_at)
            if supersedes is not None and Result.objects.filter(supersedes=supersedes).exists():
                raise RuleViolation("That result has already been superseded; correct the "
                                    "latest result instead.", code="already_superseded")
        except RuleViolation as exc:
            refusal = exc
        else:
            result = _record_one(
                actor=actor, actor_name=actor_name, locked=locked, criterion=criterion,
                canonical_value=canonical_value, value=value, unit=unit, value_text=value_text,
                measured_at=measured_at, method_times=method_times, instrument=instrument,
                channel=channel, raw_data=raw_data, supersedes=supersedes, reason=reason)
    if refusal is not None:
        raise refusal
    return result


def _record_one(*, actor, actor_name: str, locked: Batch, criterion: Criterion,
                canonical_value: float | None, value, unit: str, value_text: str,
                measured_at: datetime, method_times: dict[str, datetime],
                instrument: Instrument | None, channel: str, raw_data: RawDataFile | None,
                supersedes: Result | None, reason: str) -> Result:
    """The writes of result_record, in its transaction, once nothing refuses them."""
    result = _new_result(
        actor=actor, locked=locked, criterion=criterion, canonical_value=canonical_value,
        value=value, unit=unit, value_text=value_text, measured_at=measured_at,
        method_times=method_times, instrument=instrument, channel=channel,
        raw_data=raw_data, supersedes=supersedes, reason=reason)
    result.save()
    entries = [_result_entry(result, reason=reason)]
    if locked.status == BatchStatus.REGISTERED:
        locked.status = BatchStatus.IN_QC
        locked.save(update_fields=["status"])
        entries.append(_first_result_entry(locked))
    # Last: the chain head is held from here to the commit.
    audit_record_many(actor=actor, actor_name=actor_name, entries=entries)
    transaction.on_commit(lambda: _enqueue("evaluate_result", result.id))
    return result


@dataclass(frozen=True)
class ResultInput:
    """One new result of a bulk recording (the arguments of result_record that apply)."""

    batch: Batch
    criterion: Criterion
    measured_at: datetime
    value: float | None = None
    unit: str = ""
    value_text: str = ""
    method_times: dict[str, datetime] = dataclasses.field(default_factory=dict)
    instrument: Instrument | None = None


class ResultsRefused(Exception):
    """Some items of a bulk recording were refused, so none was stored. `errors` maps an
    item's index to its field errors (a ValidationError), `refusals` to the GMP rule it
    breaks (a RuleViolation); each item has at most one of the two."""

    def __init__(self, *, errors: dict[int, ValidationError],
                 refusals: dict[int, RuleViolation]):
        super().__init__(f"{len(errors)} invalid and {len(refusals)} refused results")
        self.errors = errors
        self.refusals = refusals


# Evaluation messages carry up to this many result ids: a bulk recording queues a few
# messages, not one per result, and a worker still spreads a large recording over several.
EVALUATION_CHUNK = 100


def result_record_many(*, actor, items: Sequence[ResultInput], channel: str = Channel.API,
                       actor_name: str = "") -> list[Result]:
    """Record new results all or nothing: the same checks as result_record for every item
    (every failing item is reported, by index, in ResultsRefused), then one transaction that
    locks the batches once (in id order), inserts the results and chains one audit event per
    result (and per batch entering QC) under one chain-head lock."""
    now = timezone.now()
    errors: dict[int, ValidationError] = {}
    refusals: dict[int, RuleViolation] = {}
    prepared: list[tuple[int, ResultInput, float | None]] = []
    for index, item in enumerate(items):
        item_errors, canonical_value = _result_errors(
            batch=item.batch, criterion=item.criterion, measured_at=item.measured_at,
            value=item.value, unit=item.unit, value_text=item.value_text,
            method_times=item.method_times, supersedes=None, reason="", now=now)
        if item_errors:
            errors[index] = ValidationError(item_errors)
            continue
        try:
            _check_instrument(item.instrument, item.measured_at)
        except RuleViolation as exc:
            refusals[index] = exc
            continue
        prepared.append((index, item, canonical_value))

    # As in result_record: refusals are raised after the block, which writes all or nothing.
    with transaction.atomic(savepoint=False):
        locked = _lock_for_results({item.batch for _, item, _ in prepared})
        results: list[Result] = []
        for index, item, canonical_value in prepared:
            batch = locked[item.batch.pk]
            try:
                _check_recorder(actor=actor, batch=batch, supersedes=None, channel=channel)
                _check_open_for(batch, item.measured_at)
            except RuleViolation as exc:
                refusals[index] = exc
                continue
            results.append(_new_result(
                actor=actor, locked=batch, criterion=item.criterion,
                canonical_value=canonical_value, value=item.value, unit=item.unit,
                value_text=item.value_text, measured_at=item.measured_at,
                method_times=item.method_times, instrument=item.instrument, channel=channel))
        if not (errors or refusals):
            _record_many(actor=actor, actor_name=actor_name, results=results)
    if errors or refusals:
        raise ResultsRefused(errors=dict(sorted(errors.items())),
                             refusals=dict(sorted(refusals.items())))
    return results


def _lock_for_results(batches: set[Batch]) -> dict[int, Batch]:
    """Lock the batches results are recorded on, in id order, and return them as locked.

    Recording results changes a batch only when its first result moves it into QC. So unless
    one of them still looks registered, PostgreSQL takes a shared lock: concurrent recordings
    on the same batches do not wait for each other, while a disposition (which locks the
    batch for update) waits for them and they for it, so no result lands on a batch closed
    meanwhile. A batch never returns to registered, so a batch that does not look registered
    here is not registered under the lock either."""
    ids = sorted(batch.pk for batch in batches)
    exclusive = any(batch.status == BatchStatus.REGISTERED for batch in batches)
    if exclusive or connection.vendor != "postgresql":
        rows = Batch.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    else:
        table = connection.ops.quote_name(Batch._meta.db_table)
        rows = Batch.objects.raw(
            f"SELECT * FROM {table} WHERE id = ANY(%s) ORDER BY id FOR SHARE", [ids])
    return {batch.pk: batch for batch in rows}


def _record_many(*, actor, actor_name: str, results: list[Result]) -> None:
    """The writes of result_record_many, in its transaction, once nothing refuses them."""
    bulk_insert(Result, results)
    entries: list[AuditEntry] = []
    entering_qc: list[Batch] = []
    for result in results:
        entries.append(_result_entry(result))
        batch = result.batch
        if batch.status == BatchStatus.REGISTERED:
            batch.status = BatchStatus.IN_QC
            entering_qc.append(batch)
            entries.append(_first_result_entry(batch))
    if entering_qc:
        Batch.objects.filter(pk__in=[b.pk for b in entering_qc]).update(
            status=BatchStatus.IN_QC)
    audit_record_many(actor=actor, actor_name=actor_name, entries=entries)
    pending = [r.id for r in sorted(results, key=lambda r: (r.batch_id, r.id))]
    for start in range(0, len(pending), EVALUATION_CHUNK):
        chunk = pending[start:start + EVALUATION_CHUNK]
        transaction.on_commit(lambda chunk=chunk: _enqueue("evaluate_results", chunk))


def _batch_times(batch: Batch):
    from qc.evaluation import BatchTimes

    return BatchTimes(
        product_nuclide=batch.product.nuclide, eos=batch.eos,
        calibration_time=batch.calibration_time, expiry=batch.expiry,
        activity_at_calibration_bq=batch.activity_bq, volume_ml=batch.volume_ml,
    )


def _measurement(result: Result):
    from datetime import datetime as _dt

    from qc.evaluation import Measurement

    reference_time = None
    if result.criterion.quantity == "impurity_ratio" and result.batch.source_lot_id:
        reference_time = result.batch.source_lot.reference_time
    return Measurement(
        value=result.value, text=result.value_text, measured_at=result.measured_at,
        method_times={k: _dt.fromisoformat(v) for k, v in result.method_times.items()},
        reference_time=reference_time,
    )


def batch_compute_physics(*, batch_id: int) -> Batch:
    """Expiry and decay table. Idempotent: a batch whose expiry is set is left alone."""
    from qc.evaluation import compute_expiry, decay_table

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
                                batch=_batch_times(batch), impurity_ratio_at_ref=ratios,
                                engine=engine)
    # The product is pure at EOS (daughters were separated); the table starts there.
    eos_activity = batch.activity_bq * engine.decay_factor(
        batch.product.nuclide, -(batch.calibration_time - batch.eos).total_seconds())
    table = decay_table(product_nuclide=batch.product.nuclide, activity_bq=eos_activity,
                        reference_time=batch.eos,
                        until=max(constraint.expiry, batch.calibration_time), step=None,
                        engine=engine)
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


def result_evaluate(*, result_id: int) -> Evaluation:
    """Judge one result. Idempotent: an evaluated result keeps its evaluation."""
    from qc.evaluation import evaluate

    existing = Evaluation.objects.filter(result_id=result_id).first()
    if existing:
        return existing
    result = Result.objects.select_related(
        "criterion", "batch__product", "batch__source_lot").get(pk=result_id)
    batch = result.batch
    if batch.expiry is None and result.criterion.judged_at == "expiry":
        batch = batch_compute_physics(batch_id=batch.id)
        result.batch = batch
    engine = site_engine()
    outcome = evaluate(rule_for(result.criterion), _measurement(result), _batch_times(batch),
                       engine)
    try:
        with transaction.atomic():
            # Lock order: the batch before the audit chain head (see qc.audit).
            Batch.objects.select_for_update().filter(pk=batch.id).exists()
            evaluation = Evaluation.objects.create(
                result=result, verdict=outcome.verdict.value,
                measured_value=outcome.measured_value, projected_value=outcome.projected_value,
                judged_at_time=outcome.judged_at_time, message=outcome.message,
                valid_from=outcome.valid_from, data_source=engine.data_source[:200],
            )
            audit_record(actor=None, action="result.evaluate", obj=evaluation,
                         after={"result_id": result.id, "verdict": evaluation.verdict,
                                "measured": outcome.measured_value,
                                "projected": outcome.projected_value,
                                "judged_at": outcome.judged_at_time,
                                "message": outcome.message},
                         batch_lot=batch.lot_number)
            batch_refresh_qc_status(batch_id=batch.id)
            if evaluation.verdict == "fail":
                from .disposition import batch_flag_post_release_oos

                # In this transaction, so that a failure after release is never left unflagged.
                batch_flag_post_release_oos(batch_id=batch.id, result_id=result.id)
    except IntegrityError:
        return Evaluation.objects.get(result_id=result_id)
    return evaluation


def batch_refresh_qc_status(*, batch_id: int) -> Batch:
    """Recount the batch's criteria from its current results (derived, so safe to repeat)."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().select_related("specification").get(
            pk=batch_id)
        statuses = criterion_statuses(batch=batch)
        verdicts = [s.verdict for s in statuses]
        if "fail" in verdicts:
            qc_status = QcStatus.FAILING
        elif "invalid" in verdicts:
            qc_status = QcStatus.INVALID
        elif verdicts and all(v == "pass" for v in verdicts):
            qc_status = QcStatus.PASSING
        else:
            qc_status = QcStatus.PENDING
        passed = verdicts.count("pass")
        changed = (batch.qc_status, batch.criteria_passed, batch.criteria_total) != (
            qc_status, passed, len(verdicts))
        if changed:
            batch.qc_status, batch.criteria_passed = qc_status, passed
            batch.criteria_total = len(verdicts)
            batch.save(update_fields=["qc_status", "criteria_passed", "criteria_total"])
    return batch
