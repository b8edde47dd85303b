"""Pure evaluation: verdicts, decay-corrected judging, validity windows, expiry, decay table."""

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from qc.evaluation.decay_table import decay_table
from qc.evaluation.expiry import compute_expiry
from qc.evaluation.values import BatchTimes, Measurement, Rule, Verdict
from qc.evaluation.verdicts import evaluate
from qc.physics.decay import get_engine

DAY = 86400.0
EOS = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
CALIBRATION = EOS + timedelta(hours=1)


@pytest.fixture(scope="module")
def engine():
    """A site that chose the current Ac-225 (9.920 d) and ENSDF Fr-221 (4.801 min) values."""
    return get_engine({"Ac-225": 9.920 * DAY, "Fr-221": 4.801 * 60})


def ac225_batch(**changes):
    batch = BatchTimes(
        product_nuclide="Ac-225",
        eos=EOS,
        calibration_time=CALIBRATION,
        expiry=EOS + timedelta(hours=3),
        activity_at_calibration_bq=8.0e6,
        volume_ml=5.0,
    )
    return replace(batch, **changes)


def pb212_batch(**changes):
    batch = BatchTimes("Pb-212", EOS, CALIBRATION, EOS + timedelta(hours=24), 1.0e9, 10.0)
    return replace(batch, **changes)


def bi213_batch(**changes):
    batch = BatchTimes("Bi-213", EOS, EOS, EOS + timedelta(hours=1), 1.0e9, 5.0)
    return replace(batch, **changes)


def measured(value=None, text="", at=EOS + timedelta(minutes=50), **kwargs):
    return Measurement(value=value, text=text, measured_at=at, **kwargs)


RCP = Rule(test_code="rcp", name="RCP", unit="%", lower=95)
RCP_TLC = replace(RCP, validity="daughter_equilibrium", validity_nuclide="Fr-221")
PH = Rule(test_code="ph", name="pH", unit="pH", lower=5.5, upper=9.0)
ENDOTOXIN = Rule(
    test_code="endotoxin", name="Endotoxin", unit="EU/mL", upper=5, upper_inclusive=False
)
STERILITY = Rule(
    test_code="sterility",
    name="Sterility",
    unit="",
    text_requirement="sterile",
    release_before_result=True,
)
FILTER = Rule(
    test_code="filter", name="Filter integrity", unit="", text_requirement="pass|conforms"
)
ACTIVITY = Rule(
    test_code="activity",
    name="Activity",
    unit="%",
    lower=95,
    upper=105,
    judged_at="calibration",
    quantity="activity",
)
CONCENTRATION = Rule(
    test_code="conc",
    name="Activity concentration",
    unit="MBq/mL",
    lower=0.4,
    upper=2.8,
    judged_at="calibration",
    quantity="activity_concentration",
)
AC227_SHARE = Rule(
    test_code="ac227",
    name="Ac-227/Ac-225",
    unit="%",
    upper=0.7,
    judged_at="expiry",
    quantity="impurity_ratio",
    impurity_nuclide="Ac-227",
)
RA224_BREAKTHROUGH = Rule(
    test_code="ra224",
    name="Ra-224 breakthrough",
    unit="%",
    upper=0.01,
    judged_at="calibration",
    quantity="breakthrough",
    impurity_nuclide="Ra-224",
    validity="recount_line",
    validity_nuclide="Pb-212",
)
AC225_BREAKTHROUGH = Rule(
    test_code="ac225",
    name="Ac-225 breakthrough",
    unit="%",
    upper=0.002,
    judged_at="calibration",
    quantity="breakthrough",
    impurity_nuclide="Ac-225",
    validity="product_half_lives",
    validity_value=10,
    # counted on the Fr-221 218 keV line (the reference method), which Bi-213 does not feed:
    # the count reads Ac-225 within 10 % once Fr-221 has regrown (16 min), so the 10
    # half-lives (7.60 h) decide. On the Bi-213 line 14.4 h are needed (tests/qc/
    # test_recount.py).
    validity_nuclide="Fr-221",
)


