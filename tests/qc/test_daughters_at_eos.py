"""The daughters' state at EOS is what the batch record says: separated at EOS, grown in
since an earlier separation, or not separated (in equilibrium); every table starts there."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from qc.evaluation.decay_table import decay_table
from qc.evaluation.values import BatchTimes
from qc.physics.decay import get_engine
from qc.physics.inventory import eos_inventory

HOUR = 3600.0
EOS = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def engine():
    return get_engine()


def test_daughters_separated_at_eos_leave_the_product_pure(engine):
    assert eos_inventory(engine, "Pb-212", separated_before_eos_s=0.0) == {"Pb-212": 1.0}


def test_pb212_not_separated_carries_bi212_in_transient_equilibrium_1_105(engine):
    # lambda_Bi / (lambda_Bi - lambda_Pb) = 10.64 h / (10.64 h - 1.009 h) = 1.105
    inventory = eos_inventory(engine, "Pb-212", separated_before_eos_s=None)
    t_pb, t_bi = engine.half_life_s("Pb-212"), engine.half_life_s("Bi-212")
    assert inventory["Bi-212"] == pytest.approx(t_pb / (t_pb - t_bi), rel=1e-9)
    assert inventory["Bi-212"] == pytest.approx(1.105, abs=0.001)


def test_bi212_grown_in_for_3_8_h_before_eos_is_at_its_peak(engine):
    # A_Bi / A_Pb = 1.105 (1 - exp(-(lBi - lPb) t)); at 3.8 h: 1.105 (1 - 2^(-3.8 h / 1.1 h))
    inventory = eos_inventory(engine, "Pb-212", separated_before_eos_s=3.8 * HOUR)
    t_pb, t_bi = engine.half_life_s("Pb-212"), engine.half_life_s("Bi-212")
    ratio = t_pb / (t_pb - t_bi)
    lam = (1 / t_bi - 1 / t_pb) * 0.6931471805599453
    by_hand = ratio * (1 - math.exp(-lam * 3.8 * HOUR))
    assert inventory["Pb-212"] == pytest.approx(1.0, rel=1e-12)
    assert inventory["Bi-212"] == pytest.approx(by_hand, rel=1e-6)
    assert inventory["Bi-212"] == pytest.approx(1.0, abs=0.02)


def test_the_batch_times_say_how_long_before_eos_the_daughters_were_separated():
    base = BatchTimes("Pb-212", EOS, EOS, None, 1e9, 5.0)
    assert base.separated_before_eos_s() == 0.0
    earlier = BatchTimes("Pb-212", EOS, EOS, None, 1e9, 5.0,
                         daughters_separated_at=EOS - timedelta(hours=2))
    assert earlier.separated_before_eos_s() == 2 * HOUR
    whole = BatchTimes("Pb-212", EOS, EOS, None, 1e9, 5.0, daughters_in_equilibrium=True)
    assert whole.separated_before_eos_s() is None


def test_the_decay_table_starts_from_the_recorded_daughters(engine):
    # Bi-213 in a 225Ac product not separated: as much as the Ac-225 at EOS, not 0
    pure = decay_table(product_nuclide="Ac-225", activity_bq=8e6, reference_time=EOS,
                       until=EOS + timedelta(hours=3), step=None, engine=engine)
    whole = decay_table(product_nuclide="Ac-225", activity_bq=8e6, reference_time=EOS,
                        until=EOS + timedelta(hours=3), step=None, engine=engine,
                        daughters=eos_inventory(engine, "Ac-225", separated_before_eos_s=None))
    assert pure["activities_Bq"]["Bi-213"][0] == pytest.approx(0.0, abs=1e-6)
    assert whole["activities_Bq"]["Bi-213"][0] == pytest.approx(
        8e6 * engine.equilibrium_ratio("Ac-225", "Bi-213"), rel=1e-9)
    # transient equilibrium: T(Ac-225) / (T(Ac-225) - T(Bi-213)) = 1.003 of the Ac-225
    assert whole["activities_Bq"]["Bi-213"][0] == pytest.approx(8e6 * 1.003, rel=0.001)
    assert whole["activities_Bq"]["Ac-225"] == pytest.approx(pure["activities_Bq"]["Ac-225"])
