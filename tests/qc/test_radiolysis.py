"""Radiolysis measure: dose absorbed in the solution since EOS, against hand calculations."""

import math

import numpy as np
import pytest
from icrp107_database.utility import get_icrp107_spectrum

from qc.physics.decay import get_engine
from qc.physics.decay_energies import MEAN_ENERGY_MEV
from qc.physics.radiolysis import absorbed_dose_gy, product_dose_gy

MEV = 1.602176634e-13  # J
KG_PER_ML = 1e-3  # water density


@pytest.fixture(scope="module")
def engine():
    return get_engine()


def test_a_pure_beta_emitter_gives_the_integral_of_its_activity_times_its_energy(engine):
    a0, t = 1e9, 6 * 3600.0  # 1 GBq/mL Pb-209 for 6 h
    lam = math.log(2) / engine.half_life_s("Pb-209")
    decays = a0 * (1 - math.exp(-lam * t)) / lam  # per mL
    by_hand = decays * 0.19744 * MEV / KG_PER_ML

    dose = product_dose_gy(engine, "Pb-209", a0, [t])

    assert dose["total"][0] == pytest.approx(by_hand, rel=1e-6)
    assert dose["alpha"][0] == 0.0


def test_the_pb212_chain_by_hand(engine):
    """1 MBq/mL Pb-212 at EOS, no Bi-212, dose after 24 h.

    Pb-212 decays: a0 (1 - e^-l1t) / l1. Bi-212 (Bateman): a0 l2/(l2-l1) [(1 - e^-l1t)/l1
    - (1 - e^-l2t)/l2]. Po-212 (0.3 us) decays as fast as it is made: 0.6406 of Bi-212's.
    Tl-208 (3.05 min): 0.3594 of Bi-212's less the atoms still there, 0.3594 A_Bi(t)/(l3-l2).
    Energies per decay (MeV): Pb-212 beta 0.10171; Bi-212 alpha 2.17451, beta 0.49291;
    Po-212 alpha 8.78508; Tl-208 beta 0.55705.
    """
    a0, t = 1e6, 24 * 3600.0
    l1, l2, l3 = (math.log(2) / engine.half_life_s(n) for n in ("Pb-212", "Bi-212", "Tl-208"))
    pb = a0 * (1 - math.exp(-l1 * t)) / l1
    bi = a0 * l2 / (l2 - l1) * ((1 - math.exp(-l1 * t)) / l1 - (1 - math.exp(-l2 * t)) / l2)
    bi_now = a0 * l2 / (l2 - l1) * (math.exp(-l1 * t) - math.exp(-l2 * t))
    po = 0.6406 * bi
    tl = 0.3594 * bi - 0.3594 * bi_now / (l3 - l2)
    alpha = (2.17451 * bi + 8.78508 * po) * MEV / KG_PER_ML
    beta = (0.10171 * pb + 0.49291 * bi + 0.55705 * tl) * MEV / KG_PER_ML

    dose = product_dose_gy(engine, "Pb-212", a0, [t])

    assert dose["alpha"][0] == pytest.approx(alpha, rel=2e-4)
    assert dose["beta"][0] == pytest.approx(beta, rel=2e-4)
    assert dose["total"][0] == pytest.approx(alpha + beta, rel=2e-4)


def test_dose_scales_with_concentration_and_grows_with_time(engine):
    times = [0.0, 3600.0, 4 * 3600.0, 6 * 3600.0]
    low = product_dose_gy(engine, "Ac-225", 10e6, times)["total"]
    high = product_dose_gy(engine, "Ac-225", 40e6, times)["total"]

    assert low[0] == 0.0
    assert np.all(np.diff(low) > 0)
    assert high == pytest.approx(4 * low, rel=1e-9)


def test_daughters_present_at_eos_add_their_dose(engine):
    alone = absorbed_dose_gy(engine, {"Ac-225": 1e7}, [600.0])["total"][0]
    with_fr = absorbed_dose_gy(engine, {"Ac-225": 1e7, "Fr-221": 1e7}, [600.0])["total"][0]

    assert with_fr > alone


def test_the_density_divides_the_dose(engine):
    water = product_dose_gy(engine, "Bi-213", 1e8, [3600.0])["total"][0]
    denser = product_dose_gy(engine, "Bi-213", 1e8, [3600.0], density_g_per_ml=1.25)["total"][0]

    assert denser == pytest.approx(water / 1.25)


def test_a_chain_without_energies_on_file_is_refused_by_name(engine):
    with pytest.raises(ValueError, match="No ICRP-107 alpha/beta energies on file for Lu-177"):
        product_dose_gy(engine, "Lu-177", 1e9, [3600.0])


def test_negative_times_are_refused(engine):
    with pytest.raises(ValueError, match=">= 0"):
        product_dose_gy(engine, "Ac-225", 1e7, [-1.0])


@pytest.mark.parametrize("nuclide", sorted(MEAN_ENERGY_MEV))
def test_the_energy_table_equals_the_icrp107_emission_lists(nuclide):
    def mean(kind):
        spectrum = get_icrp107_spectrum(nuclide, kind)
        return float((spectrum["energies"] * spectrum["weights"]).sum())

    assert MEAN_ENERGY_MEV[nuclide] == pytest.approx((mean("alpha"), mean("beta-")), abs=6e-6)
