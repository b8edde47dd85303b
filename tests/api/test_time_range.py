"""A time at the edge of Python's calendar (year 1 with a positive offset, year 9999 with a
negative one has no UTC value) or far from any real record is refused on every API path as out
of range, with the time as sent and the limits; never a 500, never 'not an ISO 8601 time'."""

from datetime import timedelta

import pytest

from batches.models import Batch, Result
from qc.models import InstrumentKind
from tests.api.conftest import fields, problem
from tests.factories import make_elution, make_instrument

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00",
                "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1899-12-31T23:59:59Z"]
LIMITS = "a time must be from 1900-01-01 to 2199-12-31 (UTC)"


def result(batch, now, **overrides) -> dict:
    return {"lot_number": batch.lot_number, "test_code": "rcp", "value": 97.0, "unit": "%",
            "measured_at": (now - timedelta(minutes=2)).isoformat(), **overrides}


def says_out_of_range(message: str, moment: str) -> bool:
    return f"'{moment}' is out of range: {LIMITS}" in message


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
def test_a_measured_at_out_of_range_is_refused_saying_so(api, ac225_batch, now, moment):
    response = api.post("/api/v1/results/", result(ac225_batch, now, measured_at=moment))
    assert response.status_code == 422, response.content
    assert says_out_of_range(fields(response)["measured_at"], moment)
    assert not Result.objects.filter(channel="api").exists()


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
def test_a_method_time_out_of_range_is_refused_saying_so(api, ac225_batch, now, moment):
    response = api.post("/api/v1/results/", result(ac225_batch, now,
                                                   method_times={"developed_at": moment}))
    assert response.status_code == 422, response.content
    assert says_out_of_range(fields(response)["method_times.developed_at"], moment)
    assert not Result.objects.filter(channel="api").exists()


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
def test_a_bulk_item_out_of_range_is_refused_by_its_index(api, ac225_batch, now, moment):
    items = [result(ac225_batch, now), result(ac225_batch, now, measured_at=moment)]
    response = api.post("/api/v1/results/bulk/", {"results": items})
    assert response.status_code == 422, response.content
    [error] = problem(response)["errors"]
    assert (error["index"], error["field"]) == (1, "measured_at")
    assert says_out_of_range(error["message"], moment)
    assert not Result.objects.filter(channel="api").exists()


@pytest.mark.parametrize(("bound", "moment", "found"), [
    ("eos_from", "0001-01-01T00:00:00+05:00", True), ("eos_from", "9999-12-31T23:59:59Z", False),
    ("eos_to", "9999-12-31T23:59:59-05:00", True), ("eos_to", "0183-06-30T01:13:17+13:20", False),
])
def test_an_eos_filter_beyond_the_range_is_answered_at_the_nearer_limit(
        as_user, reviewer, ac225_batch, bound, moment, found):
    # Nothing is recorded beyond the limits, so 'from year 1' is every batch.
    response = as_user(reviewer).get("/api/v1/batches/", {bound: moment})
    assert response.status_code == 200, response.content
    assert [b["lot_number"] for b in response.json()["results"]] == (
        [ac225_batch.lot_number] if found else [])


@pytest.fixture
def module_client(make_key, as_key):
    module = make_instrument(kind=InstrumentKind.SYNTHESIS_MODULE, serial="SYN-0001",
                             name="Modular-Lab synthesis module")
    _, plaintext = make_key(module, codes=[], can_register_batches=True)
    return as_key(plaintext)


def registration(now, **overrides) -> dict:
    elution = make_elution("ra224_pb212", eluted_at=now - timedelta(minutes=50))
    return {"lot_number": "PB212-API-001", "product": "pb212-dotamtate",
            "eos": (now - timedelta(minutes=5)).isoformat(),
            "calibration_time": (now + timedelta(hours=1)).isoformat(),
            "activity": 300, "activity_unit": "MBq", "volume_ml": 5.0,
            "elution": elution.id, **overrides}


@pytest.mark.parametrize("field", ["eos", "calibration_time", "daughters_separated_at"])
@pytest.mark.parametrize("moment", OUT_OF_RANGE)
def test_a_registration_time_out_of_range_is_refused_saying_so(module_client, now, field,
                                                                moment):
    response = module_client.post("/api/v1/batches/", registration(now, **{field: moment}))
    assert response.status_code == 422, response.content
    assert says_out_of_range(fields(response)[field], moment)
    assert not Batch.objects.exists()


def test_a_calibration_time_centuries_after_eos_says_so_not_infinite_activity(module_client,
                                                                            now):
    response = module_client.post("/api/v1/batches/", registration(
        now, calibration_time="2199-12-31T23:59:59Z"))
    assert response.status_code == 422, response.content
    message = fields(response)["calibration_time"]
    assert "The calibration time 2199-12-31 23:59:59 UTC is 173 y after EOS" in message
    assert "inf" not in message.replace("infinite", "")
    assert "activity" not in fields(response)
    assert not Batch.objects.exists()


@pytest.mark.parametrize(("activity", "unit", "entered"), [
    (1e308, "GBq", "1e+308 GBq"), (2000000, "GBq", "2000000 GBq")])
def test_a_registered_activity_beyond_the_physical_range_is_named_as_sent_with_the_limit(
        module_client, now, activity, unit, entered):
    # It was 'Must be a positive number of Bq.'
    response = module_client.post("/api/v1/batches/", registration(
        now, activity=activity, activity_unit=unit))
    assert response.status_code == 422, response.content
    assert fields(response)["activity"] == (
        f"{entered} is outside the physical range: above the largest activity accepted, "
        "1000 TBq (1e+15 Bq).")
    assert not Batch.objects.exists()


def test_a_registered_volume_beyond_ten_litres_is_refused_naming_the_limit(module_client, now):
    # 1e308 mL was stored.
    response = module_client.post("/api/v1/batches/", registration(now, volume_ml=1e308))
    assert response.status_code == 422, response.content
    assert fields(response)["volume_ml"].startswith(
        "1e+308 mL is above the largest volume accepted, 10000 mL (10 L)")
    assert not Batch.objects.exists()
