"""GET /api/v1/batches/ and /api/v1/batches/{lot}/, and POST /api/v1/batches/ from the
synthesis module."""

from datetime import timedelta

import pytest

from batches.models import Batch, BatchStatus
from batches.records import results as records
from qc.formatting import utc_text
from qc.models import AuditEvent
from tests.api.conftest import fields, problem
from tests.factories import (
    criterion,
    make_ac225_batch,
    make_elution,
    make_pb212_batch,
    make_source_lot,
)

pytestmark = pytest.mark.django_db


# Reading ------------------------------------------------------------------------------

@pytest.fixture
def reader(products, tlc, as_key, admin_user):
    """The radio-TLC scanner with a key that may read whole batch records."""
    from qc.api_keys import READ_BATCH_RECORDS, api_key_create

    _, plaintext = api_key_create(actor=admin_user, instrument=tlc, test_codes=["ph"],
                                  read_scopes=[READ_BATCH_RECORDS])
    return as_key(plaintext)


def test_the_detail_shows_identity_times_results_with_evaluations_and_pending_tests(
        reader, products, operator, analyst, now, committed):
    with committed():
        ac225_batch = make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                                       eos=now - timedelta(minutes=50))
        ph = records.result_record(actor=analyst, batch=ac225_batch,
                                    criterion=criterion(ac225_batch, "ph"),
                                    measured_at=now - timedelta(minutes=20), value=4.0, unit="pH")
        records.result_record(actor=analyst, batch=ac225_batch,
                               criterion=criterion(ac225_batch, "ph"),
                               measured_at=now - timedelta(minutes=10), value=7.0, unit="pH",
                               supersedes=ph, reason="strip misread")
    response = reader.get(f"/api/v1/batches/{ac225_batch.lot_number}/")
    assert response.status_code == 200
    body = response.json()
    assert body["lot_number"] == ac225_batch.lot_number
    assert body["product"] == "ac225-psma-it" and body["nuclide"] == "Ac-225"
    assert body["source"]["kind"] == "source_lot"
    assert body["expiry"] is not None and body["specification_version"] == 1
    by_code = {c["test_code"]: c for c in body["criteria"]}
    assert by_code["ph"]["verdict"] == "pass"
    assert by_code["ac227-share"]["verdict"] == "pass"
    assert by_code["sterility"]["verdict"] == "pending"
    assert "sterility" in body["pending"] and "ph" not in body["pending"]
    ph_results = [r for r in body["results"] if r["test_code"] == "ph"]
    assert [(r["value"], r["current"], r["verdict"]) for r in ph_results] == [
        (4.0, False, "fail"), (7.0, True, "pass")]
    assert ph_results[1]["supersedes"] == ph.id
    assert ph_results[1]["evaluation"]["judged_at_time"]
    assert by_code["ph"]["current_result"] == ph_results[1]["id"]


def test_an_unknown_lot_is_a_404_problem(reader, products):
    response = reader.get("/api/v1/batches/NO-SUCH-LOT/")
    assert response.status_code == 404
    assert "NO-SUCH-LOT" in problem(response)["detail"]


def _results(batch, analyst, now, n):
    for i in range(n):
        records.result_record(actor=analyst, batch=batch, criterion=criterion(batch, "ph"),
                               measured_at=now - timedelta(minutes=1, seconds=i), value=7.0,
                               unit="pH")


@pytest.mark.parametrize("n", [1, 25])
def test_the_detail_costs_the_same_queries_however_many_results(reader, ac225_batch, analyst,
                                                                now, n, committed,
                                                                django_assert_max_num_queries):
    with committed():
        _results(ac225_batch, analyst, now, n)
    reader.get("/api/v1/batches/")  # the key's last use is noted once a minute, not per request
    with django_assert_max_num_queries(8):
        response = reader.get(f"/api/v1/batches/{ac225_batch.lot_number}/")
    assert len(response.json()["results"]) == n + 1