# --- pending ----------------------------------------------------------------------------------


def test_a_missing_result_is_pending_and_says_release_must_wait(engine):
    outcome = evaluate(RCP, None, ac225_batch(), engine)
    assert outcome.verdict == Verdict.PENDING
    assert outcome.message == "RCP: no result yet; release must wait for this result"
    assert outcome.measured_value is None and outcome.projected_value is None


def test_a_missing_sterility_result_is_pending_but_allows_release_before_the_result(engine):
    outcome = evaluate(STERILITY, None, ac225_batch(), engine)
    assert outcome.verdict == Verdict.PENDING
    assert "release may proceed before the result" in outcome.message


# --- limits -----------------------------------------------------------------------------------


def test_an_rcp_below_the_lower_limit_fails_with_a_readable_message(engine):
    outcome = evaluate(RCP, measured(93.1), ac225_batch(), engine)
    assert outcome.verdict == Verdict.FAIL
    assert outcome.message == "RCP 93.1 % is below the lower limit >= 95 %"
    assert outcome.measured_value == outcome.projected_value == 93.1
    assert outcome.judged_at_time == EOS + timedelta(minutes=50)


def test_an_rcp_above_the_lower_limit_passes(engine):
    outcome = evaluate(RCP, measured(97.4), ac225_batch(), engine)
    assert outcome.verdict == Verdict.PASS
    assert outcome.message == "RCP 97.4 % meets >= 95 %"


def test_a_value_on_an_inclusive_limit_passes(engine):
    assert evaluate(RCP, measured(95.0), ac225_batch(), engine).verdict == Verdict.PASS
    assert evaluate(PH, measured(9.0), ac225_batch(), engine).verdict == Verdict.PASS


def test_a_value_on_an_exclusive_limit_fails(engine):
    outcome = evaluate(ENDOTOXIN, measured(5.0), ac225_batch(), engine)
    assert outcome.verdict == Verdict.FAIL
    assert outcome.message == "Endotoxin 5 EU/mL is at, and so fails, the upper limit < 5 EU/mL"
    exclusive_rcp = replace(RCP, lower_inclusive=False)
    assert evaluate(exclusive_rcp, measured(95.0), ac225_batch(), engine).verdict == Verdict.FAIL


def test_a_value_just_inside_an_exclusive_limit_passes(engine):
    assert evaluate(ENDOTOXIN, measured(4.99), ac225_batch(), engine).verdict == Verdict.PASS


def test_a_value_just_below_a_limit_is_not_printed_as_the_limit(engine):
    outcome = evaluate(RCP, measured(94.96), ac225_batch(), engine)
    assert outcome.message == "RCP 94.96 % is below the lower limit >= 95 %"


def test_a_ph_outside_its_range_names_the_limit_it_broke(engine):
    assert evaluate(PH, measured(7.2), ac225_batch(), engine).message == (
        "pH 7.2 meets >= 5.5 and <= 9"
    )
    assert evaluate(PH, measured(9.4), ac225_batch(), engine).message == (
        "pH 9.4 is above the upper limit <= 9"
    )


def test_a_numeric_rule_without_a_number_is_invalid(engine):
    outcome = evaluate(RCP, measured(None, text="looks fine"), ac225_batch(), engine)
    assert outcome.verdict == Verdict.INVALID
    assert "no numeric result" in outcome.message


# --- text criteria ----------------------------------------------------------------------------


def test_a_text_result_passes_when_it_is_one_of_the_accepted_results_in_any_case(engine):
    outcome = evaluate(FILTER, measured(text="  Conforms "), ac225_batch(), engine)
    assert outcome.verdict == Verdict.PASS
    assert outcome.message == "Filter integrity 'Conforms' is an accepted result"


