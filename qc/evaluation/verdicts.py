"""Judging one measurement against one criterion for one batch: text criteria by the accepted
words, numbers projected to the judged time by the decay engine and compared with the limits.
Every verdict carries a message a person can act on."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from qc.formatting import (
    MESSAGE,
    bound_text,
    compact_value_text,
    limit_text,
    measured_text,
    number,
    utc_text,
)
from qc.physics.decay import DecayEngine
from qc.physics.nuclides import normalise_nuclide
from qc.physics.shares import activity_share_percent

from .censored import compare_censored
from .daughters import calibrator_correction
from .validity import check_expiry_measurement, check_validity
from .values import (
    BatchTimes,
    Measurement,
    Outcome,
    Rule,
    Verdict,
    check_aware,
    check_rule,
    seconds,
)


def evaluate(
    rule: Rule, measurement: Measurement | None, batch: BatchTimes, engine: DecayEngine
) -> Outcome:
    """Judge one measurement against one rule for one batch."""
    check_rule(rule)
    check_aware(batch.eos, batch.calibration_time, batch.expiry)
    if measurement is None:
        return _pending(rule, batch)
    check_aware(measurement.measured_at, measurement.reference_time)
    check_aware(*measurement.method_times.values())

    judged_at_time = _judged_at_time(rule, batch, measurement.measured_at)
    refusal, valid_from = check_validity(rule, measurement, batch, engine)
    if not refusal:
        refusal, at_expiry = check_expiry_measurement(rule, measurement, batch)
        valid_from = max(filter(None, (valid_from, at_expiry)), default=None)
    if refusal:
        return Outcome(
            Verdict.INVALID, measurement.value, None, judged_at_time, refusal, valid_from
        )

    if rule.text_requirement:
        verdict, message = _judge_text(rule, measurement.text)
        return Outcome(verdict, measurement.value, None, judged_at_time, message, valid_from)

    if measurement.value is None or not math.isfinite(measurement.value):
        message = f"{rule.name}: no numeric result was recorded"
        return Outcome(Verdict.INVALID, measurement.value, None, judged_at_time, message)

    judged, context = _project(rule, measurement, batch, engine, judged_at_time)
    if measurement.censor:
        verdict, comparison = compare_censored(rule, judged, measurement.censor)
        shown = f"{measurement.censor} {_judged_text(judged, rule)}"
    else:
        verdict, comparison = _compare(rule, judged)
        shown = _judged_text(judged, rule)
    message = f"{rule.name} {shown}{context.head} {comparison}"
    message += context.tail
    return Outcome(verdict, measurement.value, judged, judged_at_time, message, valid_from)


def _pending(rule: Rule, batch: BatchTimes) -> Outcome:
    if rule.release_before_result:
        message = f"{rule.name}: no result yet; release may proceed before the result"
    else:
        message = f"{rule.name}: no result yet; release must wait for this result"
    when = batch.expiry if rule.judged_at == "expiry" and batch.expiry else batch.calibration_time
    return Outcome(Verdict.PENDING, None, None, when, message)


def _judged_at_time(rule: Rule, batch: BatchTimes, measured_at: datetime) -> datetime:
    if rule.judged_at == "measured":
        return measured_at
    if rule.judged_at == "calibration":
        return batch.calibration_time
    if batch.expiry is None:
        raise ValueError("expiry unknown; compute the batch expiry before judging at expiry")
    return batch.expiry


# --- text criteria --------------------------------------------------------------------------


def _judge_text(rule: Rule, text: str) -> tuple[Verdict, str]:
    accepted = [a.strip() for a in rule.text_requirement.split("|") if a.strip()]
    result = (text or "").strip()
    if not result:
        return Verdict.INVALID, f"{rule.name}: no result text was recorded"
    if result.casefold() in {a.casefold() for a in accepted}:
        return Verdict.PASS, f"{rule.name} '{result}' is an accepted result"
    return (
        Verdict.FAIL,
        f"{rule.name} '{result}' is not an accepted result ({' | '.join(accepted)})",
    )


# --- projection to the judged time ----------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    head: str = ""  # after the judged value: where it was judged
    tail: str = ""  # after the verdict: what was measured


def _project(
    rule: Rule, measurement: Measurement, batch: BatchTimes, engine: DecayEngine, at: datetime
) -> tuple[float, _Context]:
    value = float(measurement.value)  # type: ignore[arg-type]  # checked by the caller
    measured_at = measurement.measured_at
    product = normalise_nuclide(batch.product_nuclide)
    where = f" at {rule.judged_at} ({utc_text(at)})" if rule.judged_at != "measured" else ""
    if rule.judged_at == "expiry" and rule.quantity != "plain":
        where = f" projected to expiry ({utc_text(at)})"

    if rule.quantity == "plain":
        return value, _Context(head=where)

    if rule.quantity in ("activity", "activity_concentration"):
        factor, correction = 1.0, ""
        if rule.validity == "daughter_correction":
            factor, correction = calibrator_correction(rule, measurement, batch, engine)
        corrected = value * factor * engine.decay_factor(product, seconds(at - measured_at))
        unit = "Bq" if rule.quantity == "activity" else rule.unit
        tail = f"; measured {_as_measured(measurement, unit)} at {utc_text(measured_at)}"
        if rule.quantity == "activity_concentration":
            return corrected, _Context(head=where, tail=tail + correction)
        return 100.0 * corrected / _product_bq_at(batch, product, engine, at), _Context(
            head=f" of the stated activity{where}", tail=tail + correction)

    impurity = normalise_nuclide(rule.impurity_nuclide)
    if rule.quantity == "breakthrough":
        impurity_bq = value * engine.decay_factor(impurity, seconds(at - measured_at))
        return 100.0 * impurity_bq / _product_bq_at(batch, product, engine, at), _Context(
            head=f" of the {product} activity{where}",
            tail=(f"; recount found {_as_measured(measurement, 'Bq')} {impurity} "
                  f"at {utc_text(measured_at)}"),
        )

    # impurity_ratio
    reference = measurement.reference_time or measured_at
    [projected] = activity_share_percent(
        engine, product=product, impurity=impurity, share_percent=value, reference=reference,
        times=[at], with_progeny=rule.impurity_with_progeny)
    progeny = f" ({impurity} with its progeny)" if rule.impurity_with_progeny else ""
    return projected, _Context(
        head=f"{progeny}{where}",
        tail=f"; {number(value)} % {impurity} at {utc_text(reference)} (reference time)"
        if rule.impurity_with_progeny else
        f"; {number(value)} % at {utc_text(reference)} (reference time)",
    )


def _as_measured(measurement: Measurement, unit: str) -> str:
    """The measured value in a message: to the figures it was entered with, when known."""
    value = float(measurement.value)  # type: ignore[arg-type]  # checked by the caller
    if measurement.figures:
        return measured_text(value, unit, measurement.figures)
    return compact_value_text(value, unit)


def _product_bq_at(batch: BatchTimes, product: str, engine: DecayEngine, at: datetime) -> float:
    """The batch's stated activity at calibration, decay-corrected to ``at``."""
    return batch.activity_at_calibration_bq * engine.decay_factor(
        product, seconds(at - batch.calibration_time))


# --- limits ---------------------------------------------------------------------------------


def _compare(rule: Rule, value: float) -> tuple[Verdict, str]:
    if rule.lower is not None:
        below = value < rule.lower or (value == rule.lower and not rule.lower_inclusive)
        if below:
            relation = "is below" if value < rule.lower else "is at, and so fails,"
            return Verdict.FAIL, f"{relation} the lower limit {bound_text(rule, 'lower', MESSAGE)}"
    if rule.upper is not None:
        above = value > rule.upper or (value == rule.upper and not rule.upper_inclusive)
        if above:
            relation = "is above" if value > rule.upper else "is at, and so fails,"
            return Verdict.FAIL, f"{relation} the upper limit {bound_text(rule, 'upper', MESSAGE)}"
    return Verdict.PASS, f"meets {limit_text(rule, MESSAGE)}"


def _judged_text(value: float, rule: Rule) -> str:
    """The judged value with 3 figures, unless that would print it equal to a limit it
    differs from."""
    limits = [x for x in (rule.lower, rule.upper) if x is not None]
    digits = 3
    while digits < 8 and any(
        x != value and number(x, digits) == number(value, digits) for x in limits
    ):
        digits += 1
    return compact_value_text(value, rule.unit, digits)
