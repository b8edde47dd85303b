"""Recording stability results: one pull of a lot's study sample at a protocol time point,
tested for one criterion. Append-only and audited in the same transaction; judged with the
same pure evaluation as every result (validity waits from the decay chain); a failure raises
a stability alert and, on a released lot, the post-release OOS path."""

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from qc.audit import audit_record
from qc.engine import site_engine
from qc.errors import RuleViolation
from qc.evaluation.values import BatchTimes, Measurement, Verdict
from qc.evaluation.verdicts import evaluate
from qc.models import Instrument
from qc.physics.radiolysis import product_dose_gy
from qc.roles import Role, has_role
from qc.rules import rule_for
from qc.stability.models import ProtocolStatus, StabilityProtocol, StabilityTimePoint
from qc.stability.plan import protocol_plan
from qc.text import require_printable, text_errors

from ..lifecycle import RELEASED_STATUSES, lock_batch
from ..models import Batch, BatchStatus, Channel
from ..records.checks import check_instrument, result_errors, window_errors
from .models import StabilityAlert, StabilityResult
from .pulls import PullRefused, classify_pull
from .selectors import batch_eos_concentration


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:g} h"


def _time_point(protocol: StabilityProtocol, after_eos: timedelta) -> StabilityTimePoint:
    points = list(protocol.time_points.order_by("position"))
    for point in points:
        if point.after_eos == after_eos:
            return point
    raise ValidationError({"time_point": [
        f"Protocol v{protocol.version} of {protocol.product.code} has no time point at "
        f"{_hours(after_eos)}; its time points are "
        f"{', '.join(_hours(p.after_eos) for p in points)} after EOS."]})


def _criterion(protocol: StabilityProtocol, test_code: str):
    tested = {sc.criterion.test_code: sc.criterion
              for sc in protocol.criteria.select_related("criterion")}
    if test_code not in tested:
        raise ValidationError({"test_code": [
            f"Protocol v{protocol.version} of {protocol.product.code} does not test "
            f"{test_code}; it tests {', '.join(tested)}."]})
    return tested[test_code]


def _check_planned(protocol: StabilityProtocol, point: StabilityTimePoint, criterion) -> None:
    """A result only where the protocol's plan tests that criterion at that time point."""
    plan = protocol_plan(protocol)
    if plan.is_planned(point, criterion):
        return
    at = plan.tests_at(point)
    when = plan.points_for(criterion)
    raise ValidationError({"test_code": [
        f"Protocol v{protocol.version} of {protocol.product.code} does not test "
        f"{criterion.test_code} at T+{_hours(point.after_eos)}: it plans "
        f"{', '.join(c.test_code for c in at) or 'nothing'} there, and {criterion.test_code} "
        f"at T+{', T+'.join(_hours(p.after_eos) for p in when)}."]})


def _check_study(batch: Batch, protocol: StabilityProtocol) -> None:
    if protocol.status != ProtocolStatus.APPROVED:
        raise RuleViolation(f"Stability protocol v{protocol.version} is {protocol.status}; "
                            "results are recorded only against an approved protocol.",
                            code="invalid_state")
    if batch.specification_id != protocol.specification_id:
        raise RuleViolation(
            f"Lot {batch.lot_number} was made under {batch.product.code} "
            f"v{batch.specification.version}; protocol v{protocol.version} studies "
            f"{protocol.product.code} v{protocol.specification.version}.",
            code="wrong_protocol")


def _check_recorder(actor, channel: str) -> None:
    if channel == Channel.WEB and not has_role(actor, Role.ANALYST):
        raise RuleViolation("Only a QC analyst records stability results.", code="forbidden")


