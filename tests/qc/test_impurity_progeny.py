"""An impurity judged with its progeny: Ac-227 in Ac-225 counts Th-227, Ra-223 and their
daughters grown in since the lot's reference time (issue 14)."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from qc.evaluation.expiry import compute_expiry
from qc.evaluation.values import BatchTimes, Measurement, Rule, Verdict
from qc.evaluation.verdicts import evaluate
from qc.physics.decay import get_engine
from qc.physics.shares import activity_share_percent

DAY = 86400.0
REFERENCE = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)
EOS = REFERENCE + timedelta(days=10)
LN2 = math.log(2)

AC227_WITH_PROGENY = Rule(
    test_code="ac227", name="Ac-227/Ac-225", unit="%", upper=0.7, judged_at="expiry",
    quantity="impurity_ratio", impurity_nuclide="Ac-227", impurity_with_progeny=True)


@pytest.fixture(scope="module")
def engine():
    return get_engine()


def test_after_10_days_th227_adds_31_and_ra223_9_percent_of_the_ac227_activity(engine):
    # Th-227 from 98.62 % of Ac-227 decays: A_Th / A_Ac = 0.9862 * lTh / (lTh - lAc) *
    # (1 - exp(-(lTh - lAc) t)) = 0.9862 * (1 - 2^(-10 / 18.68)) = 0.306
    projection = engine.project({"Ac-227": 1.0}, [10 * DAY])
    ac, th, ra = (projection[n][0] for n in ("Ac-227", "Th-227", "Ra-223"))
    l_th = LN2 / engine.half_life_s("Th-227")
    l_ac = LN2 / engine.half_life_s("Ac-227")
    by_hand = 0.9862 * l_th / (l_th - l_ac) * (1 - math.exp(-(l_th - l_ac) * 10 * DAY))
    assert th / ac == pytest.approx(by_hand, rel=2e-3)
    assert th / ac == pytest.approx(0.31, abs=0.005)
    assert ra / ac == pytest.approx(0.09, abs=0.005)


def test_the_share_with_progeny_is_the_whole_impurity_chain_over_the_product(engine):
    [parent] = activity_share_percent(engine, product="Ac-225", impurity="Ac-227",
                                      share_percent=0.2, reference=REFERENCE, times=[EOS])
    [whole] = activity_share_percent(engine, product="Ac-225", impurity="Ac-227",
                                     share_percent=0.2, reference=REFERENCE, times=[EOS],
                                     with_progeny=True)
    chain = engine.project({"Ac-227": 1.0}, [10 * DAY])
    total_over_parent = sum(a[0] for a in chain.values()) / chain["Ac-227"][0]
    # 1 + Th-227 0.306 + Fr-223 0.014 + Ra-223 and its short-lived daughters Rn-219, Po-215,
    # Pb-211, Bi-211, Tl-207 (6 x 0.087) = 1.84
    assert total_over_parent == pytest.approx(1.84, abs=0.01)
    assert whole == pytest.approx(parent * total_over_parent, rel=1e-9)
    # the parent alone: 0.2 % * exp((lAc225 - lAc227) 10 d) = 0.2 * 2^(10 / 10.0) = 0.40 %
    assert parent == pytest.approx(0.2 * 2 ** (10 * DAY / engine.half_life_s("Ac-225"))
                                   * 2 ** (-10 * DAY / engine.half_life_s("Ac-227")), rel=1e-6)


def test_an_ac227_share_that_passes_as_parent_alone_fails_with_its_progeny(engine):
    batch = BatchTimes("Ac-225", EOS, EOS, EOS + timedelta(hours=3), 8.0e6, 4.0)
    lot = Measurement(value=0.2, text="", measured_at=EOS, reference_time=REFERENCE)
    parent_only = evaluate(
        Rule(**{**AC227_WITH_PROGENY.__dict__, "impurity_with_progeny": False}), lot, batch,
        engine)
    assert parent_only.verdict == Verdict.PASS  # 0.40 %
    outcome = evaluate(AC227_WITH_PROGENY, lot, batch, engine)
    assert outcome.verdict == Verdict.FAIL  # 0.40 % * 1.84 = 0.747 %
    assert outcome.projected_value == pytest.approx(0.747, abs=0.001)
    assert outcome.message.startswith(
        "Ac-227/Ac-225 0.747 % (Ac-227 with its progeny) projected to expiry "
        "(2026-11-22 13:00:00 UTC) "
        "is above the upper limit <= 0.7 %")


def test_the_expiry_comes_earlier_when_the_progeny_counts(engine):
    batch = BatchTimes("Ac-225", EOS, EOS, None, 8.0e6, 4.0)
    lot = {"Ac-227": (0.15, REFERENCE)}
    kwargs = dict(eos=EOS, shelf_life=timedelta(days=5), batch=batch,
                  impurity_ratio_at_ref=lot, engine=engine)
    alone = compute_expiry(
        rules=[Rule(**{**AC227_WITH_PROGENY.__dict__, "impurity_with_progeny": False})],
        **kwargs)
    whole = compute_expiry(rules=[AC227_WITH_PROGENY], **kwargs)
    assert whole.expiry < alone.expiry
    [share] = activity_share_percent(engine, product="Ac-225", impurity="Ac-227",
                                     share_percent=0.15, reference=REFERENCE,
                                     times=[whole.expiry], with_progeny=True)
    assert share == pytest.approx(0.7, abs=1e-3)


def test_the_batch_page_curve_counts_the_progeny_when_the_criterion_does(settings):
    from types import SimpleNamespace

    from batches.web import physics

    settings.DECAY_HALF_LIFE_OVERRIDES = ""
    lot = SimpleNamespace(ac227_ratio_percent=0.2, reference_time=REFERENCE)
    [alone] = physics.ac227_share_percent(lot, [EOS])
    [whole] = physics.ac227_share_percent(lot, [EOS], with_progeny=True)
    assert whole / alone == pytest.approx(1.84, abs=0.01)
