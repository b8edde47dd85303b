"""POST /api/v1/results/: one result, validated field by field, recorded once."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from batches.api.serializers import ResultOutSerializer
from batches.models import Batch, BatchStatus, Evaluation, IdempotencyRecord, RawDataFile, Result
from qc.models import AuditEvent
from tests.api.conftest import fields, problem

pytestmark = pytest.mark.django_db
URL = "/api/v1/results/"


@pytest.fixture
def post(api, ac225_batch, now):
    """Post a pH result for the 225Ac batch, with overrides."""
    def send(key="fresh", **overrides):
        body = {"lot_number": ac225_batch.lot_number, "test_code": "ph", "value": 7.1,
                "unit": "pH", "measured_at": (now - timedelta(minutes=2)).isoformat()}
        body.update(overrides)
        body = {k: v for k, v in body.items() if v is not ...}
        return api.post(URL, body, key=key)
    return send


def api_results():
    return Result.objects.filter(channel="api")


def test_it_records_a_result_as_the_instrument_with_an_audit_event(post, ac225_batch, tlc,
                                                                  tlc_key):
    response = post()
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["verdict"] == "evaluating" and body["lot_number"] == ac225_batch.lot_number
    result = Result.objects.get(pk=body["id"])
    assert (result.value, result.unit, result.entered_value) == (7.1, "pH", "7.1 pH")
    assert result.instrument == tlc and result.channel == "api"
    assert result.recorded_by.username == "instrument.TLC-0001"
    assert not result.recorded_by.has_usable_password() and not result.recorded_by.is_active
    event = AuditEvent.objects.get(action="result.record", object_id=str(result.id))
    assert event.actor == result.recorded_by
    assert event.actor_name == f"instrument key {tlc_key[0].prefix} (TLC-0001)"
    assert event.after["instrument"] == "TLC-0001" and event.after["channel"] == "api"
    assert Batch.objects.get(pk=ac225_batch.pk).status == BatchStatus.IN_QC


def test_evaluation_is_queued_on_commit(post, committed):
    with committed():
        response = post()
    evaluation = Evaluation.objects.get(result_id=response.json()["id"])
    assert evaluation.verdict == "pass"


def test_units_are_converted_to_the_canonical_unit(post, ac225_batch):
    response = post(test_code="activity", value=0.21, unit="mCi")
    assert response.status_code == 201, response.content
    assert response.json()["unit"] == "Bq"
    assert Result.objects.get(pk=response.json()["id"]).value == pytest.approx(0.21 * 3.7e7)


def test_the_number_keeps_the_digits_it_was_posted_with_and_the_api_returns_them(
        post, api, ac225_batch, now):
    posted = post(test_code="activity", value=412, unit="MBq")
    assert posted.status_code == 201, posted.content
    assert (posted.json()["entered_number"], posted.json()["entered_value"]) == ("412",
                                                                                 "412 MBq")
    assert isinstance(posted.json()["value"], float)  # the API still speaks numbers
    noisy = post(key="second", value=7.1000000000000005)
    assert noisy.json()["entered_number"] == "7.1"
    form = upload(api, ac225_batch, now, b"x", key="third", value="97.50")
    assert form.status_code == 201, form.content
    assert Result.objects.get(pk=form.json()["id"]).entered_value == "97.50 %"


def test_a_text_result_and_method_times_are_recorded(post, now):
    developed = now - timedelta(minutes=40)
    response = post(test_code="rcp", value=97.2, unit="%",
                    method_times={"developed_at": developed.isoformat()})
    assert response.status_code == 201, response.content
    result = Result.objects.get(pk=response.json()["id"])
    assert result.method_times == {"developed_at": developed.isoformat()}
    response = post(test_code="appearance", value=..., unit=..., value_text="conforms")
    assert response.status_code == 201, response.content
    assert Result.objects.get(pk=response.json()["id"]).value_text == "conforms"


# Validation, field by field -----------------------------------------------------------

@pytest.mark.parametrize(("overrides", "field", "says"), [
    ({"lot_number": "NO-SUCH-LOT"}, "lot_number", "No batch with lot number NO-SUCH-LOT"),
    ({"test_code": "purity"}, "test_code", "Unknown test code purity"),
    ({"test_code": "ra224-breakthrough"}, "test_code",
     "Test ra224-breakthrough is not in the specification of lot"),
    ({"measured_at": "2026-11-22T09:30:00"}, "measured_at", "has no time zone"),
    ({"measured_at": ...}, "measured_at", "required"),
    ({"measured_at": "yesterday"}, "measured_at", "not an ISO 8601"),
    ({"value": "abc"}, "value", "is not a number"),
    ({"value": True}, "value", "is not a number"),
    ({"value": [7]}, "value", "is not a number"),
    ({"value": ...}, "value", "takes a number"),
    ({"lot_number": ...}, "lot_number", "required"),
    ({"test_code": ...}, "test_code", "required"),
    ({"value": 15.2}, "value",
     "15.2 pH is outside the physical range: above the largest pH accepted, 14 pH"),
    ({"value": -0.5}, "value",
     "-0.5 pH is outside the physical range: below the smallest pH accepted, 0 pH"),
    ({"test_code": "rcp", "value": 100.5, "unit": "%"}, "value",
     "100.5 % is outside the physical range: above the largest percentage accepted, 100 %"),
    ({"test_code": "activity", "value": -3, "unit": "MBq"}, "value",
     "-3 MBq is outside the physical range: below the smallest activity accepted, 0 Bq"),
    ({"test_code": "activity", "value": 3, "unit": "mL"}, "unit",
     "use one of: Bq, kBq, MBq, GBq, uCi, mCi, Ci"),
    ({"test_code": "endotoxin", "value": 2, "unit": "furlongs"}, "unit",
     "use one of: EU/mL"),
    ({"test_code": "appearance", "value": ..., "unit": ...}, "value_text",
     "takes a text result"),
    ({"method_times": {"developed_at": "2026-11-22T09:00:00"}}, "method_times.developed_at",
     "has no time zone"),
    ({"method_times": {"DevelopedAt": "2026-11-22T09:00:00Z"}}, "method_times",
     "not a method time name"),
])
def test_it_refuses_invalid_data_naming_the_field(post, overrides, field, says):
    response = post(**overrides)
    assert response.status_code == 422, response.content
    errors = fields(response)
    assert field in errors, errors
    assert says in errors[field]
    assert problem(response)["code"] == "validation_error"
    assert not api_results().exists()


def test_it_refuses_a_time_in_the_future_beyond_the_clock_skew(post, now, settings):
    settings.MEASURED_AT_CLOCK_SKEW_S = 120
    assert post(measured_at=(now + timedelta(seconds=60)).isoformat()).status_code == 201
    response = post(measured_at=(now + timedelta(minutes=10)).isoformat())
    assert response.status_code == 422
    assert "in the future" in fields(response)["measured_at"]


def test_it_refuses_a_measurement_before_the_end_of_synthesis(post, ac225_batch):
    response = post(measured_at=(ac225_batch.eos - timedelta(minutes=1)).isoformat())
    assert response.status_code == 422
    assert "before the end of synthesis" in fields(response)["measured_at"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_it_refuses_nan_and_infinity_as_a_field_error(api, ac225_batch, now, literal):
    body = json.dumps({"lot_number": ac225_batch.lot_number, "test_code": "ph",
                       "value": "__VALUE__", "unit": "pH", "measured_at": now.isoformat()})
    body = body.replace('"__VALUE__"', literal)
    response = api.post(URL, body, fmt="raw")
    assert response.status_code == 422
    assert "finite number" in fields(response)["value"]
    assert not api_results().exists()


def test_it_refuses_a_body_that_is_not_an_object(api):
    response = api.post(URL, "[1, 2]", fmt="raw")
    assert response.status_code == 422
    assert problem(response)["detail"] == "Send a JSON object."


def test_it_refuses_unparsable_json_with_a_problem(api):
    response = api.post(URL, '{"lot_number": ', fmt="raw")
    assert response.status_code == 400
    assert problem(response)["code"] == "parse_error"


# GMP refusals -------------------------------------------------------------------------

def test_it_refuses_results_from_an_instrument_out_of_service(post, tlc):
    tlc.in_service = False
    tlc.save()
    response = post()
    assert response.status_code == 409
    body = problem(response)
    assert body["code"] == "instrument_unusable"
    assert "TLC-0001 is out of service" in body["detail"]
    assert not api_results().exists()


def test_it_refuses_results_from_an_instrument_past_its_calibration_due_date(post, tlc, now):
    tlc.calibration_due = (now - timedelta(days=1)).date()
    tlc.save()
    response = post()
    assert response.status_code == 409
    assert "past its calibration due date" in problem(response)["detail"]
    assert not api_results().exists()


@pytest.mark.parametrize("status", [BatchStatus.RELEASED, BatchStatus.REJECTED])
def test_it_refuses_results_for_a_closed_batch_naming_the_correction_path(post, ac225_batch,
                                                                         status):
    # The disposition itself is tested with the signing services; here only its outcome counts.
    Batch.objects.filter(pk=ac225_batch.pk).update(status=status)
    response = post()
    assert response.status_code == 409
    body = problem(response)
    assert body["code"] == "batch_closed"
    assert "superseding result" in body["detail"] and "QA" in body["detail"]
    assert not api_results().exists()


def test_it_refuses_results_measured_after_expiry(post, ac225_batch, now):
    Batch.objects.filter(pk=ac225_batch.pk).update(expiry=now - timedelta(minutes=5))
    response = post(measured_at=(now - timedelta(minutes=1)).isoformat())
    assert response.status_code == 409
    assert "expired" in problem(response)["detail"]


def test_each_answer_shows_its_own_result_as_the_result_api_shows_it(post, api, ac225_batch,
                                                                     now):
    # the answers share one serializer: nothing of one result may stay for the next
    answers = [post(test_code="activity", value=412, unit="MBq"),
               upload(api, ac225_batch, now, b"counts\n1\n", key="second"),
               post(key="third", test_code="appearance", value=..., unit=...,
                    value_text="conforms")]
    for answer in answers:
        assert answer.status_code == 201, answer.content
        result = Result.objects.get(pk=answer.json()["id"])
        assert answer.json() == ResultOutSerializer(result, context={"fresh": True}).data
    assert answers[1].json()["raw_data"]["original_name"] == "scan.csv"
    assert answers[2].json()["raw_data"] is None and answers[2].json()["value"] is None


# Raw data ------------------------------------------------------------------------------

def upload(api, batch, now, content: bytes, name="scan.csv", key="fresh", **extra):
    data = {"lot_number": batch.lot_number, "test_code": "rcp", "value": "97.5", "unit": "%",
            "measured_at": (now - timedelta(minutes=1)).isoformat(),
            "raw_data": SimpleUploadedFile(name, content, content_type="text/csv"), **extra}
    return api.post(URL, data, fmt="multipart", key=key)


def test_raw_data_is_stored_with_its_sha256_and_size_and_the_hash_is_returned(api, ac225_batch,
                                                                             now):
    content = b"position_mm,counts\n10,120\n55,98000\n"
    response = upload(api, ac225_batch, now, content, method_times=json.dumps(
        {"developed_at": (now - timedelta(minutes=45)).isoformat()}))
    assert response.status_code == 201, response.content
    sha = hashlib.sha256(content).hexdigest()
    assert response.json()["raw_data"] == {"sha256": sha, "size": len(content),
                                           "original_name": "scan.csv"}
    raw = RawDataFile.objects.get(sha256=sha)
    assert raw.file.read() == content
    assert Result.objects.get(pk=response.json()["id"]).raw_data == raw
    assert AuditEvent.objects.filter(action="raw_data.store", object_id=str(raw.id)).exists()


def test_the_same_raw_data_content_is_stored_once(api, ac225_batch, now):
    content = b"spectrum,1,2,3\n"
    first = upload(api, ac225_batch, now, content, name="a.csv")
    second = upload(api, ac225_batch, now, content, name="b.csv")
    assert first.status_code == second.status_code == 201
    assert first.json()["raw_data"]["sha256"] == second.json()["raw_data"]["sha256"]
    assert RawDataFile.objects.count() == 1
    assert api_results().count() == 2


def test_it_refuses_a_raw_data_file_over_the_size_limit(api, ac225_batch, now, settings):
    settings.RAW_DATA_MAX_BYTES = 1024
    response = upload(api, ac225_batch, now, b"x" * 2000)
    assert response.status_code == 422
    assert "at most 1024 bytes" in fields(response)["raw_data"]
    assert not RawDataFile.objects.exists() and not api_results().exists()


def test_it_refuses_a_request_far_over_the_size_limit_before_reading_it(api, ac225_batch, now,
                                                                        settings):
    settings.RAW_DATA_MAX_BYTES = 1024
    response = upload(api, ac225_batch, now, b"x" * 100_000)
    assert response.status_code == 413
    assert problem(response)["code"] == "payload_too_large"


def test_a_refused_result_leaves_no_raw_data_row(api, ac225_batch, now, tlc):
    tlc.in_service = False
    tlc.save()
    assert upload(api, ac225_batch, now, b"abc").status_code == 409
    assert not RawDataFile.objects.exists()
    tlc.in_service = True
    tlc.save()
    # The file left in storage under its hash is reused, not duplicated.
    assert upload(api, ac225_batch, now, b"abc").status_code == 201
    assert RawDataFile.objects.get().file.read() == b"abc"


# Idempotency --------------------------------------------------------------------------

def test_a_retry_with_the_same_key_returns_the_first_response_and_stores_nothing(post):
    first = post(key="row-0001")
    events = AuditEvent.objects.count()
    retry = post(key="row-0001")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert api_results().count() == 1
    assert AuditEvent.objects.count() == events


def test_the_same_key_with_a_different_body_is_refused(post):
    post(key="row-0001")
    response = post(key="row-0001", value=7.2)
    assert response.status_code == 422
    assert problem(response)["code"] == "idempotency_key_reused"
    assert api_results().count() == 1


def test_a_multipart_retry_with_the_same_file_is_replayed(api, ac225_batch, now):
    first = upload(api, ac225_batch, now, b"abc", key="scan-7")
    retry = upload(api, ac225_batch, now, b"abc", key="scan-7")
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    changed = upload(api, ac225_batch, now, b"abd", key="scan-7")
    assert changed.status_code == 422
    assert api_results().count() == 1


def test_keys_are_per_principal(post, as_key, make_key, tlc, ac225_batch, now):
    post(key="row-0001")
    _, other = make_key(tlc, codes=["ph"])
    body = {"lot_number": ac225_batch.lot_number, "test_code": "ph", "value": 7.1, "unit": "pH",
            "measured_at": (now - timedelta(minutes=2)).isoformat()}
    assert as_key(other).post(URL, body, key="row-0001").status_code == 201
    assert api_results().count() == 2


def test_an_instrument_must_send_an_idempotency_key(post):
    response = post(key=None)
    assert response.status_code == 400
    assert problem(response)["code"] == "idempotency_key_missing"
    assert not api_results().exists()


def test_a_retry_that_would_be_refused_now_replays_the_first_response(post, tlc):
    first = post(key="row-0001")
    tlc.in_service = False
    tlc.save()
    retry = post(key="row-0001")
    assert retry.status_code == 201 and retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert post(key="row-0002", value=7.2).status_code == 409


def test_a_refusal_is_not_remembered_so_a_retry_after_the_fix_is_judged_afresh(post, tlc):
    tlc.in_service = False
    tlc.save()
    assert post(key="row-0001").status_code == 409
    tlc.in_service = True
    tlc.save()
    assert post(key="row-0001").status_code == 201
    assert api_results().count() == 1


def test_the_loser_of_a_race_on_the_same_key_replays_the_winners_response(post):
    first = post(key="row-0001")
    # Nothing is looked up before the write: the second request writes its own result, then
    # meets the first's record at the unique constraint and rolls its write back.
    retry = post(key="row-0001")
    assert retry.status_code == 201 and retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert api_results().count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_the_record_of_the_response_is_written_with_the_result(post):
    response = post(key="row-0001")
    record = IdempotencyRecord.objects.get(key="row-0001")
    assert record.principal.startswith("key:ark_")
    assert record.response_status == 201 and record.response_body == response.json()


def test_method_times_that_are_not_an_object_are_a_field_error(post):
    response = post(method_times=["developed_at"])
    assert response.status_code == 422
    assert 'e.g. {"developed_at"' in fields(response)["method_times"]


def test_a_time_zone_offset_is_kept_as_the_instant_it_names(post, now):
    # PostgreSQL takes offsets only up to ±15:59; the instant is what counts and is stored
    # in UTC.
    measured = (now - timedelta(minutes=3)).astimezone(
        timezone.get_fixed_timezone(timedelta(hours=-9, minutes=-30)))
    response = post(measured_at=measured.isoformat())
    assert response.status_code == 201, response.content
    assert Result.objects.get(pk=response.json()["id"]).measured_at == measured


@pytest.mark.parametrize("field", ["lot_number", "instrument", "test_code"])
def test_characters_a_database_cannot_store_are_field_errors(post, field):
    response = post(**{field: "AC\x00-1"})
    assert response.status_code in (403, 422)
    assert not api_results().exists()


def test_a_partial_file_left_in_storage_is_replaced_not_reused(api, ac225_batch, now):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    content = b"full scan\n"
    sha = hashlib.sha256(content).hexdigest()
    default_storage.save(f"raw-data/{sha[:2]}/{sha}", ContentFile(b"full"))
    assert upload(api, ac225_batch, now, content).status_code == 201
    assert RawDataFile.objects.get(sha256=sha).file.read() == content
