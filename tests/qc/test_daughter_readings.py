"""Readings that see the product's daughters, with the numbers worked out by hand from the
Bateman equation: a dose calibrator in its equilibrium setting (valid near equilibrium, or
corrected with the daughter's state at the reading) and a 212Pb radio-TLC strip counted on
the Pb-212 line (valid at once) or in a wide window (valid once the Bi-212 on it renewed)."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from qc.demo_specifications import PRODUCTS
from qc.evaluation.daughters import specification_daughter_problem, window_share
from qc.evaluation.values import BatchTimes, Measurement, Rule, Verdict, check_rule
from qc.evaluation.verdicts import evaluate
from qc.physics.daughters import (
    calibrator_factor,
    daughter_fraction,
    equilibrium_within_s,
    strip_wait_s,
)
from qc.physics.decay import get_engine

HOUR = 3600.0
EOS = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
LN2 = math.log(2.0)


@pytest.fixture(scope="module")
def engine():
    return get_engine()


@pytest.fixture(scope="module")
def lam(engine):
    return {n: LN2 / engine.half_life_s(n) for n in ("Pb-212", "Bi-212", "Tl-208")}


def bi212_ratio_by_hand(lam, t_s: float) -> float:
    """A_Bi / A_Pb after separation (pure Pb-212 at t = 0), two-member Bateman:
    lBi / (lBi - lPb) (1 - exp(-(lBi - lPb) t))."""
    k = lam["Bi-212"] - lam["Pb-212"]
    return lam["Bi-212"] / k * (1.0 - math.exp(-k * t_s))


def tl208_ratio_by_hand(lam, t_s: float, branch: float) -> float:
    """A_Tl / A_Pb after separation, three-member Bateman with Bi-212's alpha branch to
    Tl-208: A_Tl = b lBi lTl N0 sum_i exp(-l_i t) / prod_(j != i) (l_j - l_i)."""
    lp, lb, lt = lam["Pb-212"], lam["Bi-212"], lam["Tl-208"]
    terms = (math.exp(-lp * t_s) / ((lb - lp) * (lt - lp))
             + math.exp(-lb * t_s) / ((lp - lb) * (lt - lb))
             + math.exp(-lt * t_s) / ((lp - lt) * (lb - lt)))
    activity_tl = branch * lb * lt * terms  # for N0 lPb = 1 Bq of Pb-212 at t = 0
    return activity_tl / math.exp(-lp * t_s)


def batch(**daughters) -> BatchTimes:
    return BatchTimes("Pb-212", EOS, EOS + timedelta(hours=1), EOS + timedelta(hours=24),
                      3.0e8, 5.0, **daughters)


def pb212_activity(at: datetime, share: float = 1.0) -> float:
    return 3.0e8 * share * 2.0 ** (-(at - (EOS + timedelta(hours=1))).total_seconds()
                                   / (10.64 * HOUR))


# --- the Bi-212/Pb-212 ratio after separation ----------------------------------------------


def test_the_bi212_to_pb212_ratio_1_3_and_6_hours_after_separation_is_the_bateman_one(
        engine, lam):
    times = [1 * HOUR, 3 * HOUR, 6 * HOUR]
    by_hand = [bi212_ratio_by_hand(lam, t) for t in times]
    # 1.105 (1 - exp(-0.6217 h^-1 t)): 0.512 at 1 h, 0.934 at 3 h, 1.078 at 6 h
    assert by_hand == pytest.approx([0.5115, 0.9337, 1.0783], abs=5e-4)
    fractions = daughter_fraction(engine, inventory={"Pb-212": 1.0}, product="Pb-212",
                                  daughter="Bi-212", times_s=times)
    ratio = engine.equilibrium_ratio("Pb-212", "Bi-212")
    assert ratio == pytest.approx(lam["Bi-212"] / (lam["Bi-212"] - lam["Pb-212"]), rel=1e-9)
    assert list(fractions * ratio) == pytest.approx(by_hand, rel=1e-9)


def test_tl208_lags_bi212_by_its_3_minutes_and_is_at_a_tenth_of_equilibrium_at_15_min(
        engine, lam):
    ratio = engine.equilibrium_ratio("Pb-212", "Tl-208")
    branch = ratio * (lam["Tl-208"] - lam["Pb-212"]) / lam["Tl-208"] / (
        lam["Bi-212"] / (lam["Bi-212"] - lam["Pb-212"]))
    assert branch == pytest.approx(0.3594, abs=1e-4)  # Bi-212's alpha branch
    times = [0.25 * HOUR, 1 * HOUR, 3 * HOUR]
    fractions = daughter_fraction(engine, inventory={"Pb-212": 1.0}, product="Pb-212",
                                  daughter="Tl-208", times_s=times)
    assert list(fractions * ratio) == pytest.approx(
        [tl208_ratio_by_hand(lam, t, branch) for t in times], rel=1e-6)
    assert fractions[0] == pytest.approx(0.1044, abs=1e-4)


# --- dose calibrator in its equilibrium setting: valid near equilibrium ---------------------


EQUILIBRIUM_SETTING = Rule("activity", "Activity", "%", lower=90.0, upper=110.0,
                           judged_at="calibration", quantity="activity",
                           validity="daughter_ratio", validity_nuclide="Bi-212",
                           validity_value=0.02)


def test_within_2_percent_of_equilibrium_takes_6_3_hours_after_separation_at_eos(engine, lam):
    # 1 - exp(-k t) = 0.98  =>  t = ln(50) / (lBi - lPb)
    by_hand = math.log(50.0) / (lam["Bi-212"] - lam["Pb-212"])
    assert by_hand / HOUR == pytest.approx(6.292, abs=1e-3)
    assert equilibrium_within_s(engine, inventory={"Pb-212": 1.0}, product="Pb-212",
                                daughter="Bi-212", tolerance=0.02) == pytest.approx(
        by_hand, abs=1e-3)


def test_an_equilibrium_setting_reading_3_h_after_eos_is_refused_with_the_time_it_is_valid(
        engine, lam):
    read = EOS + timedelta(hours=3)
    outcome = evaluate(EQUILIBRIUM_SETTING, Measurement(2.0e8, "", read), batch(), engine)
    valid_from = EOS + timedelta(seconds=math.log(50.0) / (lam["Bi-212"] - lam["Pb-212"]))
    assert outcome.verdict == Verdict.INVALID
    assert abs((outcome.valid_from - valid_from).total_seconds()) <= 1.0
    assert "Bi-212 was at 84.5 % of its equilibrium with Pb-212" in outcome.message
    assert "Read again after" in outcome.message


def test_an_equilibrium_setting_reading_after_the_wait_is_judged(engine):
    read = EOS + timedelta(hours=6, minutes=30)
    outcome = evaluate(EQUILIBRIUM_SETTING, Measurement(pb212_activity(read), "", read),
                       batch(), engine)
    assert outcome.verdict == Verdict.PASS
    assert outcome.projected_value == pytest.approx(100.0, rel=1e-9)


def test_a_product_that_left_eos_in_equilibrium_reads_right_at_once(engine):
    read = EOS + timedelta(minutes=15)
    outcome = evaluate(EQUILIBRIUM_SETTING, Measurement(pb212_activity(read), "", read),
                       batch(daughters_in_equilibrium=True), engine)
    assert outcome.verdict == Verdict.PASS


def test_daughters_separated_before_eos_shorten_the_wait_by_their_head_start(engine, lam):
    separated = batch(daughters_separated_at=EOS - timedelta(hours=2))
    outcome = evaluate(EQUILIBRIUM_SETTING, Measurement(2.0e8, "", EOS), separated, engine)
    wait = math.log(50.0) / (lam["Bi-212"] - lam["Pb-212"]) - 2 * HOUR
    assert abs((outcome.valid_from - EOS).total_seconds() - wait) <= 1.0


# --- dose calibrator in its equilibrium setting: corrected ----------------------------------


CORRECTED = Rule("activity", "Activity", "%", lower=90.0, upper=110.0,
                 judged_at="calibration", quantity="activity",
                 validity="daughter_correction", validity_nuclide="Bi-212", validity_value=0.1)


def test_a_reading_1_h_after_separation_is_corrected_by_1_over_s_plus_1_minus_s_q(engine, lam):
    read = EOS + timedelta(hours=1)
    q = bi212_ratio_by_hand(lam, HOUR) / (lam["Bi-212"] / (lam["Bi-212"] - lam["Pb-212"]))
    factor = 1.0 / (0.1 + 0.9 * q)  # q = 0.463: the setting reads 51.7 % of the Pb-212
    assert factor == pytest.approx(1.9355, abs=1e-4)
    assert calibrator_factor(0.1, q) == pytest.approx(factor, rel=1e-12)
    reading = pb212_activity(read) / factor
    outcome = evaluate(CORRECTED, Measurement(reading, "", read), batch(), engine)
    assert outcome.verdict == Verdict.PASS
    assert outcome.projected_value == pytest.approx(100.0, rel=1e-6)
    assert "corrected x1.935 to Pb-212 (Bi-212 at 46.3 % of equilibrium" in outcome.message
    # the same reading, uncorrected, would have failed at 51.7 %
    plain = evaluate(Rule("activity", "Activity", "%", lower=90.0, upper=110.0,
                          judged_at="calibration", quantity="activity"),
                     Measurement(reading, "", read), batch(), engine)
    assert plain.verdict == Verdict.FAIL
    assert plain.projected_value == pytest.approx(100.0 / factor, rel=1e-6)


def test_the_demo_212pb_specification_corrects_with_tl208_5_16_times_at_15_min(engine, lam):
    spec = next(p for p in PRODUCTS if p["code"] == "pb212-dotamtate")
    row = next(c for c in spec["criteria"] if c["test_code"] == "activity")
    rule = Rule("activity", row["name"], "%", lower=row["lower_limit"],
                upper=row["upper_limit"], judged_at="calibration", quantity="activity",
                validity=row["validity"], validity_nuclide=row["validity_nuclide"],
                validity_value=row["validity_value"])
    read = EOS + timedelta(minutes=15)
    ratio = engine.equilibrium_ratio("Pb-212", "Tl-208")
    branch = 0.35940  # ICRP-107 Bi-212 alpha branch, as the engine has it
    q = tl208_ratio_by_hand(lam, 0.25 * HOUR, branch) / ratio
    factor = 1.0 / (0.1 + 0.9 * q)
    assert factor == pytest.approx(5.155, abs=0.001)
    outcome = evaluate(rule, Measurement(pb212_activity(read) / factor, "", read), batch(),
                       engine)
    assert outcome.verdict == Verdict.PASS
    assert outcome.projected_value == pytest.approx(100.0, rel=1e-4)
    assert "corrected x5.155" in outcome.message and "Tl-208 at 10.4 %" in outcome.message


# --- radio-TLC: the counting window ---------------------------------------------------------


WINDOW = Rule("rcp", "Radiochemical purity", "%", lower=95.0, validity="counting_window",
              validity_nuclide="Bi-212", validity_value=0.1)
DEVELOPED = EOS + timedelta(minutes=25)


def strip_wait_by_hand(lam, q0: float, share: float) -> float:
    """old / (old + grown) with old = q0 R exp(-lBi t) and grown = R (exp(-lPb t) -
    exp(-lBi t)): with x = exp(-(lBi - lPb) t), q0 x / (1 - x + q0 x) = share gives
    x = share / (q0 (1 - share) + share)."""
    x = share / (q0 * (1.0 - share) + share)
    return -math.log(x) / (lam["Bi-212"] - lam["Pb-212"])


def test_the_wide_window_share_is_the_tolerance_times_5_over_95_at_a_95_percent_limit():
    assert window_share(WINDOW) == pytest.approx(0.1 * 5 / 95, rel=1e-12)


def test_a_wide_window_count_needs_6_1_hours_after_a_development_25_min_after_eos(
        engine, lam):
    q0 = 1.0 - math.exp(-(lam["Bi-212"] - lam["Pb-212"]) * 25 * 60)  # 0.228 of equilibrium
    by_hand = strip_wait_by_hand(lam, q0, 0.1 * 5 / 95)
    assert by_hand / HOUR == pytest.approx(6.09, abs=0.01)
    assert strip_wait_s(engine, product="Pb-212", daughter="Bi-212", developed_fraction=q0,
                        share=0.1 * 5 / 95) == pytest.approx(by_hand, abs=1e-3)
    # an eluate whose Bi-212 was in equilibrium at development: ln(190) / k = 8.44 h
    assert strip_wait_by_hand(lam, 1.0, 0.1 * 5 / 95) / HOUR == pytest.approx(8.44, abs=0.01)


def test_a_wide_window_count_2_h_after_development_is_refused_with_the_time_it_is_valid(
        engine, lam):
    q0 = 1.0 - math.exp(-(lam["Bi-212"] - lam["Pb-212"]) * 25 * 60)
    counted = DEVELOPED + timedelta(hours=2)
    outcome = evaluate(WINDOW, Measurement(96.0, "", counted, {"developed_at": DEVELOPED},
                                           counting_window="wide"), batch(), engine)
    assert outcome.verdict == Verdict.INVALID
    valid_from = DEVELOPED + timedelta(seconds=strip_wait_by_hand(lam, q0, 0.1 * 5 / 95))
    assert abs((outcome.valid_from - valid_from).total_seconds()) <= 1.0
    assert outcome.message.startswith("Counted in a wide window 2.00 h after the strip")
    assert "Count again after" in outcome.message and "or count the Pb-212 line" in (
        outcome.message)


def test_a_wide_window_count_after_the_wait_is_judged(engine):
    counted = DEVELOPED + timedelta(hours=6, minutes=10)
    outcome = evaluate(WINDOW, Measurement(96.0, "", counted, {"developed_at": DEVELOPED},
                                           counting_window="wide"), batch(), engine)
    assert outcome.verdict == Verdict.PASS


def test_a_count_on_the_pb212_line_is_valid_at_once(engine):
    counted = DEVELOPED + timedelta(minutes=1)
    outcome = evaluate(WINDOW, Measurement(96.0, "", counted, {"developed_at": DEVELOPED},
                                           counting_window="product_line"), batch(), engine)
    assert outcome.verdict == Verdict.PASS


def test_a_count_without_its_window_or_a_wide_one_without_development_is_refused(engine):
    counted = DEVELOPED + timedelta(hours=9)
    unknown = evaluate(WINDOW, Measurement(96.0, "", counted), batch(), engine)
    assert unknown.verdict == Verdict.INVALID
    assert "counting window is not recorded" in unknown.message
    undated = evaluate(WINDOW, Measurement(96.0, "", counted, counting_window="wide"),
                       batch(), engine)
    assert undated.verdict == Verdict.INVALID and "developed_at" in undated.message


# --- the rules a specification must state ---------------------------------------------------


@pytest.mark.parametrize("rule, words", [
    (Rule("ph", "pH", "pH", lower=5.5, validity="daughter_correction",
          validity_nuclide="Bi-212", validity_value=0.1), "corrects an activity reading"),
    (Rule("a", "Activity", "%", quantity="activity", validity="daughter_correction",
          validity_nuclide="Bi-212"), "product's own share"),
    (Rule("rcp", "RCP", "%", validity="counting_window", validity_nuclide="Bi-212"),
     "limit between 0 and 100 %"),
    (Rule("a", "Activity", "%", quantity="activity", validity="daughter_ratio"),
     "names the daughter"),
    (Rule("a", "Activity", "%", quantity="activity", validity="daughter_ratio",
          validity_nuclide="Bi-212", validity_value=1.5), "tolerance must be between 0 and 1"),
])
def test_a_criterion_that_follows_a_daughter_must_say_how(rule, words):
    with pytest.raises(ValueError, match=words):
        check_rule(rule)


def test_a_daughter_outside_the_products_chain_is_refused_when_the_specification_is_written(
        engine):
    rule = Rule("rcp", "RCP", "%", lower=95.0, validity="counting_window",
                validity_nuclide="Fr-221")
    assert "Fr-221 is not in the decay chain of Pb-212" in specification_daughter_problem(
        rule, engine, product="Pb-212")
    assert specification_daughter_problem(WINDOW, engine, product="Pb-212") is None


def test_a_reading_at_the_moment_of_separation_is_corrected_by_1_over_s(engine):
    # q = 0: only the product's own share of the equilibrium reading shows
    outcome = evaluate(CORRECTED, Measurement(0.1 * pb212_activity(EOS), "", EOS), batch(),
                       engine)
    assert outcome.verdict == Verdict.PASS
    assert "corrected x10 to Pb-212 (Bi-212 at 0 % of equilibrium" in outcome.message
    with pytest.raises(ValueError, match="between 0 and 1"):
        check_rule(Rule("a", "Activity", "%", quantity="activity",
                        validity="daughter_correction", validity_nuclide="Bi-212",
                        validity_value=0.0))