def test_a_text_result_that_is_not_accepted_fails_listing_the_accepted_results(engine):
    outcome = evaluate(FILTER, measured(text="failed"), ac225_batch(), engine)
    assert outcome.verdict == Verdict.FAIL
    assert outcome.message == (
        "Filter integrity 'failed' is not an accepted result (pass | conforms)"
    )


def test_an_empty_text_result_is_invalid(engine):
    assert evaluate(FILTER, measured(text="  "), ac225_batch(), engine).verdict == Verdict.INVALID


# --- validity windows -------------------------------------------------------------------------


def test_a_tlc_strip_counted_too_early_is_invalid_and_says_how_long_to_wait(engine):
    developed = EOS + timedelta(minutes=10)
    counted = developed + timedelta(minutes=12)
    tlc = measured(93.1, at=counted, method_times={"developed_at": developed})
    outcome = evaluate(RCP_TLC, tlc, ac225_batch(), engine)
    assert outcome.verdict == Verdict.INVALID
    assert outcome.message == (
        "Counted 12.0 min after the strip was developed; Fr-221 reaches 99 % of equilibrium "
        "with Ac-225 31.9 min after development. Count again after 2026-11-22 10:41:55 UTC "
        "(19.9 min from the count)."
    )
    assert outcome.valid_from == datetime(2026, 11, 22, 10, 41, 55, tzinfo=UTC)
    assert outcome.measured_value == 93.1 and outcome.projected_value is None


def test_a_tlc_strip_counted_after_fr221_equilibrium_is_judged(engine):
    developed = EOS + timedelta(minutes=10)
    tlc = measured(
        97.0, at=developed + timedelta(minutes=35), method_times={"developed_at": developed}
    )
    outcome = evaluate(RCP_TLC, tlc, ac225_batch(), engine)
    assert outcome.verdict == Verdict.PASS
    assert outcome.valid_from == datetime(2026, 11, 22, 10, 41, 55, tzinfo=UTC)


def test_a_tlc_count_without_the_development_time_is_invalid(engine):
    outcome = evaluate(RCP_TLC, measured(97.0), ac225_batch(), engine)
    assert outcome.verdict == Verdict.INVALID
    assert "developed_at" in outcome.message and "is missing" in outcome.message


def test_a_tlc_counted_in_the_bi213_window_needs_about_five_hours(engine):
    bi213_window = replace(RCP_TLC, validity_nuclide="Bi-213")
    developed = EOS
    tlc = measured(
        97.0, at=developed + timedelta(hours=1), method_times={"developed_at": developed}
    )
    outcome = evaluate(bi213_window, tlc, ac225_batch(), engine)
    assert outcome.verdict == Verdict.INVALID
    assert "Bi-213 reaches 99 % of equilibrium with Ac-225 5.19 h after development" in (
        outcome.message
    )


def test_an_ac225_breakthrough_recount_before_ten_bi213_half_lives_is_invalid(engine):
    recount = measured(10.0, at=EOS + timedelta(hours=5))
    outcome = evaluate(AC225_BREAKTHROUGH, recount, bi213_batch(), engine)
    assert outcome.verdict == Verdict.INVALID
    assert outcome.message == (
        "Counted 5.00 h after EOS; the count is valid only 10 half-lives of Bi-213 (7.60 h) "
        "after EOS. Count again after 2026-11-22 17:35:54 UTC (2.60 h from the count)."
    )


def test_an_ac225_breakthrough_recount_after_ten_bi213_half_lives_is_judged(engine):
    recount = measured(10.0, at=EOS + timedelta(hours=8))
    outcome = evaluate(AC225_BREAKTHROUGH, recount, bi213_batch(), engine)
    assert outcome.verdict == Verdict.PASS
    assert outcome.valid_from == datetime(2026, 11, 22, 17, 35, 54, tzinfo=UTC)


# --- decay-corrected quantities ---------------------------------------------------------------