def _judge(batch: Batch, criterion, *, value: float | None, value_text: str,
           measured_at: datetime, method_times: dict[str, datetime], engine,
           counting_window: str = ""):
    outcome = evaluate(
        rule_for(criterion),
        Measurement(value=value, text=value_text, measured_at=measured_at,
                    method_times=method_times, counting_window=counting_window),
        BatchTimes(product_nuclide=batch.product.nuclide, eos=batch.eos,
                   calibration_time=batch.calibration_time, expiry=batch.expiry,
                   activity_at_calibration_bq=batch.activity_bq, volume_ml=batch.volume_ml,
                   daughters_separated_at=batch.daughters_separated_at,
                   daughters_in_equilibrium=batch.daughters_not_separated),
        engine)
    if outcome.verdict == Verdict.INVALID:
        raise RuleViolation(outcome.message, code="measured_too_early")
    return outcome


def _flag_post_release(locked: Batch, result: StabilityResult, message: str) -> None:
    """A retained sample of a released lot failed: the lot is flagged for recall, as when
    any result fails after release (batches' post-release OOS path)."""
    before = locked.status
    locked.status = BatchStatus.POST_RELEASE_OOS
    locked.save(update_fields=["status"])
    audit_record(actor=None, action="batch.post_release_oos", obj=locked,
                 before={"status": before},
                 after={"status": BatchStatus.POST_RELEASE_OOS,
                        "stability_result_id": result.pk,
                        "test_code": result.criterion.test_code},
                 reason=message, batch_lot=locked.lot_number)


def _snapshot(result: StabilityResult) -> dict[str, Any]:
    return {"protocol": result.protocol.version, "time_point_s":
            result.time_point.after_eos.total_seconds(),
            "test_code": result.criterion.test_code, "value": result.value,
            "entered": result.entered_value, "text": result.value_text,
            "measured_at": result.measured_at, "after_eos_s": result.after_eos_s,
            "deviation_s": result.deviation_s, "verdict": result.verdict,
            "dose_gy": result.dose_gy, "channel": result.channel,
            "instrument": result.instrument.serial if result.instrument else None}


