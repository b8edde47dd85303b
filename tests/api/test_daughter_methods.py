"""The API keeps the rules of readings that see the 212Pb daughters: a radio-TLC strip states
its counting window (the Pb-212 line is valid at once, a wide window only once the Bi-212 on
the strip renewed), and a dose calibrator's equilibrium-setting reading is corrected to Pb-212
with the daughters' state at the reading."""

import math
from datetime import timedelta

import pytest

from batches.models import Result
from qc.engine import site_engine
from tests.api.conftest import fields

pytestmark = pytest.mark.django_db
URL = "/api/v1/results/"
LN2 = math.log(2.0)


@pytest.fixture
def post(api, pb212_batch, now):
    """Post a radio-TLC RCP for the 212Pb batch (EOS 2 h ago), with overrides."""
    def send(**overrides):
        body = {"lot_number": pb212_batch.lot_number, "test_code": "rcp", "value": 97.0,
                "unit": "%", "measured_at": (now - timedelta(minutes=5)).isoformat()}
        body.update(overrides)
        return api.post(URL, body)
    return send


def test_an_rcp_without_its_counting_window_is_refused_saying_which_windows_there_are(post):
    response = post()
    assert response.status_code == 422
    assert "'product_line' (Pb-212's own line, valid at once) or 'wide'" in fields(
        response)["counting_window"]
    assert not Result.objects.exists()


def test_an_unknown_counting_window_is_refused(post):
    response = post(counting_window="narrow")
    assert response.status_code == 422
    assert "'narrow' is not a counting window" in fields(response)["counting_window"]


def test_a_wide_window_without_the_development_time_is_refused(post):
    response = post(counting_window="wide")
    assert response.status_code == 422
    assert "record when it was developed" in fields(response)["developed_at"]


def test_a_count_on_the_pb212_line_is_recorded_with_its_window_and_passes(post, committed):
    with committed():
        response = post(counting_window="product_line")
    assert response.status_code == 201, response.content
    assert response.json()["counting_window"] == "product_line"
    result = Result.objects.get(pk=response.json()["id"])
    assert result.counting_window == "product_line"
    assert result.evaluation.verdict == "pass"


def test_a_wide_window_count_too_soon_after_development_is_invalid_until_6_1_h_after_it(
        post, pb212_batch, committed):
    developed = pb212_batch.eos + timedelta(minutes=25)
    with committed():
        response = post(counting_window="wide",
                        method_times={"developed_at": developed.isoformat()})
    assert response.status_code == 201, response.content
    evaluation = Result.objects.get(pk=response.json()["id"]).evaluation
    assert evaluation.verdict == "invalid"
    # Bi-212 in the vial at development: 1 - exp(-k 25 min) of equilibrium (k = lBi - lPb);
    # renewed once q0 x / (1 - x + q0 x) = 0.1 x 5/95, x = exp(-k t)
    engine = site_engine()
    k = LN2 / engine.half_life_s("Bi-212") - LN2 / engine.half_life_s("Pb-212")
    q0 = 1.0 - math.exp(-k * 25 * 60)
    share = 0.1 * 5 / 95
    wait = -math.log(share / (q0 * (1 - share) + share)) / k
    assert abs((evaluation.valid_from - developed).total_seconds() - wait) <= 1.0
    assert "or count the Pb-212 line" in evaluation.message


def test_a_dose_calibrator_reading_is_corrected_to_pb212_with_the_daughters_at_the_reading(
        api, pb212_batch, now, committed):
    engine = site_engine()
    read = now - timedelta(minutes=5)  # 1 h 55 min after EOS, daughters separated at EOS
    after_eos = (read - pb212_batch.eos).total_seconds()
    pb212 = pb212_batch.activity_bq * 2.0 ** (
        -(read - pb212_batch.calibration_time).total_seconds() / engine.half_life_s("Pb-212"))
    q = float(engine.activity_ratio({"Pb-212": 1.0}, "Tl-208", "Pb-212", [after_eos])[0]
              / engine.equilibrium_ratio("Pb-212", "Tl-208"))
    shown = pb212 * (0.1 + 0.9 * q)  # what the equilibrium setting shows
    with committed():
        response = api.post(URL, {"lot_number": pb212_batch.lot_number, "test_code": "activity",
                                  "value": shown / 1e6, "unit": "MBq",
                                  "measured_at": read.isoformat()})
    assert response.status_code == 201, response.content
    evaluation = Result.objects.get(pk=response.json()["id"]).evaluation
    assert evaluation.verdict == "pass", evaluation.message
    assert evaluation.projected_value == pytest.approx(100.0, rel=1e-4)
    assert f"corrected x{1 / (0.1 + 0.9 * q):.4g} to Pb-212" in evaluation.message


def test_a_bulk_request_names_the_strip_without_its_window_by_index(api, pb212_batch, now):
    at = (now - timedelta(minutes=5)).isoformat()
    response = api.post("/api/v1/results/bulk/", {"results": [
        {"lot_number": pb212_batch.lot_number, "test_code": "ph", "value": 7.0, "unit": "pH",
         "measured_at": at},
        {"lot_number": pb212_batch.lot_number, "test_code": "rcp", "value": 97.0, "unit": "%",
         "measured_at": at}]})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(1, "counting_window")]
    assert not Result.objects.exists()
