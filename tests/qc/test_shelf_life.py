"""ICH Q1E shelf-life estimates, checked against statsmodels fitted here by hand-built design
matrices, with the bound's crossing solved as a quadratic (not searched)."""

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from qc.stability import Extrapolation, NotEnoughData, Point, estimate_shelf_life

TIMES = [0.0, 1.0, 2.0, 3.0, 4.0, 6.0]
# fixed "noise" so each data set lands in its model for sure (no random draw in a test)
NOISE = [0.21, -0.14, 0.05, -0.27, 0.18, -0.03, -0.11, 0.24, -0.19, 0.08, 0.02, -0.16,
         0.13, -0.05, 0.26, -0.22, -0.09, 0.12]


def data(lines: dict[str, tuple[float, float]]) -> list[tuple[str, float, float]]:
    rows, k = [], 0
    for batch, (intercept, slope) in lines.items():
        for t in TIMES:
            rows.append((batch, t, intercept + slope * t + NOISE[k % len(NOISE)]))
            k += 1
    return rows


POOLED = data({"A": (99.0, -0.50), "B": (99.1, -0.50), "C": (98.95, -0.50)})
COMMON_SLOPE = data({"A": (99.0, -0.50), "B": (98.0, -0.50), "C": (97.0, -0.50)})
SEPARATE = data({"A": (99.0, -0.50), "B": (99.0, -0.50), "C": (99.0, -1.00)})


def design(rows, model):
    """Columns: per-batch intercepts (or one), then slope(s)."""
    batches = sorted({b for b, _, _ in rows})

    def x(batch, t):
        onehot = [1.0 if batch == b else 0.0 for b in batches]
        if model == "pooled":
            return [1.0, t]
        if model == "common_slope":
            return onehot + [t]
        return onehot + [t * v for v in onehot]

    return batches, x


def fit(rows, model):
    batches, x = design(rows, model)
    X = np.array([x(b, t) for b, t, _ in rows])
    y = np.array([v for _, _, v in rows])
    return batches, x, sm.OLS(y, X).fit()


def f_test_p(reduced, full):
    f = ((reduced.ssr - full.ssr) / (reduced.df_resid - full.df_resid)) / (
        full.ssr / full.df_resid)
    return stats.f.sf(f, reduced.df_resid - full.df_resid, full.df_resid)


def crossing(result, x, batch, limit):
    """Earliest t >= 0 where mean - t95 * se(mean) = limit: a quadratic in t."""
    beta, cov = result.params, result.cov_params()
    tc = stats.t.ppf(0.95, result.df_resid)
    x0, x1 = np.array(x(batch, 0.0)), np.array(x(batch, 1.0)) - np.array(x(batch, 0.0))
    m0, m1 = x0 @ beta - limit, x1 @ beta
    a = m1 ** 2 - tc ** 2 * (x1 @ cov @ x1)
    b = 2 * m0 * m1 - 2 * tc ** 2 * (x0 @ cov @ x1)
    c = m0 ** 2 - tc ** 2 * (x0 @ cov @ x0)
    roots = [r.real for r in np.roots([a, b, c]) if abs(r.imag) < 1e-12]
    return min(r for r in roots if r >= 0 and m0 + m1 * r >= 0)


def expected(rows, limit):
    _, _, pooled = fit(rows, "pooled")
    _, _, common = fit(rows, "common_slope")
    batches, x_sep, separate = fit(rows, "separate")
    p_slope = f_test_p(common, separate)
    p_intercept = f_test_p(pooled, common)
    if p_slope < 0.25:
        model, result, p_intercept = "separate", separate, None
        x = x_sep
    elif p_intercept < 0.25:
        model, result = "common_slope", common
        x = design(rows, "common_slope")[1]
    else:
        model, result = "pooled", pooled
        x = design(rows, "pooled")[1]
    return model, p_slope, p_intercept, min(crossing(result, x, b, limit) for b in batches)


