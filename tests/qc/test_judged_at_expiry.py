"""'Judged at expiry' says what it means: a decay-physics quantity is projected to expiry and
says so; a plain result must be measured at or after expiry (issue 14)."""

from datetime import UTC, datetime, timedelta

import pytest

from qc.evaluation.recount import line_wait_s
from qc.evaluation.values import BatchTimes, Measurement, Rule, Verdict
from qc.evaluation.verdicts import evaluate
from qc.physics.decay import get_engine

EOS = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
CALIBRATION = EOS + timedelta(minutes=20)
EXPIRY = EOS + timedelta(hours=1)
BI213 = BatchTimes("Bi-213", EOS, CALIBRATION, EXPIRY, 1.1e9, 3.0)
RCP_AT_EXPIRY = Rule(test_code="rcp-expiry", name="RCP at expiry", unit="%", lower=95,
                     judged_at="expiry")
BREAKTHROUGH = Rule(
    test_code="ac225", name="Ac-225 breakthrough", unit="%", upper=0.002,
    judged_at="calibration", quantity="breakthrough", impurity_nuclide="Ac-225",
    validity="recount_line", validity_nuclide="Bi-213", validity_value=0.1)
BREAKTHROUGH_AT_EXPIRY = Rule(**{**BREAKTHROUGH.__dict__, "judged_at": "expiry"})


@pytest.fixture(scope="module")
def engine():
    return get_engine()


def test_a_plain_result_judged_at_expiry_measured_before_expiry_is_invalid(engine):
    early = Measurement(value=97.0, text="", measured_at=EXPIRY - timedelta(minutes=30))
    outcome = evaluate(RCP_AT_EXPIRY, early, BI213, engine)
    assert outcome.verdict == Verdict.INVALID
    assert outcome.valid_from == EXPIRY
    assert outcome.message == (
        "RCP at expiry is judged at expiry and is not a decay projection, so it must be "
        "measured at or after expiry (2026-11-22 11:00:00 UTC); it was measured 30.0 min "
        "before expiry. Measure it again at or after expiry.")


def test_a_plain_result_measured_at_expiry_is_judged(engine):
    at_expiry = Measurement(value=97.0, text="", measured_at=EXPIRY)
    outcome = evaluate(RCP_AT_EXPIRY, at_expiry, BI213, engine)
    assert outcome.verdict == Verdict.PASS
    assert outcome.judged_at_time == EXPIRY


def test_an_ac225_breakthrough_grows_1_84_times_from_calibration_to_expiry(engine):
    # Ac-225 (9.9 d) stays, Bi-213 (45.6 min) falls by 2^(40 min / 45.6 min) = 1.84
    recount = Measurement(value=5.0e3, text="", measured_at=EOS + timedelta(hours=16))
    at_calibration = evaluate(BREAKTHROUGH, recount, BI213, engine)
    at_expiry = evaluate(BREAKTHROUGH_AT_EXPIRY, recount, BI213, engine)
    growth = at_expiry.projected_value / at_calibration.projected_value
    by_hand = 2 ** (40 * 60 / engine.half_life_s("Bi-213")) / 2 ** (
        40 * 60 / engine.half_life_s("Ac-225"))
    assert growth == pytest.approx(by_hand, rel=1e-9)
    assert growth == pytest.approx(1.84, abs=0.01)  # 1.838 for Bi-213 alone, 1.834 net
    # 5 kBq 15 h after expiry was 5.22 kBq at expiry (Ac-225 10.0 d in ICRP-107), over
    # 1.1 GBq / 1.838 = 599 MBq Bi-213: 0.000872 %
    assert at_expiry.projected_value == pytest.approx(
        100 * 5.0e3 * 2 ** (15 * 3600 / engine.half_life_s("Ac-225"))
        / (1.1e9 / 2 ** (40 * 60 / engine.half_life_s("Bi-213"))), rel=1e-9)
    assert at_expiry.message.startswith(
        "Ac-225 breakthrough 0.000872 % of the Bi-213 activity projected to expiry "
        "(2026-11-22 11:00:00 UTC) meets")


def test_a_limit_at_expiry_needs_the_recount_40_minutes_later(engine):
    # the limit in Bq at expiry is 1.84x lower; the product's own Bi-213 (less Ac-225's slow
    # decay) needs ln(1.84) / (l_Bi - l_Ac) = 40 min more to fall below 10 % of it
    calibration = line_wait_s(BREAKTHROUGH, engine, product="Bi-213", share_at_s=20 * 60.0)
    expiry = line_wait_s(BREAKTHROUGH_AT_EXPIRY, engine, product="Bi-213",
                         share_at_s=60 * 60.0)
    assert (expiry - calibration) / 60 == pytest.approx(40, abs=0.2)
    assert expiry / 3600 == pytest.approx(15.4, abs=0.1)