def stability_result_record(
    *, actor, batch: Batch, protocol: StabilityProtocol, time_point_after_eos: timedelta,
    test_code: str, measured_at: datetime, value: float | None = None, unit: str = "",
    value_text: str = "", method_times: dict[str, datetime] | None = None,
    instrument: Instrument | None = None, channel: str = Channel.WEB,
    supersedes: StabilityResult | None = None, reason: str = "", actor_name: str = "",
    counting_window: str = "",
) -> StabilityResult:
    """Record one stability result. Refused: a time point or test the protocol lacks, a pull
    more than DEVIATION_FACTOR x its tolerance away, a count before its validity wait."""
    method_times = method_times or {}
    _check_recorder(actor, channel)
    _check_study(batch, protocol)
    point = _time_point(protocol, time_point_after_eos)
    criterion = _criterion(protocol, test_code)
    _check_planned(protocol, point, criterion)
    # The checks of every result: a test of the lot's specification, an aware time after
    # EOS and not in the future, method times between EOS and the measurement, the value.
    errors, canonical = result_errors(
        batch=batch, criterion=criterion, measured_at=measured_at, value=value, unit=unit,
        value_text=value_text, method_times=method_times, supersedes=None, reason="",
        now=timezone.now())
    errors.update(window_errors(criterion, counting_window, method_times))
    if supersedes is not None:
        if (supersedes.batch_id, supersedes.time_point_id, supersedes.criterion_id) != (
                batch.pk, point.pk, criterion.pk):
            errors["supersedes"] = ["A correction supersedes a result of the same lot, time "
                                    "point and test."]
        if not reason.strip():
            errors["reason"] = ["Say why the result is corrected."]
    errors.update(text_errors(areas={"reason": reason}))
    if errors:
        raise ValidationError(errors)
    check_instrument(instrument, measured_at)
    after_eos_s = (measured_at - batch.eos).total_seconds()
    try:
        pull = classify_pull(nominal_s=point.after_eos.total_seconds(),
                             tolerance_s=point.tolerance.total_seconds(), actual_s=after_eos_s)
    except PullRefused as exc:
        raise ValidationError({"measured_at": [str(exc)]}) from None
    engine = site_engine()
    outcome = _judge(batch, criterion, value=canonical, value_text=value_text,
                     measured_at=measured_at, method_times=method_times, engine=engine,
                     counting_window=counting_window)
    dose = float(product_dose_gy(engine, batch.product.nuclide,
                                 batch_eos_concentration(batch, engine),
                                 [after_eos_s])["total"][0])
    with transaction.atomic():
        locked = lock_batch(batch.pk)
        if supersedes is not None and StabilityResult.objects.filter(
                supersedes=supersedes).exists():
            raise RuleViolation("That result has already been superseded; correct the latest "
                                "result instead.", code="already_superseded")
        result = StabilityResult.objects.create(
            batch=locked, protocol=protocol, time_point=point, criterion=criterion,
            value=canonical, entered_value="" if criterion.is_text else f"{value} {unit}".strip(),
            unit="" if criterion.is_text else criterion.unit, value_text=value_text.strip(),
            measured_at=measured_at, after_eos_s=after_eos_s, deviation_s=pull.deviation_s,
            verdict=outcome.verdict.value, dose_gy=dose, instrument=instrument,
            recorded_by=actor, channel=channel, supersedes=supersedes, reason=reason.strip())
        audit_record(actor=actor, actor_name=actor_name,
                     action="stability.supersede" if supersedes else "stability.record",
                     obj=result, before={"stability_result_id": supersedes.pk}
                     if supersedes else None, after=_snapshot(result),
                     reason=reason or outcome.message, batch_lot=locked.lot_number)
        if pull.deviation_s is not None:
            audit_record(actor=actor, actor_name=actor_name, action="stability.pull_deviation",
                         obj=result, after={"nominal_s": point.after_eos.total_seconds(),
                                            "tolerance_s": point.tolerance.total_seconds(),
                                            "difference_s": pull.deviation_s},
                         reason="pulled outside its tolerance", batch_lot=locked.lot_number)
        if outcome.verdict == Verdict.FAIL:
            message = (f"Stability {criterion.name} of lot {locked.lot_number} at "
                       f"T+{_hours(point.after_eos)} failed: {outcome.message}")
            alert = StabilityAlert.objects.create(result=result, batch=locked, message=message)
            audit_record(actor=None, action="stability.alert", obj=alert,
                         after={"stability_result_id": result.pk, "message": message},
                         batch_lot=locked.lot_number)
            if locked.status in RELEASED_STATUSES:
                _flag_post_release(locked, result, message)
    return result


def product_shelf_life_approve(*, actor, password: str, product, shelf_life: timedelta,
                               comment: str = ""):
    """QA or a QP approves the product's shelf life by e-signature; refused when it exceeds
    what the product's stability data support (selectors.shelf_life_check)."""
    from qc.models import Product
    from qc.signatures import check_signer, signature_apply

    from .selectors import shelf_life_check

    if not (has_role(actor, Role.QP) or has_role(actor, Role.REVIEWER)):
        raise RuleViolation("Only QA or a Qualified Person approves a shelf life.",
                            code="forbidden")
    if shelf_life <= timedelta(0):
        raise ValidationError({"shelf_life": ["A shelf life is a duration after EOS > 0."]})
    require_printable(areas={"comment": comment})
    shelf_life_check(product=product, shelf_life=shelf_life)
    check_signer(user=actor, password=password, meaning="approved", object_type="qc.product",
                 object_id=product.pk)
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        before = locked.shelf_life
        record = {"product": locked.code, "shelf_life_s": shelf_life.total_seconds()}
        signature = signature_apply(user=actor, meaning="approved", object_type="qc.product",
                                    object_id=locked.pk, record=record, comment=comment)
        locked.shelf_life = shelf_life
        locked.save(update_fields=["shelf_life"])
        audit_record(actor=actor, action="product.shelf_life_approve", obj=locked,
                     before={"shelf_life_s": before.total_seconds()},
                     after={**record, "signature_id": signature.pk}, reason=comment)
    return locked