@pytest.mark.parametrize("rows, model", [
    (POOLED, "pooled"), (COMMON_SLOPE, "common_slope"), (SEPARATE, "separate")])
def test_each_model_gives_the_answer_of_statsmodels_fitted_by_hand(rows, model):
    want_model, p_slope, p_intercept, want_h = expected(rows, limit=95.0)

    estimate = estimate_shelf_life(rows, lower_limit=95.0)

    assert want_model == model  # the data set lands where it was built to
    assert estimate.model == model
    assert estimate.p_slope == pytest.approx(p_slope, rel=1e-9)
    if p_intercept is None:
        assert estimate.p_intercept is None
    else:
        assert estimate.p_intercept == pytest.approx(p_intercept, rel=1e-9)
    assert estimate.statistical_h == pytest.approx(want_h, rel=1e-6)


def test_an_upper_limit_uses_the_upper_bound():
    rising = [(b, t, 100.0 - v) for b, t, v in SEPARATE]  # impurity rising over time
    _, _, _, want_h = expected([(b, t, -v) for b, t, v in rising], limit=-5.0)

    estimate = estimate_shelf_life(rising, upper_limit=5.0)

    assert estimate.model == "separate"
    assert estimate.statistical_h == pytest.approx(want_h, rel=1e-6)
    assert estimate.limiting_batch == "C"


def test_the_separate_model_takes_the_shortest_batch():
    estimate = estimate_shelf_life(SEPARATE, lower_limit=95.0)
    batches, x, result = fit(SEPARATE, "separate")

    per_batch = {b: crossing(result, x, b, 95.0) for b in batches}

    assert estimate.limiting_batch == "C"
    assert estimate.statistical_h == pytest.approx(min(per_batch.values()), rel=1e-6)
    assert per_batch["C"] < per_batch["A"]


def test_a_hand_worked_pooled_example():
    """Three identical batches, 100 / 98 / 97 % at 0 / 2 / 4 h, lower limit 90 %.

    n = 9, x-bar = 2, Sxx = 3 (4 + 0 + 4) = 24, y-bar = 295/3 = 98.3333
    Sxy = 3 ((-2)(1.6667) + 0 + (2)(-1.3333)) = -18, slope b = -18/24 = -0.75 %/h
    intercept a = 98.3333 + 0.75 * 2 = 99.8333
    residuals 0.1667, -0.3333, 0.1667 (each x3): SSE = 3 (0.02778 + 0.11111 + 0.02778) = 0.5
    s^2 = 0.5 / 7 = 0.071429, s = 0.26726; t(0.95, 7) = 1.894579
    bound(t) = 99.8333 - 0.75 t - 1.894579 * 0.26726 * sqrt(1/9 + (t - 2)^2 / 24)
    At t = 12: mean 90.8333, se 0.26726 * sqrt(0.11111 + 4.16667) = 0.55277, bound 89.7861
    At t = 11: mean 91.5833, se 0.26726 * sqrt(0.11111 + 3.37500) = 0.49900, bound 90.6379
    Solving bound(t) = 90: square (9.8333 - 0.75 t)^2 = 0.256384 (1/9 + (t - 2)^2 / 24),
    i.e. 0.551817 t^2 - 14.70727 t + 96.6227 = 0, roots (14.70727 -/+ 1.7410) / 1.10363 =
    11.748 h and 14.904 h; the earlier one is where the falling bound meets 90 %.
    Observed support 4 h; 2 x 4 h = 8 h < 11.748 h, so the supported shelf life is 8 h.
    """
    rows = [(b, t, v) for b in "ABC" for t, v in ((0, 100.0), (2, 98.0), (4, 97.0))]

    estimate = estimate_shelf_life(rows, lower_limit=90.0)

    assert estimate.model == "pooled"
    assert estimate.p_slope == pytest.approx(1.0)
    assert estimate.p_intercept == pytest.approx(1.0)
    assert estimate.lines["A"] == pytest.approx((99.8333, -0.75), abs=1e-4)
    assert estimate.statistical_h == pytest.approx(11.748, abs=1e-3)
    assert estimate.observed_h == 4.0
    assert estimate.allowed_h == 8.0
    assert estimate.shelf_life_h == 8.0


