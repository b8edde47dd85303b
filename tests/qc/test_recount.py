"""Breakthrough recounts: the earliest valid count comes from the chain, the limit and the
counted line, not from a typed number of product half-lives (issue 14)."""

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from qc.evaluation.recount import specification_recount_problem
from qc.evaluation.values import BatchTimes, Measurement, Rule, Verdict
from qc.evaluation.verdicts import evaluate
from qc.physics.decay import get_engine
from qc.physics.recount import RecountImpossible, recount_reading_error, recount_wait_s

HOUR, DAY = 3600.0, 86400.0
EOS = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
LN2 = math.log(2)


@pytest.fixture(scope="module")
def engine():
    return get_engine()


RA224_ON_PB212_LINE = Rule(
    test_code="ra224", name="Ra-224 breakthrough", unit="%", upper=0.01,
    judged_at="calibration", quantity="breakthrough", impurity_nuclide="Ra-224",
    validity="recount_line", validity_nuclide="Pb-212", validity_value=0.1)
AC225_ON_BI213_LINE = Rule(
    test_code="ac225", name="Ac-225 breakthrough", unit="%", upper=0.002,
    judged_at="calibration", quantity="breakthrough", impurity_nuclide="Ac-225",
    validity="recount_line", validity_nuclide="Bi-213", validity_value=0.1)


def pb212_batch():
    return BatchTimes("Pb-212", EOS, EOS, EOS + timedelta(hours=24), 1.0e9, 10.0)


def test_at_72_h_the_left_over_pb212_is_145_times_what_ra224_at_the_limit_supports(engine):
    # unsupported: 2^(-72 h / T(Pb-212)) = 0.0092; grown in from 0.01 % Ra-224:
    # 1e-4 * lambda_Pb / (lambda_Pb - lambda_Ra) * (2^(-72 h / T(Ra)) - 2^(-72 h / T(Pb)))
    # = 1e-4 * 1.138 * (0.567 - 0.0092) = 6.34e-5 -> ratio ~145
    t_pb, t_ra = engine.half_life_s("Pb-212"), engine.half_life_s("Ra-224")
    unsupported = 2 ** (-72 * HOUR / t_pb)
    supported = engine.project({"Ra-224": 1e-4}, [72 * HOUR])["Pb-212"][0]
    by_hand = 1e-4 * t_ra / (t_ra - t_pb) * (2 ** (-72 * HOUR / t_ra) - unsupported)
    assert supported == pytest.approx(by_hand, rel=1e-3)
    assert unsupported / supported == pytest.approx(145, rel=0.01)
    # so the Pb-212 line shows 146 times the supported Pb-212: "1.46 %" instead of 0.01 %
    assert 0.01 * (unsupported + supported) / supported == pytest.approx(1.46, rel=0.01)
    # read as Ra-224 in equilibrium (Pb-212 / 1.138) against the Ra-224 actually there
    # (1e-4 * 0.567), the count says 143 times the truth: 1.43 %
    [error] = recount_reading_error(
        engine, product_inventory={"Pb-212": 1.0}, product="Pb-212", impurity="Ra-224",
        counted="Pb-212", share=1e-4, share_at_s=0.0, times_s=[72 * HOUR])
    reading = (unsupported + supported) / (t_ra / (t_ra - t_pb))
    assert 1 + error == pytest.approx(reading / (1e-4 * 2 ** (-72 * HOUR / t_ra)), rel=1e-3)
    assert 0.01 * (1 + error) == pytest.approx(1.43, abs=0.01)


def test_a_ra224_recount_on_the_pb212_line_is_valid_after_8_3_days_not_72_h(engine):
    # unsupported / supported = exp(-(lambda_Pb - lambda_Ra) t) / (1e-4 * 1.138) <= 0.1
    # -> t = ln(1 / 1.138e-5) / (lambda_Pb - lambda_Ra) = 8.28 d
    t_pb, t_ra = engine.half_life_s("Pb-212"), engine.half_life_s("Ra-224")
    ratio = t_ra / (t_ra - t_pb)
    by_hand = math.log(1 / (0.1 * 1e-4 * ratio)) / (LN2 / t_pb - LN2 / t_ra)
    wait = recount_wait_s(engine, product="Pb-212", impurity="Ra-224", counted="Pb-212",
                          share=1e-4, tolerance=0.1)
    assert wait / DAY == pytest.approx(8.28, abs=0.01)
    assert wait == pytest.approx(by_hand, rel=1e-3)


def test_an_ac225_recount_on_the_bi213_line_needs_14_h_not_ten_bi213_half_lives(engine):
    # Ac-225 supports Bi-213 via Fr-221 at ~1.0 of its activity; the product's Bi-213 must
    # fall to 0.1 * 2e-5: t = ln(5e5) * T(Bi-213) / ln 2 = 18.9 half-lives = 14.4 h
    t_bi = engine.half_life_s("Bi-213")
    ratio = engine.equilibrium_ratio("Ac-225", "Bi-213")
    by_hand = math.log(1 / (0.1 * 2e-5 * ratio)) / (LN2 / t_bi - LN2 / engine.half_life_s(
        "Ac-225"))
    wait = recount_wait_s(engine, product="Bi-213", impurity="Ac-225", counted="Bi-213",
                          share=2e-5)
    assert wait / HOUR == pytest.approx(14.4, abs=0.05)
    assert wait == pytest.approx(by_hand, rel=1e-3)
    assert wait > 10 * t_bi