def test_activity_is_decay_corrected_to_calibration_and_judged_as_percent_of_nominal(engine):
    two_hours_early = CALIBRATION - timedelta(hours=2)
    grown_back = 8.0e6 / engine.decay_factor("Ac-225", 2 * 3600.0)
    outcome = evaluate(
        ACTIVITY, measured(1.02 * grown_back, at=two_hours_early), ac225_batch(), engine
    )
    assert outcome.verdict == Verdict.PASS
    assert outcome.projected_value == pytest.approx(102.0)
    assert outcome.judged_at_time == CALIBRATION
    assert outcome.message == (
        "Activity 102 % of the stated activity at calibration (2026-11-22 11:00:00 UTC) meets "
        ">= 95 % and <= 105 %; measured 8.21 MBq at 2026-11-22 09:00:00 UTC"
    )


def test_an_activity_short_of_nominal_fails(engine):
    outcome = evaluate(ACTIVITY, measured(7.0e6, at=CALIBRATION), ac225_batch(), engine)
    assert outcome.verdict == Verdict.FAIL
    assert outcome.projected_value == pytest.approx(87.5)


def test_an_activity_concentration_is_decay_corrected_with_the_product_nuclide(engine):
    pb212_conc = replace(CONCENTRATION, lower=50, upper=150)
    a_day_later = CALIBRATION + timedelta(hours=24)
    outcome = evaluate(pb212_conc, measured(20.0, at=a_day_later), pb212_batch(), engine)
    expected = 20.0 * 2 ** (24 / 10.64)
    assert outcome.projected_value == pytest.approx(expected, rel=1e-9)
    assert outcome.verdict == Verdict.PASS


def test_a_failing_ra224_breakthrough_is_decayed_back_to_calibration(engine):
    # Issue 14: a recount at 72 h read the product's own Pb-212 (~145 times the supported),
    # so the recount is now made 9 d after EOS, after the 8.32 d the Pb-212 line needs with
    # calibration 1 h after EOS. It finds 100 kBq Ra-224; at calibration (215 h earlier) that
    # was 100 kBq * 2^(215 h / 3.66 d) = 546 kBq, 0.0546 % of the 1 GBq Pb-212
    recount = measured(1.0e5, at=EOS + timedelta(days=9))
    outcome = evaluate(RA224_BREAKTHROUGH, recount, pb212_batch(), engine)
    expected = 100 * 1.0e5 * 2 ** (215 / (3.66 * 24)) / 1.0e9
    assert outcome.verdict == Verdict.FAIL
    assert outcome.projected_value == pytest.approx(expected, rel=1e-9)
    assert outcome.message == (
        "Ra-224 breakthrough 0.0546 % of the Pb-212 activity at calibration "
        "(2026-11-22 11:00:00 UTC) is above the upper limit <= 0.01 %; recount found "
        "100 kBq Ra-224 at 2026-12-01 10:00:00 UTC"
    )


def test_a_small_ra224_breakthrough_passes(engine):
    # 10 kBq 9 d after EOS: 54.6 kBq at calibration, 0.00546 % of 1 GBq
    recount = measured(1.0e4, at=EOS + timedelta(days=9))
    assert evaluate(RA224_BREAKTHROUGH, recount, pb212_batch(), engine).verdict == Verdict.PASS


# --- Ac-227 share and expiry ------------------------------------------------------------------


def lot_measurement(ratio_percent, reference):
    return measured(ratio_percent, at=EOS, reference_time=reference)


