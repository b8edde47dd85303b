"""An impurity's activity share over time from its share at a reference time: one function
for the evaluation, the expiry and the pages, before the reference time as well as after."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from qc.evaluation.values import BatchTimes, Measurement, Rule
from qc.evaluation.verdicts import evaluate
from qc.physics.decay import get_engine
from qc.physics.shares import activity_share_percent

DAY = 86400.0
REFERENCE = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def engine():
    return get_engine({"Ac-225": 9.920 * DAY})


def ac227_share(engine, share_percent, reference, times):
    return activity_share_percent(engine, product="Ac-225", impurity="Ac-227",
                                  share_percent=share_percent, reference=reference, times=times)


def test_the_ac227_share_before_the_lots_reference_time_is_projected_back_by_decay(engine):
    ten_days_before = REFERENCE - timedelta(days=10)
    before, at_reference = ac227_share(engine, 0.2, REFERENCE, [ten_days_before, REFERENCE])

    # Ac-225 (9.92 d) decays much faster than Ac-227 (21.8 y): ten days earlier there was
    # relatively more Ac-225, so the share was smaller, by exp(-(l225 - l227) * 10 d)
    rate = engine.decay_constant("Ac-225") - engine.decay_constant("Ac-227")
    assert before == pytest.approx(0.2 * math.exp(-rate * 10 * DAY), rel=1e-12)
    assert 0.098 < before < 0.102  # about half: ten days is about one Ac-225 half-life
    assert at_reference == pytest.approx(0.2, rel=1e-12)


def test_projecting_forward_from_the_earlier_share_returns_the_certificates_share(engine):
    earlier = REFERENCE - timedelta(days=3, hours=7)
    [before] = ac227_share(engine, 0.25, REFERENCE, [earlier])
    [again] = ac227_share(engine, before, earlier, [REFERENCE])
    assert again == pytest.approx(0.25, rel=1e-9)


def test_a_result_judged_before_the_reference_time_uses_the_same_share(engine):
    rule = Rule(test_code="ac227-share", name="Ac-227 share", unit="%", upper=0.5,
                quantity="impurity_ratio", impurity_nuclide="Ac-227")
    measured_at = REFERENCE - timedelta(days=2)
    batch = BatchTimes(product_nuclide="Ac-225", eos=measured_at - timedelta(hours=1),
                       calibration_time=measured_at, expiry=REFERENCE + timedelta(days=5),
                       activity_at_calibration_bq=1e9, volume_ml=5.0)
    outcome = evaluate(rule, Measurement(value=0.2, text="", measured_at=measured_at,
                                         reference_time=REFERENCE), batch, engine)
    assert outcome.projected_value == ac227_share(engine, 0.2, REFERENCE, [measured_at])[0]
    assert outcome.projected_value < 0.2


def test_a_share_before_the_reference_is_refused_where_one_chain_feeds_the_other(engine):
    with pytest.raises(ValueError, match="one decay chain"):
        activity_share_percent(engine, product="Ra-224", impurity="Pb-212", share_percent=1.0,
                               reference=REFERENCE, times=[REFERENCE - timedelta(hours=1)])
