"""Shelf-life estimate of one criterion from stability data, in the manner of ICH Q1E.

ICH Q1E, Appendix B:
- Fit value against time with an analysis of covariance over the batches. Test equality of
  slopes (the batch x time interaction) at the 0.25 level; if slopes do not differ, test
  equality of intercepts at 0.25. Accordingly:
  ``pooled`` (one line for all batches), ``common_slope`` (a common slope and batch
  intercepts) or ``separate`` (batch intercepts and batch slopes with the pooled mean square
  error of all batches, B.2.2.1).
- The statistical estimate is the earliest time at which the one-sided 95 % confidence bound
  of the mean regression line meets the acceptance limit: the lower bound for a lower limit,
  the upper bound for an upper limit; the shortest over the batches when they are not pooled.

Observed support: the longest time point up to which every batch met the limit at every
time point (a contiguous run from the first time point).

Extrapolation (ICH Q1E, decision tree of Appendix A, data amenable to statistics): the
proposed shelf life may be up to ``factor`` x the period covered, but not more than
``cap_h`` beyond it: 2x and 12 months for storage at room temperature, 1.5x and 6 months
refrigerated. "The period covered" is taken here as the observed support, so that a period
in which a batch already failed is not extrapolated from. For products whose shelf life is
counted in hours the month cap never binds and the factor alone limits the extrapolation.

The supported shelf life is the shorter of the statistical estimate and that limit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Model = Literal["pooled", "common_slope", "separate"]
MODELS: tuple[Model, ...] = ("pooled", "common_slope", "separate")

SIGNIFICANCE = 0.25  # ICH Q1E: poolability tests at the 0.25 level
CONFIDENCE = 0.95  # one-sided
HOURS_PER_MONTH = 730.5  # 365.25 d / 12
SEARCH_FACTOR = 10.0  # the bound is searched up to this many times the longest time point
CURVE_POINTS = 61


class NotEnoughData(ValueError):
    """The data cannot give an estimate; the message says what is missing."""


@dataclass(frozen=True)
class Point:
    batch: str
    time_h: float  # actual pull time after EOS: the regression uses it
    value: float
    nominal_h: float | None = None  # the protocol's time point: observed support groups by it


@dataclass(frozen=True)
class Extrapolation:
    """How far beyond the period covered by data ICH Q1E lets a shelf life reach."""

    factor: float = 2.0
    cap_h: float = 12 * HOURS_PER_MONTH

    def __post_init__(self) -> None:
        if not (math.isfinite(self.factor) and self.factor >= 1.0):
            raise ValueError("The extrapolation factor must be a number >= 1 (ICH Q1E: 2 at "
                             "room temperature, 1.5 refrigerated, 1 for none).")
        if not (self.cap_h >= 0.0):
            raise ValueError("The extrapolation cap must be a number of hours >= 0.")

    def allowed_h(self, covered_h: float) -> float:
        return min(self.factor * covered_h, covered_h + self.cap_h)

    @property
    def rule(self) -> str:
        months = self.cap_h / HOURS_PER_MONTH
        return (f"at most {self.factor:g} x the period covered by data and not more than "
                f"{months:g} months beyond it (ICH Q1E Appendix A)")


@dataclass(frozen=True)
class ShelfLifeEstimate:
    model: Model
    p_slope: float | None  # None with a single batch (nothing to compare)
    p_intercept: float | None  # None when not tested (slopes differ, or a single batch)
    statistical_h: float  # math.inf when the bound stays within the limit over the search
    observed_h: float
    allowed_h: float
    shelf_life_h: float
    limit: float
    limit_side: Literal["lower", "upper"]
    batches: int
    points: int
    longest_h: float
    limiting_batch: str | None
    rule: str
    lines: dict[str, tuple[float, float]] = field(default_factory=dict)  # batch: (a, b)
    curve_times_h: tuple[float, ...] = ()
    curves: dict[str, dict[str, tuple[float, ...]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "p_slope": self.p_slope, "p_intercept": self.p_intercept,
            "statistical_h": None if math.isinf(self.statistical_h) else self.statistical_h,
            "observed_h": self.observed_h, "allowed_h": self.allowed_h,
            "shelf_life_h": self.shelf_life_h, "batches": self.batches,
            "points": self.points, "limiting_batch": self.limiting_batch,
        }


# --- input -------------------------------------------------------------------------------


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    return number


def _clean(points: Iterable[Point | tuple[Any, Any, Any]]) -> list[Point]:
    cleaned = []
    for i, raw in enumerate(points, start=1):
        nominal = raw.nominal_h if isinstance(raw, Point) else None
        batch, time_h, value = (raw.batch, raw.time_h, raw.value) if isinstance(raw, Point) \
            else raw
        batch = str(batch).strip()
        if not batch:
            raise ValueError(f"Point {i}: the batch is empty; name the batch of every result.")
        time = _number(time_h, f"Point {i} ({batch}): the time")
        if time < 0:
            raise ValueError(f"Point {i} ({batch}): the time {time:g} h is before EOS; times "
                             "count from EOS and are >= 0.")
        cleaned.append(Point(batch, time, _number(value, f"Point {i} ({batch}): the value"),
                             None if nominal is None else _number(nominal, "A time point")))
    return cleaned


def _check_enough(points: list[Point], min_batches: int) -> list[str]:
    batches = sorted({p.batch for p in points})
    if len(batches) < min_batches:
        missing = min_batches - len(batches)
        raise NotEnoughData(
            f"Not enough data: {len(batches)} batch{'es' if len(batches) != 1 else ''} of the "
            f"{min_batches} required; add results of {missing} more "
            f"batch{'es' if missing != 1 else ''}.")
    times = {p.time_h for p in points}
    if len(times) < 2:
        raise NotEnoughData("Not enough data: every result is at a single time point "
                            f"({next(iter(times), 0):g} h); a trend needs at least two.")
    for batch in batches:
        if len({p.time_h for p in points if p.batch == batch}) < 2:
            raise NotEnoughData(f"Not enough data: batch {batch} has results at a single time "
                                "point; each batch needs at least two.")
    if len(points) <= 2 * len(batches):
        raise NotEnoughData(
            f"Not enough data: {len(points)} results for {len(batches)} batches leave no "
            "degrees of freedom for the error of separate batch lines; add at least "
            f"{2 * len(batches) + 1 - len(points)} more.")
    return batches


# --- fits --------------------------------------------------------------------------------

_FORMULAS: dict[Model, str] = {
    "pooled": "value ~ time",
    "common_slope": "value ~ C(batch) + time",
    "separate": "value ~ C(batch) * time",
}


def _fits(points: list[Point], several: bool):
    import pandas as pd
    import statsmodels.formula.api as smf

    frame = pd.DataFrame({"batch": [p.batch for p in points],
                          "time": [p.time_h for p in points],
                          "value": [p.value for p in points]})
    models: Sequence[Model] = MODELS if several else ("pooled",)
    return frame, {m: smf.ols(_FORMULAS[m], data=frame).fit() for m in models}


def _choose(fits, several: bool, significance: float):
    if not several:
        return "pooled", None, None
    p_slope = float(fits["separate"].compare_f_test(fits["common_slope"])[1])
    if p_slope < significance:
        return "separate", p_slope, None
    p_intercept = float(fits["common_slope"].compare_f_test(fits["pooled"])[1])
    return ("common_slope" if p_intercept < significance else "pooled"), p_slope, p_intercept


@dataclass(frozen=True)
class _Line:
    """One batch's mean regression line and its one-sided confidence bound, from the fit.

    The mean is linear in t and its variance x(t)' Cov x(t) quadratic in t, so both are
    known exactly from statsmodels' prediction at three times; the bound is then evaluated
    in numpy for as many times as needed (a search or a chart) without refitting."""

    mean0: float
    slope: float
    var: tuple[float, float, float]  # a + b t + c t^2
    t_crit: float
    sign: float  # -1 for a lower bound, +1 for an upper bound

    @classmethod
    def of(cls, fit, batch: str, side: str, confidence: float) -> _Line:
        import pandas as pd
        from scipy import stats

        frame = pd.DataFrame({"batch": [batch] * 3, "time": [0.0, 1.0, 2.0]})
        prediction = fit.get_prediction(frame)
        mean = np.asarray(prediction.predicted_mean, dtype=float)
        v0, v1, v2 = np.asarray(prediction.se_mean, dtype=float) ** 2
        c = (v2 - 2 * v1 + v0) / 2
        return cls(float(mean[0]), float(mean[1] - mean[0]), (float(v0), float(v1 - v0 - c),
                   float(c)), float(stats.t.ppf(confidence, fit.df_resid)),
                   -1.0 if side == "lower" else 1.0)

    def mean(self, times) -> np.ndarray:
        return self.mean0 + self.slope * np.asarray(times, dtype=float)

    def bound(self, times) -> np.ndarray:
        t = np.asarray(times, dtype=float)
        a, b, c = self.var
        return self.mean(t) + self.sign * self.t_crit * np.sqrt(np.maximum(a + b * t + c * t * t,
                                                                           0.0))


def _crossing(line: _Line, limit: float, horizon: float) -> float:
    """Earliest time in [0, horizon] at which the bound meets the limit; inf if it does not."""
    from scipy.optimize import brentq

    def margin(times):  # > 0 while the bound is within the limit
        return -line.sign * (line.bound(times) - limit)

    grid = np.linspace(0.0, horizon, 4001)
    values = margin(grid)
    if values[0] <= 0.0:
        return 0.0
    outside = np.nonzero(values <= 0.0)[0]
    if outside.size == 0:
        return math.inf
    i = int(outside[0])
    return float(brentq(lambda t: float(margin(t)), grid[i - 1], grid[i], xtol=1e-10))


def _observed_h(points: list[Point], batches: list[str], limit: float, side: str) -> float:
    def met(value: float) -> bool:
        return value >= limit if side == "lower" else value <= limit

    def when(p: Point) -> float:
        return p.time_h if p.nominal_h is None else p.nominal_h

    supported = 0.0
    for time in sorted({when(p) for p in points}):
        at_time = [p for p in points if when(p) == time]
        if not all(met(p.value) for p in at_time):
            break
        if {p.batch for p in at_time} == set(batches):
            supported = time
    return supported


def estimate_shelf_life(
    points: Iterable[Point | tuple[Any, Any, Any]],
    *,
    lower_limit: float | None = None,
    upper_limit: float | None = None,
    min_batches: int = 3,
    extrapolation: Extrapolation | None = None,
    significance: float = SIGNIFICANCE,
    confidence: float = CONFIDENCE,
) -> ShelfLifeEstimate:
    """The ICH Q1E estimate for one criterion; ``points`` are (batch, time_h, value)."""
    if (lower_limit is None) == (upper_limit is None):
        raise ValueError("Give exactly one limit: a lower limit (e.g. RCP >= 95 %) or an "
                         "upper limit (e.g. free Bi-213 <= 5 %).")
    side: Literal["lower", "upper"] = "lower" if lower_limit is not None else "upper"
    limit = _number(lower_limit if side == "lower" else upper_limit, f"The {side} limit")
    if int(min_batches) < 1:
        raise ValueError("The number of batches required must be at least 1.")
    extrapolation = extrapolation or Extrapolation()
    cleaned = _clean(points)
    batches = _check_enough(cleaned, int(min_batches))
    several = len(batches) > 1
    _frame, fits = _fits(cleaned, several)
    model, p_slope, p_intercept = _choose(fits, several, significance)
    fit = fits[model]
    longest = max(p.time_h for p in cleaned)

    lines = {b: _Line.of(fit, b, side, confidence) for b in batches}
    estimates = {b: _crossing(lines[b], limit, SEARCH_FACTOR * longest) for b in batches}
    limiting = min(batches, key=lambda b: estimates[b])
    statistical = estimates[limiting]
    observed = _observed_h(cleaned, batches, limit, side)
    allowed = extrapolation.allowed_h(observed)

    end = max(longest, min(statistical, allowed)) * 1.1
    curve_times = np.linspace(0.0, end, CURVE_POINTS)
    curves = {b: {"mean": tuple(float(v) for v in line.mean(curve_times)),
                  "bound": tuple(float(v) for v in line.bound(curve_times))}
              for b, line in lines.items()}

    return ShelfLifeEstimate(
        model=model, p_slope=p_slope, p_intercept=p_intercept, statistical_h=statistical,
        observed_h=observed, allowed_h=allowed, shelf_life_h=min(statistical, allowed),
        limit=limit, limit_side=side, batches=len(batches), points=len(cleaned),
        longest_h=longest, limiting_batch=limiting if several and model != "pooled" else None,
        rule=extrapolation.rule,
        lines={b: (line.mean0, line.slope) for b, line in lines.items()},
        curve_times_h=tuple(float(t) for t in curve_times), curves=curves,
    )