def test_an_ac227_share_that_passes_at_release_fails_at_expiry_and_so_shortens_expiry(engine):
    eob = EOS - timedelta(days=10)  # the lot certificate gives 0.3 % at end of bombardment
    shelf_life = timedelta(days=4)
    batch = ac225_batch(expiry=EOS + shelf_life)
    lot = lot_measurement(0.3, eob)

    at_release = evaluate(replace(AC227_SHARE, judged_at="calibration"), lot, batch, engine)
    at_shelf_life_expiry = evaluate(AC227_SHARE, lot, batch, engine)
    assert at_release.verdict == Verdict.PASS  # 0.61 % at calibration
    assert at_shelf_life_expiry.verdict == Verdict.FAIL  # 0.80 % after 14 days
    assert at_shelf_life_expiry.projected_value == pytest.approx(0.3 * 2.657, rel=1e-3)

    constraint = compute_expiry(
        eos=EOS,
        shelf_life=shelf_life,
        rules=[AC227_SHARE, CONCENTRATION],
        batch=batch,
        impurity_ratio_at_ref={"Ac-227": (0.3, eob)},
        engine=engine,
    )
    # 0.3 % -> 0.7 % takes ln(7/3) / (lambda_225 - lambda_227) = 12.14 d after EOB
    assert constraint.expiry < EOS + shelf_life
    assert (constraint.expiry - eob).total_seconds() / DAY == pytest.approx(12.14, abs=0.01)
    assert constraint.reason == "Ac-227/Ac-225 reaches the 0.7 % limit"

    at_new_expiry = evaluate(AC227_SHARE, lot, replace(batch, expiry=constraint.expiry), engine)
    assert at_new_expiry.verdict == Verdict.PASS
    assert at_new_expiry.projected_value == pytest.approx(0.7, abs=1e-6)
    assert at_new_expiry.judged_at_time == constraint.expiry


def test_judging_at_an_unknown_expiry_is_refused(engine):
    with pytest.raises(ValueError, match="expiry unknown"):
        evaluate(AC227_SHARE, lot_measurement(0.3, EOS), ac225_batch(expiry=None), engine)


def test_without_decay_constraints_the_expiry_is_eos_plus_shelf_life(engine):
    constraint = compute_expiry(
        eos=EOS,
        shelf_life=timedelta(hours=3),
        rules=[RCP, PH, replace(AC227_SHARE, judged_at="calibration")],
        batch=ac225_batch(expiry=None),
        impurity_ratio_at_ref={},
        engine=engine,
    )
    assert constraint.expiry == EOS + timedelta(hours=3)
    assert constraint.reason == "EOS + approved shelf life (3 h)"


def test_an_activity_concentration_floor_judged_at_expiry_can_set_the_expiry(engine):
    floor = replace(CONCENTRATION, judged_at="expiry")  # >= 0.4 MBq/mL at expiry
    batch = pb212_batch(expiry=None, activity_at_calibration_bq=8.0e6, volume_ml=10.0)
    constraint = compute_expiry(
        eos=EOS,
        shelf_life=timedelta(hours=24),
        rules=[floor],
        batch=batch,
        impurity_ratio_at_ref={},
        engine=engine,
    )
    # 0.8 MBq/mL halves to the 0.4 MBq/mL floor in one Pb-212 half-life (10.64 h)
    expected = CALIBRATION + timedelta(hours=10.64)
    assert abs((constraint.expiry - expected).total_seconds()) <= 1
    assert constraint.reason == "Activity concentration falls to the >= 0.4 MBq/mL limit"


def test_an_expiry_that_needs_a_lot_ratio_without_one_is_refused(engine):
    with pytest.raises(ValueError, match="No Ac-227/Ac-225 ratio from the source lot"):
        compute_expiry(
            eos=EOS,
            shelf_life=timedelta(days=4),
            rules=[AC227_SHARE],
            batch=ac225_batch(expiry=None),
            impurity_ratio_at_ref={},
            engine=engine,
        )


# --- decay table ------------------------------------------------------------------------------


