"""Pure evaluation of QC results against acceptance criteria, expiry, and decay tables.

Plain values in, plain values out: no Django, no database. Every datetime is timezone-aware.
A criterion says when its value is judged (as measured, at calibration or at expiry) and may
say when a measurement is valid at all; the decay engine supplies the physics for both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import numpy as np

from qc.physics.decay import DecayEngine, format_duration, normalise_nuclide, unit_registry


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INVALID = "invalid"
    PENDING = "pending"


JUDGED_AT = ("measured", "calibration", "expiry")
QUANTITIES = ("plain", "activity", "activity_concentration", "breakthrough", "impurity_ratio")
VALIDITIES = ("none", "daughter_equilibrium", "product_half_lives")
DEVELOPED_AT = "developed_at"


@dataclass(frozen=True)
class Rule:
    """One acceptance criterion, as the Criterion model stores it.

    quantity:
      plain: the value as given, in ``unit``.
      activity: measured Bq, decay-corrected with the product nuclide and judged as % of the
        batch's activity at calibration (so ``unit`` is "%").
      activity_concentration: measured concentration in ``unit`` (e.g. Bq/mL), corrected with
        the product nuclide to the judged time.
      breakthrough: impurity activity in Bq at the recount, corrected with the impurity
        nuclide back to the judged time, as % of the product activity then.
      impurity_ratio: activity ratio impurity/product in % at a reference time, projected
        with the chain physics to the judged time (e.g. Ac-227/Ac-225 at expiry).
    validity:
      daughter_equilibrium: the count is valid only once ``validity_nuclide`` has regrown to
        ``validity_value`` (default 0.99) of equilibrium with the product nuclide, counted
        from the method time "developed_at".
      product_half_lives: valid only ``validity_value`` half-lives of the product after EOS.
    """

    test_code: str
    name: str
    unit: str
    lower: float | None = None
    lower_inclusive: bool = True
    upper: float | None = None
    upper_inclusive: bool = True
    text_requirement: str = ""
    judged_at: str = "measured"
    quantity: str = "plain"
    impurity_nuclide: str = ""
    release_before_result: bool = False
    validity: str = "none"
    validity_nuclide: str = ""
    validity_value: float | None = None


@dataclass(frozen=True)
class Measurement:
    value: float | None
    text: str
    measured_at: datetime
    method_times: Mapping[str, datetime] = field(default_factory=dict)
    # impurity_ratio only: when the ratio holds (source lot certificate); default measured_at
    reference_time: datetime | None = None


@dataclass(frozen=True)
class BatchTimes:
    product_nuclide: str
    eos: datetime
    calibration_time: datetime
    expiry: datetime | None
    activity_at_calibration_bq: float
    volume_ml: float


@dataclass(frozen=True)
class Outcome:
    """``projected_value`` is the value compared with the limits, in the rule's unit (for a
    plain quantity it equals ``measured_value``); None when nothing was judged."""

    verdict: Verdict
    measured_value: float | None
    projected_value: float | None
    judged_at_time: datetime
    message: str
    valid_from: datetime | None = None


@dataclass(frozen=True)
class ExpiryConstraint:
    expiry: datetime
    reason: str


# --- evaluate -------------------------------------------------------------------------------


def evaluate(
    rule: Rule, measurement: Measurement | None, batch: BatchTimes, engine: DecayEngine
) -> Outcome:
    """Judge one measurement against one rule for one batch."""
    _check_rule(rule)
    _check_aware(batch.eos, batch.calibration_time, batch.expiry)
    if measurement is None:
        return _pending(rule, batch)
    _check_aware(measurement.measured_at, measurement.reference_time)
    _check_aware(*measurement.method_times.values())

    judged_at_time = _judged_at_time(rule, batch, measurement.measured_at)
    refusal, valid_from = _check_validity(rule, measurement, batch, engine)
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
    verdict, comparison = _compare(rule, judged)
    message = f"{rule.name} {_with_unit(judged, rule.unit, rule)}{context.head} {comparison}"
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


# --- validity of the measurement ------------------------------------------------------------


def _check_validity(
    rule: Rule, measurement: Measurement, batch: BatchTimes, engine: DecayEngine
) -> tuple[str | None, datetime | None]:
    """(why the measurement is refused, or None; the earliest valid measurement time)."""
    if rule.validity == "none":
        return None, None
    product = normalise_nuclide(batch.product_nuclide)
    counted = measurement.measured_at
    if rule.validity == "daughter_equilibrium":
        daughter = normalise_nuclide(rule.validity_nuclide)
        fraction = rule.validity_value if rule.validity_value is not None else 0.99
        developed = measurement.method_times.get(DEVELOPED_AT)
        if developed is None:
            return (
                f"{rule.name}: the time the strip was developed ({DEVELOPED_AT}) is missing, "
                f"so the count cannot be shown to be after {daughter} regrew to "
                f"{_percent(fraction)} of equilibrium with {product}. Record the development "
                "time.",
                None,
            )
        wait = timedelta(seconds=engine.equilibrium_wait_s(product, daughter, fraction))
        valid_from = _ceil_second(developed + wait)
        elapsed = counted - developed
        if elapsed >= wait:
            return None, valid_from
        if elapsed < timedelta(0):
            lead = "Counted before the strip was developed"
        else:
            lead = f"Counted {_duration(elapsed)} after the strip was developed"
        return (
            f"{lead}; {daughter} reaches {_percent(fraction)} of equilibrium with {product} "
            f"{_duration(wait)} after development. Count again after {_utc_text(valid_from)} "
            f"({_duration(valid_from - counted)} from the count).",
            valid_from,
        )
    # product_half_lives
    half_lives = float(rule.validity_value)  # type: ignore[arg-type]  # checked in _check_rule
    wait = timedelta(seconds=half_lives * engine.half_life_s(product))
    valid_from = _ceil_second(batch.eos + wait)
    elapsed = counted - batch.eos
    if elapsed >= wait:
        return None, valid_from
    return (
        f"Counted {_duration(elapsed)} after EOS; the count is valid only "
        f"{_number(half_lives)} half-lives of {product} ({_duration(wait)}) after EOS. "
        f"Count again after {_utc_text(valid_from)} "
        f"({_duration(valid_from - counted)} from the count).",
        valid_from,
    )


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
    where = f" at {rule.judged_at} ({_utc_text(at)})" if rule.judged_at != "measured" else ""

    if rule.quantity == "plain":
        return value, _Context(head=where)

    if rule.quantity == "activity":
        corrected = value * engine.decay_factor(product, _seconds(at - measured_at))
        nominal = batch.activity_at_calibration_bq * engine.decay_factor(
            product, _seconds(at - batch.calibration_time)
        )
        return 100.0 * corrected / nominal, _Context(
            head=f" of the stated activity{where}",
            tail=f"; measured {_with_unit(value, 'Bq')} at {_utc_text(measured_at)}",
        )

    if rule.quantity == "activity_concentration":
        corrected = value * engine.decay_factor(product, _seconds(at - measured_at))
        return corrected, _Context(
            head=where,
            tail=f"; measured {_with_unit(value, rule.unit)} at {_utc_text(measured_at)}",
        )

    impurity = normalise_nuclide(rule.impurity_nuclide)
    if rule.quantity == "breakthrough":
        impurity_bq = value * engine.decay_factor(impurity, _seconds(at - measured_at))
        product_bq = batch.activity_at_calibration_bq * engine.decay_factor(
            product, _seconds(at - batch.calibration_time)
        )
        return 100.0 * impurity_bq / product_bq, _Context(
            head=f" of the {product} activity{where}",
            tail=(f"; recount found {_with_unit(value, 'Bq')} {impurity} "
                  f"at {_utc_text(measured_at)}"),
        )

    # impurity_ratio
    reference = measurement.reference_time or measured_at
    projected = impurity_ratio_at(engine, product, impurity, value, reference, at)
    return projected, _Context(
        head=where, tail=f"; {_number(value)} % at {_utc_text(reference)} (reference time)"
    )


def impurity_ratio_at(
    engine: DecayEngine,
    product: str,
    impurity: str,
    ratio_percent: float,
    reference: datetime,
    at: datetime,
) -> float:
    """Activity ratio impurity/product (in %) at ``at``, given its value at ``reference``."""
    dt = _seconds(at - reference)
    if dt >= 0:
        inventory = {product: 1.0, impurity: ratio_percent / 100.0}
        ratio = engine.activity_ratio(inventory, impurity, product, [dt])[0]
        return 100.0 * float(ratio)
    # Back in time the chain cannot be run; both nuclides are parents here, so correct each
    # for its own decay
    return ratio_percent * engine.decay_factor(impurity, dt) / engine.decay_factor(product, dt)


# --- limits ---------------------------------------------------------------------------------


def _compare(rule: Rule, value: float) -> tuple[Verdict, str]:
    if rule.lower is not None:
        below = value < rule.lower or (value == rule.lower and not rule.lower_inclusive)
        if below:
            relation = "is below" if value < rule.lower else "is at, and so fails,"
            return Verdict.FAIL, f"{relation} the lower limit {_lower(rule)}"
    if rule.upper is not None:
        above = value > rule.upper or (value == rule.upper and not rule.upper_inclusive)
        if above:
            relation = "is above" if value > rule.upper else "is at, and so fails,"
            return Verdict.FAIL, f"{relation} the upper limit {_upper(rule)}"
    return Verdict.PASS, f"meets {limits_text(rule)}"


def limits_text(rule: Rule) -> str:
    """The acceptance range as a reader would write it: '>= 95 %', '>= 5.5 and <= 9'."""
    if rule.text_requirement:
        return " | ".join(a.strip() for a in rule.text_requirement.split("|"))
    parts = []
    if rule.lower is not None:
        parts.append(_lower(rule))
    if rule.upper is not None:
        parts.append(_upper(rule))
    return " and ".join(parts) if parts else "(no limit)"


def _lower(rule: Rule) -> str:
    sign = ">=" if rule.lower_inclusive else ">"
    return f"{sign} {_with_unit(rule.lower, rule.unit, limit=True)}"  # type: ignore[arg-type]


def _upper(rule: Rule) -> str:
    sign = "<=" if rule.upper_inclusive else "<"
    return f"{sign} {_with_unit(rule.upper, rule.unit, limit=True)}"  # type: ignore[arg-type]


# --- expiry ---------------------------------------------------------------------------------


def compute_expiry(
    *,
    eos: datetime,
    shelf_life: timedelta,
    rules: Sequence[Rule],
    batch: BatchTimes,
    impurity_ratio_at_ref: Mapping[str, tuple[float, datetime]],
    engine: DecayEngine,
) -> ExpiryConstraint:
    """The earliest of EOS + shelf life and the time a criterion judged at expiry would fail.

    Decay-projected criteria: an activity concentration falling to its lower limit, and an
    impurity ratio (impurity nuclide -> (ratio in %, reference time) from the source lot)
    rising to its upper limit. The reason names the constraint that set the expiry.
    """
    _check_aware(eos, batch.calibration_time)
    if shelf_life <= timedelta(0):
        raise ValueError("The shelf life must be positive")
    best = ExpiryConstraint(
        eos + shelf_life,
        f"EOS + approved shelf life ({format_duration(_seconds(shelf_life), trim=True)})",
    )
    product = normalise_nuclide(batch.product_nuclide)
    for rule in rules:
        _check_rule(rule)
        if rule.judged_at != "expiry":
            continue
        if rule.quantity == "activity_concentration" and rule.lower is not None:
            candidate = _concentration_floor(rule, batch, product, engine)
        elif rule.quantity == "impurity_ratio" and rule.upper is not None:
            candidate = _impurity_ceiling(rule, product, impurity_ratio_at_ref, best.expiry, engine)
        else:
            continue  # not decay-projected, or cannot fail by decay
        if candidate is not None and candidate.expiry < best.expiry:
            best = candidate
    return best


def _concentration_floor(
    rule: Rule, batch: BatchTimes, product: str, engine: DecayEngine
) -> ExpiryConstraint | None:
    if batch.volume_ml <= 0:
        raise ValueError("The batch volume must be positive to compute its concentration")
    bq_per_ml = batch.activity_at_calibration_bq / batch.volume_ml
    at_calibration = _convert(bq_per_ml, "Bq/mL", rule.unit)
    lower = float(rule.lower)  # type: ignore[arg-type]  # checked by the caller
    if lower <= 0:
        return None  # a concentration cannot decay below zero
    # a lone nuclide decays exponentially, so the crossing has a closed form
    seconds = math.log(at_calibration / lower) / engine.decay_constant(product)
    expiry = _floor_second(batch.calibration_time + timedelta(seconds=seconds))
    return ExpiryConstraint(expiry, f"{rule.name} falls to the {_lower(rule)} limit")


def _impurity_ceiling(
    rule: Rule,
    product: str,
    impurity_ratio_at_ref: Mapping[str, tuple[float, datetime]],
    latest: datetime,
    engine: DecayEngine,
) -> ExpiryConstraint | None:
    impurity = normalise_nuclide(rule.impurity_nuclide)
    known = {normalise_nuclide(k): v for k, v in impurity_ratio_at_ref.items()}
    if impurity not in known:
        raise ValueError(
            f"No {impurity}/{product} ratio from the source lot; it is needed to project "
            f"'{rule.name}' to expiry"
        )
    ratio_percent, reference = known[impurity]
    _check_aware(reference)
    horizon = _seconds(latest - reference)
    if horizon <= 0:
        return None
    upper = float(rule.upper)  # type: ignore[arg-type]  # checked by the caller
    crossing = engine.crossing_time_s(
        {product: 1.0, impurity: ratio_percent / 100.0},
        lambda projection: 100.0 * projection[impurity] / projection[product],
        upper,
        "rises_above",
        horizon,
    )
    if crossing is None:
        return None
    expiry = _floor_second(reference + timedelta(seconds=crossing))
    return ExpiryConstraint(
        expiry, f"{rule.name} reaches the {_with_unit(upper, rule.unit, limit=True)} limit"
    )


# --- decay table ----------------------------------------------------------------------------

_READABLE_STEPS_S = (
    [60 * m for m in (1, 2, 5, 10, 15, 20, 30)]
    + [3600 * h for h in (1, 2, 3, 4, 6, 8, 12)]
    + [86400 * d for d in (1, 2, 3, 7, 14, 30, 60, 90)]
)


def decay_table(
    *,
    product_nuclide: str,
    activity_bq: float,
    reference_time: datetime,
    until: datetime,
    step: timedelta | None,
    engine: DecayEngine,
    max_rows: int = 25,
) -> dict:
    """Activities of the product and its key daughters from ``reference_time`` to ``until``.

    The product is taken as pure at ``reference_time`` (as at separation); key daughters are
    those whose activity exceeds 1 % of the product's at some time in the span. Rows fall at
    regular steps (a readable one is chosen when ``step`` is None), plus ``until`` itself.
    """
    _check_aware(reference_time, until)
    span = _seconds(until - reference_time)
    if span < 0:
        raise ValueError("'until' must not be before the reference time")
    step_s = _seconds(step) if step is not None else _readable_step(span, max_rows)
    if step_s <= 0:
        raise ValueError("The step must be positive")
    steps = math.ceil(span / step_s - 1e-9)  # tolerate round-off when span is a multiple
    offsets = [i * step_s for i in range(steps)] + [span]
    if len(offsets) > max_rows:
        raise ValueError(
            f"A step of {_duration(timedelta(seconds=step_s))} gives {len(offsets)} rows; "
            f"at most {max_rows} are allowed"
        )
    if not activity_bq > 0:
        raise ValueError("The activity must be positive")
    product = normalise_nuclide(product_nuclide)
    inventory = {product: activity_bq}

    dense = engine.project(inventory, np.linspace(0.0, span, 513))
    with np.errstate(divide="ignore", invalid="ignore"):
        keys = [
            name
            for name, activity in dense.items()
            if name == product or np.nanmax(activity / dense[product]) > 0.01
        ]
    rows = engine.project(inventory, np.array(offsets))
    return {
        "data_source": engine.data_source,
        "step_s": step_s,
        "times": [_iso(reference_time + timedelta(seconds=float(t))) for t in offsets],
        "activities_Bq": {name: [float(a) for a in rows[name]] for name in keys},
    }


def _readable_step(span_s: float, max_rows: int) -> float:
    if span_s == 0:
        return 60.0  # a single row; any step will do
    for step in _READABLE_STEPS_S:
        if math.ceil(span_s / step) + 1 <= max_rows:
            return float(step)
    return span_s / (max_rows - 1)


# --- checks ---------------------------------------------------------------------------------


def _check_rule(rule: Rule) -> None:
    """A misconfigured criterion is a programming or data error, not a result verdict."""
    if rule.judged_at not in JUDGED_AT:
        raise ValueError(f"{rule.test_code}: judged_at must be one of {', '.join(JUDGED_AT)}")
    if rule.quantity not in QUANTITIES:
        raise ValueError(f"{rule.test_code}: quantity must be one of {', '.join(QUANTITIES)}")
    if rule.validity not in VALIDITIES:
        raise ValueError(f"{rule.test_code}: validity must be one of {', '.join(VALIDITIES)}")
    if rule.quantity in ("breakthrough", "impurity_ratio") and not rule.impurity_nuclide:
        raise ValueError(f"{rule.test_code}: a {rule.quantity} rule names its impurity nuclide")
    if rule.validity == "daughter_equilibrium" and not rule.validity_nuclide:
        raise ValueError(f"{rule.test_code}: daughter_equilibrium needs the daughter nuclide")
    if rule.validity == "product_half_lives" and not rule.validity_value:
        raise ValueError(f"{rule.test_code}: product_half_lives needs the number of half-lives")


def _check_aware(*moments: datetime | None) -> None:
    for moment in moments:
        if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
            raise ValueError(f"Datetime {moment.isoformat()} has no time zone")


# --- formatting -----------------------------------------------------------------------------


def _seconds(delta: timedelta) -> float:
    return delta.total_seconds()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc_text(moment: datetime) -> str:
    """A time in a message a person reads: unambiguous, with its zone, not ISO 8601's T/Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ceil_second(moment: datetime) -> datetime:
    floored = _floor_second(moment)
    return floored if floored == moment else floored + timedelta(seconds=1)


