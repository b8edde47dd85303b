"""Hostile and extreme input answers a problem (4xx) that says what is wrong, never a 500,
and stores nothing."""

import json
from datetime import timedelta

import pytest
from django.db import OperationalError, connection

from batches.models import Result
from tests.api.conftest import fields, problem

pytestmark = pytest.mark.django_db
URL = "/api/v1/results/"


def body(batch, now, **overrides) -> dict:
    data = {"lot_number": batch.lot_number, "test_code": "activity", "value": 1.2,
            "unit": "GBq", "measured_at": (now - timedelta(minutes=2)).isoformat()}
    data.update(overrides)
    return data


@pytest.mark.parametrize(("value", "entered"), [
    (1e308, "1e+308 GBq"),  # finite, overflows on conversion to Bq
    (1.2e71 / 1e9, "1.2e+62 GBq"),  # 1.2e71 Bq
    (2e15 / 1e9, "2000000.0 GBq"),  # 2 PBq: above any batch, as sent
    (10**100, f"1{'0' * 100} GBq"),  # a JSON integer of 101 digits, as sent
])
def test_an_activity_beyond_the_physical_range_is_refused_as_entered_with_the_limit(
        api, ac225_batch, now, value, entered):
    response = api.post(URL, body(ac225_batch, now, value=value))
    assert response.status_code == 422, response.content
    assert fields(response)["value"] == (
        f"{entered} is outside the physical range: above the largest activity accepted, "
        "1000 TBq (1e+15 Bq).")
    assert not Result.objects.filter(channel="api").exists()


@pytest.mark.parametrize(("test_code", "unit", "value", "says"), [
    ("rcp", "%", 1e308, "1e+308 % is outside the physical range: above the largest "
                        "percentage accepted, 100 %."),
    ("ph", "pH", -1e308, "-1e+308 pH is outside the physical range: below the smallest pH "
                         "accepted, 0 pH."),
    ("activity-conc", "MBq/mL", 1e308, "1e+308 MBq/mL is outside the physical range: above "
     "the largest activity concentration accepted, 1000 TBq/mL (1e+15 Bq/mL)."),
])
def test_every_dimension_names_the_value_as_entered_and_the_limit(api, ac225_batch, now,
                                                                 test_code, unit, value, says):
    response = api.post(URL, body(ac225_batch, now, test_code=test_code, unit=unit,
                                  value=value))
    assert response.status_code == 422, response.content
    assert fields(response)["value"] == says
    assert not Result.objects.filter(channel="api").exists()


def test_json_nested_a_thousand_deep_is_refused_with_a_problem(api):
    deep = '{"a": ' * 1000 + "1" + "}" * 1000
    response = api.post(URL, deep, fmt="raw")
    assert response.status_code == 400
    assert problem(response)["code"] == "parse_error"
    assert "nested" in problem(response)["detail"]


def test_a_nul_byte_in_a_text_field_is_refused_naming_the_field(api, ac225_batch, now):
    response = api.post(URL, body(ac225_batch, now, test_code="appearance", value=None,
                                  unit="", value_text="clear\x00colourless"))
    assert response.status_code == 422
    assert "Null characters are not allowed" in fields(response)["value_text"]
    assert not Result.objects.filter(channel="api").exists()


@pytest.mark.parametrize("lot", ["AC225%00-1", "AC225-%01", "..%2F..%2Fetc"])
def test_a_lot_number_with_control_characters_in_the_url_is_not_found(as_user, reviewer, lot):
    response = as_user(reviewer).get(f"/api/v1/batches/{lot}/")
    assert response.status_code in (400, 404)
    assert response["Content-Type"].startswith("application/problem+json")


def test_a_lost_database_connection_answers_503_with_retry_after(api, monkeypatch):
    def gone(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr("batches.api.views.batch_list", gone)
    response = api.get("/api/v1/batches/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert problem(response)["code"] == "database_unavailable"


def test_a_lost_database_connection_on_a_page_answers_503_with_retry_after(client, analyst,
                                                                           monkeypatch):
    def gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    client.force_login(analyst)
    monkeypatch.setattr("batches.selectors.batch_list", gone)
    response = client.get("/batches/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "nothing was stored" in response.content.decode()


def refuse_connections(monkeypatch):
    """Every query fails as when PostgreSQL is down: psycopg's error, wrapped by Django."""
    def refused(*args, **kwargs):
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as cause:
            raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: '
                                   "Connection refused") from cause

    monkeypatch.setattr(connection, "cursor", refused)


@pytest.mark.parametrize(("path", "content_type"), [
    ("/batches/", "text/html"),
    ("/", "text/html"),
    ("/api/v1/batches/", "application/problem+json"),
])
def test_a_database_lost_before_the_view_answers_503_not_500(client, analyst, monkeypatch,
                                                             path, content_type):
    # The session and the user are looked up by the middleware, before any view runs.
    client.force_login(analyst)
    client.raise_request_exception = False
    refuse_connections(monkeypatch)
    response = client.get(path)
    assert response.status_code == 503, response.content[:300]
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith(content_type)
    assert "nothing was stored" in response.content.decode()


def test_an_error_that_is_not_the_database_is_still_a_500(client, analyst, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    client.force_login(analyst)
    client.raise_request_exception = False
    monkeypatch.setattr("batches.selectors.batch_list", broken)
    response = client.get("/batches/")
    assert response.status_code == 500
    assert not response.has_header("Retry-After")


@pytest.mark.parametrize("text", ["clear\x01", "clear\x1b[31m red", "clear\ncolourless",
                                  "clear \u202ecolourless"])
def test_control_characters_in_a_text_result_are_refused_naming_the_field(api, ac225_batch,
                                                                          now, text):
    response = api.post(URL, body(ac225_batch, now, test_code="appearance", value=None,
                                  unit="", value_text=text))
    assert response.status_code == 422
    assert fields(response)["value_text"].startswith("The text result holds a ")
    assert not Result.objects.filter(channel="api").exists()


@pytest.mark.parametrize("text", ["7.1 pH", "conforms", "x\x1b[31m"])
def test_a_text_beside_a_number_is_refused_as_it_would_show_as_the_result(api, ac225_batch,
                                                                         now, text):
    # The batch and signing pages show a result's text before its number.
    response = api.post(URL, body(ac225_batch, now, test_code="ph", value=9.0, unit="pH",
                                  value_text=text))
    assert response.status_code == 422, response.content
    assert fields(response)["value_text"] == (
        "pH takes a number, not a text result; send the number in value and leave value_text "
        "empty.")
    assert not Result.objects.filter(channel="api").exists()


@pytest.mark.parametrize("url", [URL, URL + "bulk/"])
def test_a_body_over_the_upload_limit_is_a_413_problem_naming_the_limit(api, settings, url):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = api.post(url, json.dumps({"lot_number": "x" * 20_000}), fmt="raw")
    assert response.status_code == 413
    assert problem(response)["code"] == "payload_too_large"
    assert "larger than 10000 bytes" in problem(response)["detail"]