def test_the_list_is_paginated_newest_first_in_a_constant_number_of_queries(
        api, products, operator, now, django_assert_max_num_queries):
    for i in range(55):
        make_pb212_batch(product=products["pb212-dotamtate"], operator=operator,
                         eos=now - timedelta(minutes=10 * (i + 1)), lot_number=f"PB-{i:03d}")
    api.get("/api/v1/batches/")
    with django_assert_max_num_queries(5):
        response = api.get("/api/v1/batches/")
    body = response.json()
    assert body["count"] == 55 and len(body["results"]) == 50 and body["next"]
    assert body["results"][0]["lot_number"] == "PB-000"
    second = api.get("/api/v1/batches/", {"page": 2}).json()
    assert [b["lot_number"] for b in second["results"]] == [f"PB-{i:03d}" for i in range(50, 55)]


def test_the_list_filters_by_status_product_and_eos(api, products, operator, ac225_batch,
                                                   pb212_batch, bi213_batch, now):
    Batch.objects.filter(pk=pb212_batch.pk).update(status=BatchStatus.REJECTED)

    def lots(**params):
        response = api.get("/api/v1/batches/", params)
        assert response.status_code == 200, response.content
        return {b["lot_number"] for b in response.json()["results"]}

    assert lots(status="rejected") == {pb212_batch.lot_number}
    assert lots(product="bi213-dotatoc") == {bi213_batch.lot_number}
    assert lots(eos_from=(now - timedelta(hours=1)).isoformat()) == {ac225_batch.lot_number,
                                                                     bi213_batch.lot_number}
    assert lots(eos_to=(now - timedelta(hours=1)).isoformat()) == {pb212_batch.lot_number}
    assert lots(status="registered", product="ac225-psma-it") == {ac225_batch.lot_number}


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "shipped"}, "status"), ({"eos_from": "2026-11-22T10:00:00"}, "eos_from"),
    ({"page": "0"}, "page")])
def test_a_bad_filter_is_a_400_problem_naming_it(api, products, params, field):
    response = api.get("/api/v1/batches/", params)
    assert response.status_code == 400
    assert field in fields(response)


def test_a_page_past_the_end_is_a_404_problem(api, products):
    response = api.get("/api/v1/batches/", {"page": 9})
    assert response.status_code == 404
    problem(response)


# Registering (synthesis module) -------------------------------------------------------

@pytest.fixture
def module_client(make_key, synthesis_module, as_key):
    _, plaintext = make_key(synthesis_module, codes=[], can_register_batches=True)
    return as_key(plaintext)


def registration(now, source, **overrides):
    return {"lot_number": "PB212-API-001", "product": "pb212-dotamtate",
            "eos": (now - timedelta(minutes=5)).isoformat(),
            "calibration_time": (now + timedelta(hours=1)).isoformat(),
            "activity": 300, "activity_unit": "MBq", "volume_ml": 5.0,
            "elution": source.id, **overrides}


@pytest.fixture
def elution(now):
    return make_elution("ra224_pb212", eluted_at=now - timedelta(minutes=50))


def test_the_synthesis_module_registers_a_batch(module_client, elution, now):
    response = module_client.post("/api/v1/batches/", registration(now, elution))
    assert response.status_code == 201, response.content
    batch = Batch.objects.get(lot_number="PB212-API-001")
    assert batch.activity_bq == pytest.approx(3.0e8) and batch.elution == elution
    assert batch.registered_by.username == "instrument.SYN-0001"
    assert response.json()["status"] == "registered"
    assert set(response.json()["pending"]) == set(
        batch.specification.criteria.values_list("test_code", flat=True))
    event = AuditEvent.objects.get(action="batch.register", batch_lot="PB212-API-001")
    assert "SYN-0001" in event.actor_name


def test_an_operator_registers_a_batch_with_their_session(as_user, operator, products, now):
    lot = make_source_lot()
    body = {"lot_number": "AC225-API-1", "product": "ac225-psma-it",
            "eos": (now - timedelta(minutes=5)).isoformat(),
            "calibration_time": (now + timedelta(minutes=55)).isoformat(),
            "activity": 8, "activity_unit": "MBq", "volume_ml": 4, "source_lot": lot.lot_number}
    response = as_user(operator).post("/api/v1/batches/", body, key=None)
    assert response.status_code == 201, response.content
    assert Batch.objects.get(lot_number="AC225-API-1").registered_by == operator