def test_a_line_the_product_does_not_feed_is_valid_once_the_daughter_has_grown_in(engine):
    # Fr-221 (218 keV): Bi-213 feeds none of it; the count reads Ac-225 within 10 % once
    # Fr-221 has regrown to 90 %: 3.32 Fr-221 half-lives = 16 min
    wait = recount_wait_s(engine, product="Bi-213", impurity="Ac-225", counted="Fr-221",
                          share=2e-5)
    assert wait / 60 == pytest.approx(math.log2(10) * engine.half_life_s("Fr-221") / 60,
                                      rel=0.01)


def test_a_line_the_impurity_does_not_feed_can_never_read_it(engine):
    with pytest.raises(RecountImpossible, match="Tl-209 is not fed by Ra-224"):
        recount_wait_s(engine, product="Pb-212", impurity="Ra-224", counted="Tl-209",
                       share=1e-4)


def test_a_ra224_recount_at_72_h_is_refused_with_the_time_the_count_becomes_valid(engine):
    recount = Measurement(value=2.0e4, text="", measured_at=EOS + timedelta(hours=72))
    outcome = evaluate(RA224_ON_PB212_LINE, recount, pb212_batch(), engine)
    assert outcome.verdict == Verdict.INVALID
    assert outcome.valid_from - EOS == pytest.approx(timedelta(days=8.28), abs=timedelta(
        minutes=15))
    assert outcome.message.startswith(
        "Counted 3.00 d after EOS; on the Pb-212 line the product's own Pb-212 must be below "
        "10 % of what Ra-224 at the 0.01 % limit supports, which it is only 8.28 d after EOS. "
        "Count again after 2026-11-30")


def test_a_ra224_recount_after_the_derived_wait_is_judged(engine):
    recount = Measurement(value=2.0e4, text="", measured_at=EOS + timedelta(days=8, hours=8))
    outcome = evaluate(RA224_ON_PB212_LINE, recount, pb212_batch(), engine)
    assert outcome.verdict == Verdict.PASS


def test_a_later_calibration_lowers_the_limit_in_bq_and_lengthens_the_wait(engine):
    # at calibration 1 h after EOS the product has lost 6.3 %, Ra-224 0.8 %: the limit in Bq
    # falls by 5.5 %, and the product needs ln(1/0.945) / (lambda_Pb - lambda_Ra) = 59 min
    # more to decay below 10 % of it
    batch = replace(pb212_batch(), calibration_time=EOS + timedelta(hours=1))
    recount = Measurement(value=2.0e4, text="", measured_at=EOS + timedelta(days=9))
    early = evaluate(RA224_ON_PB212_LINE, recount, pb212_batch(), engine).valid_from
    late = evaluate(RA224_ON_PB212_LINE, recount, batch, engine).valid_from
    assert (late - early).total_seconds() / 60 == pytest.approx(59, abs=1)


def test_a_typed_wait_of_6_8_pb212_half_lives_is_refused_with_the_wait_it_needs(engine):
    typed = replace(RA224_ON_PB212_LINE, validity="product_half_lives", validity_value=6.8,
                    validity_nuclide="")
    problem = specification_recount_problem(typed, engine, product="Pb-212",
                                            shelf_life_s=24 * HOUR)
    assert problem == (
        "Ra-224 breakthrough: a recount 6.8 half-lives of Pb-212 (3.01 d) after EOS cannot "
        "measure its own limit: on the Pb-212 line the product's own Pb-212 must be below "
        "10 % of what Ra-224 at the 0.01 % limit supports, which takes 8.28 d after EOS. Set "
        "the wait to at least 8.28 d (18.7 half-lives), or use the recount_line validity, "
        "which derives it.")


def test_a_typed_wait_long_enough_for_the_limit_is_accepted(engine):
    typed = replace(RA224_ON_PB212_LINE, validity="product_half_lives", validity_value=19,
                    validity_nuclide="")
    assert specification_recount_problem(typed, engine, product="Pb-212",
                                         shelf_life_s=24 * HOUR) is None


def test_a_recount_on_a_line_that_cannot_see_the_impurity_is_refused_in_the_specification(
        engine):
    never = replace(RA224_ON_PB212_LINE, validity_nuclide="Bi-213")
    problem = specification_recount_problem(never, engine, product="Pb-212",
                                            shelf_life_s=HOUR)
    assert problem == ("Ra-224 breakthrough: Bi-213 is not fed by Ra-224, so a count on its "
                       "line cannot read Ra-224; count a line of Ra-224 or of one of its "
                       "daughters.")


def test_a_typed_ten_half_life_ac225_recount_is_judged_invalid_until_the_line_can_see_it(
        engine):
    # specifications approved before the wait was derived: after the 10 half-lives asked
    # (7.6 h) but before the 14.4 h the Bi-213 line needs, the count is still invalid
    typed = replace(AC225_ON_BI213_LINE, validity="product_half_lives", validity_value=10,
                    validity_nuclide="")
    batch = BatchTimes("Bi-213", EOS, EOS, EOS + timedelta(hours=1), 1.0e9, 5.0)
    recount = Measurement(value=10.0, text="", measured_at=EOS + timedelta(hours=8))
    outcome = evaluate(typed, recount, batch, engine)
    assert outcome.verdict == Verdict.INVALID
    assert outcome.message.startswith(
        "Counted 8.00 h after EOS, after the 10 half-lives of Bi-213 (7.60 h) the "
        "specification asks, but on the Bi-213 line the product's own Bi-213 must be below "
        "10 % of what Ac-225 at the 0.002 % limit supports, which it is only 14.4 h after EOS.")
    assert outcome.valid_from - EOS == pytest.approx(timedelta(hours=14.4), abs=timedelta(
        minutes=3))
