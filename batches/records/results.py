"""Recording results: one (result_record), many all or nothing (result_record_many), and a
correction (result_correct). Each is one transaction: batch lock, result rows, audit events
(chain head last), evaluation queued on commit."""

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from config.sql import bulk_insert
from qc.audit import AuditEntry, audit_entry, audit_record_many
from qc.entered import EnteredNumber, entered_text
from qc.errors import RuleViolation
from qc.models import Criterion, Instrument
from qc.text import text_problem
from qc.units import input_unit_for

from .. import jobs
from ..lifecycle import lock_batch, lock_batches
from ..models import Batch, BatchStatus, Channel, RawDataFile, Result, Verdict
from .checks import (
    censor_errors,
    check_instrument,
    check_open_for,
    check_recorder,
    result_errors,
    window_errors,
)
from .raw_data import raw_data_store


def _new_result(*, actor, locked: Batch, criterion: Criterion, canonical_value: float | None,
                value, unit: str, value_text: str, measured_at: datetime,
                method_times: dict[str, datetime], instrument: Instrument | None, channel: str,
                raw_data: RawDataFile | None = None, supersedes: Result | None = None,
                reason: str = "", censor: str = "", counting_window: str = "") -> Result:
    # the digits as entered (an EnteredNumber's text) are kept: they are its precision
    number = "" if criterion.is_text or value is None else entered_text(value)
    return Result(
        batch=locked, criterion=criterion, value=canonical_value, censor=censor,
        entered_value=("" if criterion.is_text else f"{censor} {number} {unit}".strip()),
        entered_number=number,
        unit=input_unit_for(criterion.unit, criterion.quantity) if not criterion.is_text
        else "",
        value_text=(value_text or "").strip(), measured_at=measured_at,
        method_times={k: v.isoformat() for k, v in method_times.items()},
        counting_window=counting_window, instrument=instrument, raw_data=raw_data,
        recorded_by=actor, channel=channel,
        supersedes=supersedes, reason=reason.strip(),
    )


def _result_entry(result: Result, *, reason: str = "") -> AuditEntry:
    supersedes = result.supersedes
    after = {"test_code": result.criterion.test_code, "value": result.value,
             "unit": result.unit, "entered": result.entered_value, "text": result.value_text,
             "measured_at": result.measured_at, "channel": result.channel,
             "instrument": result.instrument.serial if result.instrument else None}
    if result.counting_window:
        after["counting_window"] = result.counting_window
    return audit_entry(
        action="result.supersede" if supersedes else "result.record", obj=result,
        before={"result_id": supersedes.id} if supersedes else None, after=after,
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
    raw_data_upload=None,
    supersedes: Result | None = None,
    reason: str = "",
    actor_name: str = "",
    censor: str = "",
    counting_window: str = "",
    batch_locked: bool = False,
) -> Result:
    """Record one result, or a correction superseding `supersedes` (with a reason), in one
    transaction with its audit events; its evaluation is queued on commit. `raw_data_upload`
    is a new raw data file to store and cite (its audit event in the same transaction), or
    cite a stored one with `raw_data`. Refused with a ValidationError (fields) or a
    RuleViolation (GMP rules) before anything is written. `batch_locked`: the caller's
    transaction already holds `batch` locked and read it under the lock
    (lifecycle.lock_batch_by_lot), so it is not locked and read again."""
    method_times = method_times or {}
    errors, canonical_value = result_errors(
        batch=batch, criterion=criterion, measured_at=measured_at, value=value, unit=unit,
        value_text=value_text, method_times=method_times, supersedes=supersedes, reason=reason,
        now=timezone.now())
    errors.update(censor_errors(criterion, censor))
    errors.update(window_errors(criterion, counting_window, method_times))
    if raw_data_upload is not None and (problem := text_problem(
            raw_data_upload.name, label="raw data file name")):
        errors["raw_data"] = [problem + " Rename the file before it is uploaded."]
    if errors:
        raise ValidationError(errors)
    check_instrument(instrument, measured_at, criterion)

    # Every refusal is decided before the first write and raised after the block, so the
    # block needs no savepoint of its own inside a caller's transaction (two round trips
    # fewer): it either writes everything or nothing (the batch lock is held until the
    # outermost transaction ends).
    refusal: RuleViolation | None = None
    if batch_locked and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("batch_locked: the batch lock ends with the transaction that took it")
    with transaction.atomic(savepoint=False):
        locked = batch if batch_locked else lock_batch(batch.pk)
        try:
            check_recorder(actor=actor, batch=locked, supersedes=supersedes, channel=channel)
            check_open_for(locked, measured_at)
            if supersedes is not None and Result.objects.filter(supersedes=supersedes).exists():
                raise RuleViolation("That result has already been superseded; correct the "
                                    "latest result instead.", code="already_superseded")
        except RuleViolation as exc:
            refusal = exc
        else:
            if raw_data_upload is not None:
                raw_data = raw_data_store(upload=raw_data_upload, actor=actor,
                                          actor_name=actor_name, batch_lot=locked.lot_number)
            result = _record_one(
                actor=actor, actor_name=actor_name, locked=locked, criterion=criterion,
                canonical_value=canonical_value, value=value, unit=unit, value_text=value_text,
                measured_at=measured_at, method_times=method_times, instrument=instrument,
                channel=channel, raw_data=raw_data, supersedes=supersedes, reason=reason,
                censor=censor, counting_window=counting_window)
    if refusal is not None:
        raise refusal
    return result