def test_the_decay_table_runs_from_calibration_to_expiry_with_the_key_daughters(engine):
    table = decay_table(
        product_nuclide="ac225",
        activity_bq=8.0e6,
        reference_time=CALIBRATION,
        until=CALIBRATION + timedelta(hours=3),
        step=None,
        engine=engine,
    )
    assert table["data_source"] == engine.data_source
    assert table["times"][0] == "2026-11-22T11:00:00Z"
    assert table["times"][-1] == "2026-11-22T14:00:00Z"
    assert len(table["times"]) <= 25
    assert table["step_s"] == 600  # 10 min: the finest readable step that fits 25 rows
    nuclides = table["activities_Bq"]
    assert list(nuclides)[0] == "Ac-225"
    assert {"Fr-221", "Bi-213"} <= set(nuclides)
    assert nuclides["Ac-225"][0] == pytest.approx(8.0e6)
    assert all(len(values) == len(table["times"]) for values in nuclides.values())


def test_the_decay_table_leaves_out_daughters_that_never_reach_1_percent(engine):
    # within 10 minutes of separation Pb-209 (3.25 h, fed through 45.6 min Bi-213) stays tiny
    table = decay_table(
        product_nuclide="Ac-225",
        activity_bq=1.0e6,
        reference_time=EOS,
        until=EOS + timedelta(minutes=10),
        step=timedelta(minutes=1),
        engine=engine,
    )
    assert "Pb-209" not in table["activities_Bq"]
    assert "Fr-221" in table["activities_Bq"]
    assert len(table["times"]) == 11


def test_short_lived_daughters_follow_their_parent_from_the_first_row(engine):
    # Po-213 (3.7 us) is in equilibrium with Bi-213 within microseconds of separation: the
    # table must not show it jumping from 0 to the parent's activity in the first step.
    table = decay_table(product_nuclide="Bi-213", activity_bq=1.5e9, reference_time=EOS,
                        until=EOS + timedelta(hours=1), step=None, engine=engine)
    bi, po = table["activities_Bq"]["Bi-213"], table["activities_Bq"]["Po-213"]
    assert bi[0] == pytest.approx(1.5e9)
    for row in range(len(bi)):
        assert po[row] / bi[row] == pytest.approx(po[-1] / bi[-1], rel=1e-3)
    assert po[0] / bi[0] == pytest.approx(0.978, abs=0.005)  # the Bi-213 alpha/beta branch
    # a daughter that really grows in, Pb-209 (3.25 h), still starts from zero
    assert table["activities_Bq"]["Pb-209"][0] == 0.0


def test_a_decay_table_step_that_gives_too_many_rows_is_refused(engine):
    with pytest.raises(ValueError, match="rows"):
        decay_table(
            product_nuclide="Pb-212",
            activity_bq=1.0e9,
            reference_time=EOS,
            until=EOS + timedelta(days=1),
            step=timedelta(minutes=5),
            engine=engine,
        )


# --- inputs ------------------------------------------------------------------------------------


def test_a_naive_datetime_is_refused(engine):
    naive = Measurement(97.0, "", datetime(2026, 11, 22, 10, 50), {})
    with pytest.raises(ValueError, match="no time zone"):
        evaluate(RCP, naive, ac225_batch(), engine)


def test_a_misconfigured_rule_is_refused(engine):
    with pytest.raises(ValueError, match="judged_at"):
        evaluate(replace(RCP, judged_at="whenever"), measured(97.0), ac225_batch(), engine)
    with pytest.raises(ValueError, match="impurity nuclide"):
        evaluate(
            replace(RA224_BREAKTHROUGH, impurity_nuclide=""), measured(1.0), pb212_batch(), engine
        )


def test_an_impurity_ratio_measured_after_the_judged_time_is_corrected_back(engine):
    # a ratio known at expiry corrects back to calibration by each nuclide's own decay
    rule = replace(AC227_SHARE, judged_at="calibration")
    later = measured(0.7, reference_time=CALIBRATION + timedelta(days=7))
    outcome = evaluate(rule, later, ac225_batch(), engine)
    lam_gap = math.log(2) / (9.920 * DAY) - engine.decay_constant("Ac-227")
    assert outcome.projected_value == pytest.approx(0.7 * math.exp(-lam_gap * 7 * DAY), rel=1e-9)
