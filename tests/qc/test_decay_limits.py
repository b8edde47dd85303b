"""The decay engine at the ends of the float range: a correction over centuries or a huge
activity gives the value the physics gives (inf where it is beyond every float, 0 where it
has decayed away) and never a numpy RuntimeWarning, which here is an error."""

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from qc.physics.decay import DecayEngine
from qc.physics.shares import activity_share_percent

pytestmark = pytest.mark.filterwarnings("error")

YEAR = 365.25 * 86400.0


@pytest.fixture(scope="module")
def engine():
    return DecayEngine()


def test_a_correction_back_over_a_century_is_an_infinite_factor_not_an_overflow(engine):
    # Bi-213 (45.6 min) corrected back 126 years: no finite activity then decays to any now
    assert engine.decay_factor("Bi-213", -126 * YEAR) == math.inf


def test_a_decay_over_a_century_is_a_factor_of_zero(engine):
    assert engine.decay_factor("Bi-213", 126 * YEAR) == 0.0


def test_an_array_of_times_gives_inf_one_and_zero_without_a_warning(engine):
    factors = engine.decay_factor("Po-213", np.array([-1e308, 0.0, 1e308]))
    assert list(factors) == [math.inf, 1.0, 0.0]


def test_a_stable_nuclide_keeps_its_activity_over_an_infinite_time(engine):
    assert engine.decay_factor("Pb-208", math.inf) == 1.0
    assert engine.decay_factor("Pb-208", -1e308) == 1.0


def test_a_huge_activity_of_a_long_lived_nuclide_projects_without_overflow(engine):
    # 1e308 Bq of Ac-225 is more atoms than a float holds; its activity is not
    projection = engine.project({"Ac-225": 1e308}, [0.0, 9.92 * 86400.0])
    assert projection["Ac-225"][0] == pytest.approx(1e308)
    assert 0.4e308 < projection["Ac-225"][1] < 0.6e308
    assert np.all(np.isfinite(projection["Fr-221"]))


def test_a_huge_activity_projects_as_a_small_one_scaled(engine):
    big = engine.project({"Ac-227": 1e300}, [10 * YEAR])["Ac-227"][0]
    small = engine.project({"Ac-227": 1.0}, [10 * YEAR])["Ac-227"][0]
    assert big == pytest.approx(small * 1e300, rel=1e-12)


def test_the_ac227_share_a_century_before_its_reference_is_zero_without_a_warning(engine):
    share = activity_share_percent(
        engine, product="Ac-225", impurity="Ac-227", share_percent=0.2,
        reference=datetime(2026, 1, 1, tzinfo=UTC), times=[datetime(1900, 1, 1, tzinfo=UTC)])
    assert share == [0.0]