def test_observed_support_stops_at_the_first_time_a_batch_fails():
    rows = [(b, t, v) for b in "AB" for t, v in ((0, 99.0), (2, 97.0), (4, 96.0))]
    rows += [("C", 0, 99.0), ("C", 2, 94.5), ("C", 4, 96.0)]

    estimate = estimate_shelf_life(rows, lower_limit=95.0)

    assert estimate.observed_h == 0.0
    assert estimate.shelf_life_h == 0.0


def test_observed_support_groups_pulls_by_their_nominal_time_point():
    rows = [Point(b, t + d, 99.0 - t / 4 + d, nominal_h=t)
            for b, d in (("A", 0.0), ("B", 0.05), ("C", 0.1)) for t in (0.0, 2.0, 4.0)]

    assert estimate_shelf_life(rows, lower_limit=95.0).observed_h == 4.0


def test_extrapolation_is_capped_by_the_factor_and_the_months():
    rule = Extrapolation(factor=1.5, cap_h=6 * 730.5)

    assert rule.allowed_h(10.0) == 15.0
    assert rule.allowed_h(12 * 730.5) == pytest.approx(18 * 730.5)
    assert Extrapolation().allowed_h(24 * 730.5) == pytest.approx(36 * 730.5)


def test_a_flat_trend_never_meets_the_limit_and_the_extrapolation_rule_decides():
    rows = [(b, t, 99.0 + NOISE[i % 18] / 10)
            for i, (b, t) in enumerate((b, t) for b in "ABC" for t in TIMES)]

    estimate = estimate_shelf_life(rows, lower_limit=90.0)

    assert math.isinf(estimate.statistical_h)
    assert estimate.shelf_life_h == 12.0
    assert estimate.as_dict()["statistical_h"] is None


def test_fewer_batches_than_required_is_not_enough_data_with_the_count():
    rows = [r for r in POOLED if r[0] != "C"]

    with pytest.raises(NotEnoughData, match="2 batches of the 3 required"):
        estimate_shelf_life(rows, lower_limit=95.0)


def test_a_single_time_point_is_refused():
    with pytest.raises(NotEnoughData, match="single time point"):
        estimate_shelf_life([(b, 0, 99.0) for b in "ABC"], lower_limit=95.0)


def test_a_batch_with_a_single_time_point_is_refused():
    rows = [r for r in POOLED if r[0] != "C" or r[1] == 0.0]

    with pytest.raises(NotEnoughData, match="batch C has results at a single time point"):
        estimate_shelf_life(rows, lower_limit=95.0)


@pytest.mark.parametrize("bad, message", [
    (("A", "two", 99.0), "the time must be a number"),
    (("A", 1.0, "n/a"), "the value must be a number"),
    (("A", float("nan"), 99.0), "finite number"),
    (("A", -1.0, 99.0), "before EOS"),
])
def test_non_numbers_and_negative_times_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        estimate_shelf_life([*POOLED, bad], lower_limit=95.0)


def test_exactly_one_limit_is_required():
    with pytest.raises(ValueError, match="exactly one limit"):
        estimate_shelf_life(POOLED)
    with pytest.raises(ValueError, match="exactly one limit"):
        estimate_shelf_life(POOLED, lower_limit=90.0, upper_limit=101.0)


def test_a_single_batch_study_is_pooled_without_p_values():
    rows = [r for r in SEPARATE if r[0] == "C"]

    estimate = estimate_shelf_life(rows, lower_limit=95.0, min_batches=1)
    _, x, result = fit(rows, "pooled")

    assert (estimate.model, estimate.p_slope, estimate.p_intercept) == ("pooled", None, None)
    assert estimate.statistical_h == pytest.approx(crossing(result, x, "C", 95.0), rel=1e-6)
