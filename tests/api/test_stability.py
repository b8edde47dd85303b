"""/api/v1/products/{code}/stability/ and /api/v1/stability/results/."""

from datetime import timedelta

import pytest

from batches.stability.models import StabilityResult
from batches.stability.selectors import product_stability
from tests.api.conftest import fields, problem
from tests.batches.stability_helpers import MIN, H, approved_protocol, record_study
from tests.batches.test_stability_estimate import TRENDS
from tests.factories import make_ac225_batch


@pytest.fixture
def study(products, reviewer, qp, operator, now):
    product = products["ac225-psma-it"]
    protocol = approved_protocol(product, reviewer=reviewer, qp=qp)
    lots = [make_ac225_batch(product=product, operator=operator, eos=now - (10 + i) * H)
            for i in range(3)]
    return product, protocol, lots


def post_body(lot, *, at_h=4, pulled=4 * H, value=96.8, test_code="rcp"):
    measured = lot.eos + pulled
    return {"lot_number": lot.lot_number, "time_point_h": at_h, "test_code": test_code,
            "value": value, "unit": "%", "measured_at": measured.isoformat(),
            "method_times": {"developed_at": (measured - 38 * MIN).isoformat()}}


def test_the_study_of_a_product_answers_in_the_issue_s_shape(api, study, analyst):
    product, protocol, lots = study
    record_study(analyst, protocol, lots, TRENDS)
    stability = product_stability(product)

    response = api.get("/api/v1/products/ac225-psma-it/stability/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"product", "approved_shelf_life_s", "supported_shelf_life_s",
                         "criteria", "reason"}
    assert body["product"] == "ac225-psma-it"
    assert body["approved_shelf_life_s"] == 3 * 3600
    assert body["supported_shelf_life_s"] == pytest.approx(stability.supported_shelf_life_s)
    rcp = next(c for c in body["criteria"] if c["test_code"] == "rcp")
    assert set(rcp) == {"test_code", "model", "observed_s", "statistical_s", "batches",
                        "points"}
    assert (rcp["model"], rcp["batches"], rcp["points"]) == ("separate", 3, 15)
    assert body["reason"] == ""


def test_without_enough_data_the_reason_says_so(api, study):
    response = api.get("/api/v1/products/ac225-psma-it/stability/")

    body = response.json()
    assert body["supported_shelf_life_s"] is None
    assert body["reason"].startswith("Not enough data: 0 of the 3 batches required")


def test_an_unknown_product_is_404(api, products):
    assert problem(api.get("/api/v1/products/no-such/stability/"))["status"] == 404


def test_an_unauthenticated_caller_is_refused(anonymous, study):
    assert anonymous.get("/api/v1/products/ac225-psma-it/stability/").status_code == 401
    lot = study[2][0]
    assert anonymous.post("/api/v1/stability/results/", post_body(lot)).status_code == 401


def test_an_instrument_posts_a_stability_result(api, study, tlc):
    lot = study[2][0]

    response = api.post("/api/v1/stability/results/", post_body(lot))

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["time_point_s"], body["test_code"], body["verdict"]) == (14400, "rcp", "pass")
    assert body["dose_gy"] > 0
    stored = StabilityResult.objects.get(pk=body["id"])
    assert (stored.instrument, stored.channel) == (tlc, "api")


def test_a_time_point_the_protocol_lacks_is_422(api, study):
    lot = study[2][0]

    response = api.post("/api/v1/stability/results/", post_body(lot, at_h=3, pulled=3 * H))

    assert response.status_code == 422
    assert "has no time point at 3 h" in fields(response)["time_point"]
    assert not StabilityResult.objects.exists()


def test_a_pull_far_outside_its_tolerance_is_422(api, study):
    lot = study[2][0]

    response = api.post("/api/v1/stability/results/",
                        post_body(lot, pulled=4 * H + timedelta(hours=2)))

    assert response.status_code == 422
    assert "late for the T+4 h time point" in fields(response)["measured_at"]


def test_a_test_outside_the_key_s_scope_is_403(make_key, tlc, as_key, study):
    _, plaintext = make_key(tlc, codes=["ph"])
    lot = study[2][0]

    response = as_key(plaintext).post("/api/v1/stability/results/", post_body(lot))

    assert response.status_code == 403


def test_a_non_number_is_422(api, study):
    lot = study[2][0]

    response = api.post("/api/v1/stability/results/", {**post_body(lot), "value": "high"})

    assert response.status_code == 422
    assert "value" in fields(response)


def test_a_test_the_plan_does_not_foresee_at_the_time_point_is_422(
        api, products, reviewer, qp, operator, now):
    product = products["ac225-psma-it"]
    approved_protocol(product, reviewer=reviewer, qp=qp, criteria=("rcp", "vector-integrity"),
                      schedule={"rcp": [0 * H, H, 2 * H, 4 * H, 6 * H],
                                "vector-integrity": [0 * H, 6 * H]})
    lot = make_ac225_batch(product=product, operator=operator, eos=now - 8 * H)

    response = api.post("/api/v1/stability/results/",
                        post_body(lot, test_code="vector-integrity"))

    assert response.status_code == 422
    assert ("does not test vector-integrity at T+4 h: it plans rcp there"
            in fields(response)["test_code"])
    assert not StabilityResult.objects.exists()


@pytest.mark.parametrize("hours", [1e308, -1, 87661])
def test_a_time_point_beyond_ten_years_or_before_eos_is_refused_not_a_crash(api, study, hours):
    # 1e308 h was an OverflowError, a 500.
    lot = study[2][0]
    body = post_body(lot)
    body["time_point_h"] = hours
    response = api.post("/api/v1/stability/results/", body)
    assert response.status_code == 422, response.content
    assert "time points are from 0 to 87660 h (ten years) after EOS" in fields(response)[
        "time_point_h"]
    assert not StabilityResult.objects.exists()
