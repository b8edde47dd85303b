"""Censored results, judged purely: a result only known to lie below ("< 2.5" EU/mL) or
above ("> 99 %") a number passes only when every value it could be meets the criterion."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from qc.evaluation.censored import compare_censored
from qc.evaluation.values import BatchTimes, Measurement, Rule, Verdict
from qc.evaluation.verdicts import evaluate
from qc.physics.decay import get_engine

EOS = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
BATCH = BatchTimes("Ac-225", EOS, EOS + timedelta(hours=1), EOS + timedelta(hours=3), 8e6, 4.0)
ENDOTOXIN_LT_5 = Rule(test_code="endotoxin", name="Endotoxin", unit="EU/mL", upper=5,
                      upper_inclusive=False)
ENDOTOXIN_LE_5 = replace(ENDOTOXIN_LT_5, upper_inclusive=True)
RCP_GE_95 = Rule(test_code="rcp", name="RCP", unit="%", lower=95)
PH = Rule(test_code="ph", name="pH", unit="pH", lower=5.5, upper=9.0)


@pytest.fixture(scope="module")
def engine():
    return get_engine({})


def judge(rule, value, censor, engine):
    return evaluate(rule, Measurement(value=value, text="", measured_at=EOS + timedelta(
        minutes=30), censor=censor), BATCH, engine)


@pytest.mark.parametrize("rule", [ENDOTOXIN_LT_5, ENDOTOXIN_LE_5])
def test_below_2_5_passes_below_5_and_at_most_5(rule, engine):
    outcome = judge(rule, 2.5, "<", engine)
    assert outcome.verdict == Verdict.PASS
    assert outcome.message.startswith("Endotoxin < 2.5 EU/mL meets")


def test_below_5_passes_below_5_every_value_under_5_does(engine):
    assert judge(ENDOTOXIN_LT_5, 5.0, "<", engine).verdict == Verdict.PASS


def test_below_10_against_below_5_cannot_pass_and_says_why(engine):
    outcome = judge(ENDOTOXIN_LT_5, 10.0, "<", engine)
    assert outcome.verdict == Verdict.FAIL
    assert "Endotoxin < 10 EU/mL cannot show conformity to < 5 EU/mL" in outcome.message
    assert "quantitation limit is above the specification limit" in outcome.message


def test_above_99_percent_passes_at_least_95_percent(engine):
    outcome = judge(RCP_GE_95, 99.0, ">", engine)
    assert outcome.verdict == Verdict.PASS
    assert outcome.message.startswith("RCP > 99 % meets")


def test_above_90_percent_cannot_show_at_least_95_percent(engine):
    outcome = judge(RCP_GE_95, 90.0, ">", engine)
    assert outcome.verdict == Verdict.FAIL and "cannot show conformity" in outcome.message


@pytest.mark.parametrize(("censor", "value", "says"), [
    ("<", 5.0, "is below the lower limit"),   # < 5.0 is surely below 5.5
    ("<", 7.0, "cannot show conformity"),     # < 7 may be 5.0
    (">", 9.5, "is above the upper limit"),
    (">", 7.0, "cannot show conformity"),     # > 7 may be 9.5
])
def test_a_two_sided_range_cannot_be_shown_by_a_one_sided_bound(censor, value, says):
    verdict, message = compare_censored(PH, value, censor)
    assert verdict == Verdict.FAIL and says in message


def test_an_unknown_censor_is_a_programming_error():
    with pytest.raises(ValueError):
        compare_censored(PH, 7.0, "~")