@pytest.mark.parametrize(("overrides", "field", "says"), [
    ({"eos": "2026-11-22T09:00:00"}, "eos", "has no time zone"),
    ({"product": "fr221-x"}, "product", "No product fr221-x"),
    ({"activity_unit": "mL"}, "activity_unit", "use one of: Bq, kBq"),
    ({"activity": -3}, "activity",
     "-3 MBq is outside the physical range: below the smallest activity accepted, 0 Bq."),
    ({"volume_ml": "NaN"}, "volume_ml", "is not a number"),
    ({"elution": 999999}, "elution", "No generator elution"),
    ({"elution": None}, "source", "Choose exactly one source"),
    ({"product": "ac225-psma-it"}, "source", "needs Ac-225"),
])
def test_registration_refuses_invalid_data_naming_the_field(module_client, elution, now,
                                                            overrides, field, says):
    response = module_client.post("/api/v1/batches/", registration(now, elution, **overrides))
    assert response.status_code == 422, response.content
    assert says in fields(response)[field]
    assert not Batch.objects.filter(lot_number="PB212-API-001").exists()


def test_registration_refuses_a_calibration_before_eos(module_client, elution, now):
    response = module_client.post("/api/v1/batches/", registration(
        now, elution, calibration_time=(now - timedelta(hours=1)).isoformat()))
    assert response.status_code == 422
    assert "before the end of synthesis" in fields(response)["calibration_time"]


def test_a_registration_retry_is_replayed_and_a_duplicate_lot_is_refused(module_client, elution,
                                                                         now):
    body = registration(now, elution)
    first = module_client.post("/api/v1/batches/", body, key="syn-run-17")
    retry = module_client.post("/api/v1/batches/", body, key="syn-run-17")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    again = module_client.post("/api/v1/batches/", body, key="syn-run-18")
    assert again.status_code == 422
    assert "already registered" in fields(again)["lot_number"]
    assert Batch.objects.filter(lot_number="PB212-API-001").count() == 1


def test_registration_records_the_daughters_separated_at_eos_by_default(module_client, elution,
                                                                       now):
    response = module_client.post("/api/v1/batches/", registration(now, elution))
    assert response.status_code == 201, response.content
    batch = Batch.objects.get(lot_number="PB212-API-001")
    assert batch.daughters_separated_at == batch.eos and not batch.daughters_not_separated
    event = AuditEvent.objects.get(action="batch.register", batch_lot="PB212-API-001")
    assert event.after["daughters_not_separated"] is False


def test_registration_records_daughters_that_were_not_separated(module_client, elution, now):
    response = module_client.post("/api/v1/batches/", registration(
        now, elution, daughters_not_separated=True))
    assert response.status_code == 201, response.content
    batch = Batch.objects.get(lot_number="PB212-API-001")
    assert batch.daughters_not_separated and batch.daughters_separated_at is None


def test_registration_refuses_a_separation_after_eos(module_client, elution, now):
    response = module_client.post("/api/v1/batches/", registration(
        now, elution, daughters_separated_at=now.isoformat()))
    assert response.status_code == 422, response.content
    assert "after the end of synthesis" in fields(response)["daughters_separated_at"]
    assert not Batch.objects.filter(lot_number="PB212-API-001").exists()


def test_registration_refuses_a_separation_before_the_elution_naming_both_times(
        module_client, elution, now):
    response = module_client.post("/api/v1/batches/", registration(
        now, elution, daughters_separated_at="1900-06-01T08:00:00+00:00"))
    assert response.status_code == 422, response.content
    message = fields(response)["daughters_separated_at"]
    assert "1900-06-01 08:00:00 UTC" in message
    assert utc_text(elution.eluted_at) in message and "before the Pb-212 was eluted" in message
    assert not Batch.objects.filter(lot_number="PB212-API-001").exists()
    assert not AuditEvent.objects.filter(action="batch.register").exists()