def _record_one(*, actor, actor_name: str, locked: Batch, criterion: Criterion,
                canonical_value: float | None, value, unit: str, value_text: str,
                measured_at: datetime, method_times: dict[str, datetime],
                instrument: Instrument | None, channel: str, raw_data: RawDataFile | None,
                supersedes: Result | None, reason: str, censor: str = "",
                counting_window: str = "") -> Result:
    """The writes of result_record, in its transaction, once nothing refuses them."""
    result = _new_result(
        actor=actor, locked=locked, criterion=criterion, canonical_value=canonical_value,
        value=value, unit=unit, value_text=value_text, measured_at=measured_at,
        method_times=method_times, instrument=instrument, channel=channel,
        raw_data=raw_data, supersedes=supersedes, reason=reason, censor=censor,
        counting_window=counting_window)
    result.save()
    entries = [_result_entry(result, reason=reason)]
    if locked.status == BatchStatus.REGISTERED:
        locked.status = BatchStatus.IN_QC
        locked.save(update_fields=["status"])
        entries.append(_first_result_entry(locked))
    # Last: the chain head is held from here to the commit.
    audit_record_many(actor=actor, actor_name=actor_name, entries=entries)
    transaction.on_commit(lambda: jobs.evaluate_result(result.id))
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
    censor: str = ""
    counting_window: str = ""


class ResultsRefused(Exception):
    """Some items of a bulk recording were refused, so none was stored. `errors` maps an
    item's index to its field errors (a ValidationError), `refusals` to the GMP rule it
    breaks (a RuleViolation); each item has at most one of the two."""

    def __init__(self, *, errors: dict[int, ValidationError],
                 refusals: dict[int, RuleViolation]):
        super().__init__(f"{len(errors)} invalid and {len(refusals)} refused results")
        self.errors = errors
        self.refusals = refusals


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
        item_errors, canonical_value = result_errors(
            batch=item.batch, criterion=item.criterion, measured_at=item.measured_at,
            value=item.value, unit=item.unit, value_text=item.value_text,
            method_times=item.method_times, supersedes=None, reason="", now=now)
        item_errors.update(censor_errors(item.criterion, item.censor))
        item_errors.update(window_errors(item.criterion, item.counting_window,
                                         item.method_times))
        if item_errors:
            errors[index] = ValidationError(item_errors)
            continue
        try:
            check_instrument(item.instrument, item.measured_at, item.criterion)
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
                check_recorder(actor=actor, batch=batch, supersedes=None, channel=channel)
                check_open_for(batch, item.measured_at)
            except RuleViolation as exc:
                refusals[index] = exc
                continue
            results.append(_new_result(
                actor=actor, locked=batch, criterion=item.criterion,
                canonical_value=canonical_value, value=item.value, unit=item.unit,
                value_text=item.value_text, measured_at=item.measured_at,
                method_times=item.method_times, instrument=item.instrument, channel=channel,
                censor=item.censor, counting_window=item.counting_window))
        if not (errors or refusals):
            _record_many(actor=actor, actor_name=actor_name, results=results)
    if errors or refusals:
        raise ResultsRefused(errors=dict(sorted(errors.items())),
                             refusals=dict(sorted(refusals.items())))
    return results


def _lock_for_results(batches: set[Batch]) -> dict[int, Batch]:
    """Lock the batches results are recorded on (lock_batches). Recording results changes a
    batch only when its first result moves it into QC, so unless one of them still looks
    registered a shared lock is enough. A batch never returns to registered, so one that
    does not look registered here is not registered under the lock either."""
    return lock_batches([b.pk for b in batches],
                        shared=not any(b.status == BatchStatus.REGISTERED for b in batches))


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
    transaction.on_commit(lambda: jobs.evaluate_results(pending))


def correction_blockers(result: Result) -> list[str]:
    """Why `result` cannot be corrected, and what would unblock it (empty when it can); the
    batch page shows it beside a disabled Correct."""
    if result.verdict == Verdict.FAIL and not result.is_invalidated:
        return [f"This {result.criterion.name} result failed its specification. A failing "
                "result is investigated, not corrected: QA invalidates it with an assignable "
                "cause (e-signed), then the retest or corrected value is recorded."]
    return []


def result_correct(*, actor, result: Result, reason: str, **new_values) -> Result:
    """A correction: a new result superseding `result`, with a reason (result_record does the
    work). Values not given are carried over from the corrected result."""
    old = (Result.objects.select_related("batch", "criterion", "evaluation", "invalidation",
                                         "instrument", "raw_data").get(pk=result.pk))
    refusals = correction_blockers(old)
    if refusals:
        raise RuleViolation(refusals[0], code="failing_result")
    values: dict[str, Any] = {
        "measured_at": old.measured_at, "instrument": old.instrument, "raw_data": old.raw_data,
        "channel": Channel.WEB,
        "method_times": {k: datetime.fromisoformat(v) for k, v in old.method_times.items()},
        "counting_window": old.counting_window,
    }
    if old.criterion.is_text:
        values["value_text"] = old.value_text
    else:
        values["value"], values["unit"], values["censor"] = old.value, old.unit, old.censor
        if old.entered_number:  # carried over as entered: its digits and unit
            values["value"] = EnteredNumber(old.entered_number)
            values["unit"] = old.as_entered.rpartition(" ")[2]
    values.update(new_values)
    return result_record(actor=actor, batch=old.batch, criterion=old.criterion,
                         supersedes=old, reason=reason, **values)