def _floor_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _duration(delta: timedelta) -> str:
    return format_duration(delta.total_seconds())


def _percent(fraction: float) -> str:
    return f"{_number(100.0 * fraction)} %"


def _number(value: float, digits: int = 3) -> str:
    """Three significant figures without trailing zeros; large and tiny values in e-form."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    exponent = math.floor(math.log10(abs(value)))
    if exponent >= 6 or exponent < -4:
        return f"{value:.{digits - 1}e}"
    text = f"{value:.{max(0, digits - 1 - exponent)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


_SI_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def _with_unit(value: float, unit: str, rule: Rule | None = None, *, limit: bool = False) -> str:
    """'93.1 %', '1.02 GBq', '2.1 MBq/mL', '7.2' for pH.

    Limits are written exactly as set (up to 6 figures); judged values with 3 figures unless
    that would print them equal to a limit they differ from.
    """
    digits = 6 if limit else _digits_against(value, rule)
    if unit.startswith("Bq"):
        for size, prefix in _SI_PREFIXES:
            if abs(value) >= size:
                return f"{_number(value / size, digits)} {prefix}{unit}"
    if unit in ("", "pH"):
        return _number(value, digits)
    return f"{_number(value, digits)} {unit}"


def _digits_against(value: float, rule: Rule | None) -> int:
    limits = [x for x in (rule.lower, rule.upper) if x is not None] if rule else []
    digits = 3
    while digits < 8 and any(
        x != value and _number(x, digits) == _number(value, digits) for x in limits
    ):
        digits += 1
    return digits


def _convert(value: float, from_unit: str, to_unit: str) -> float:
    if from_unit == to_unit:
        return value
    ureg = unit_registry()
    try:
        return float(ureg.Quantity(value, from_unit).to(to_unit).magnitude)
    except Exception as exc:  # pint raises several error types for bad units
        raise ValueError(f"Cannot express {from_unit} in the rule's unit {to_unit!r}") from exc
