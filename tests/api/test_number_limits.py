"""Numbers beyond what a float or Python can hold, sent as JSON numbers, JSON strings and form
text, are refused with what is wrong with them (too many digits, too large, too small, more
significant figures than a value holds); never a 500, never 'NaN or infinity' for a number
that was neither, never Python's advice to raise its own limit."""

import json
from datetime import timedelta

import pytest

from batches.models import Result
from tests.api.conftest import fields, problem

pytestmark = pytest.mark.django_db
URL = "/api/v1/results/"
DIGITS_5001 = "1" + "0" * 5000
SIXTY_THREE_FIGURES = "1.23456789012345678901234567890123456789012345678901234567890123"


def raw(batch, now, value: str, **overrides) -> str:
    """A result body with `value` written into the JSON as it stands."""
    data = {"lot_number": batch.lot_number, "test_code": "activity", "value": "__VALUE__",
            "unit": "GBq", "measured_at": (now - timedelta(minutes=2)).isoformat(), **overrides}
    return json.dumps(data).replace('"__VALUE__"', value)


def refused(response) -> str:
    assert response.status_code == 422, response.content
    assert not Result.objects.filter(channel="api").exists()
    return fields(response)["value"]


@pytest.mark.parametrize("number", [DIGITS_5001, "-" + DIGITS_5001, DIGITS_5001 + ".5",
                                    "1e" + "9" * 5000])
def test_a_json_number_of_more_than_4300_digits_is_a_400_saying_so(api, ac225_batch, now,
                                                                  number):
    for body in (raw(ac225_batch, now, number),
                 json.dumps({"results": ["__ITEM__"]}).replace(
                     '"__ITEM__"', raw(ac225_batch, now, number))):
        url = URL if body.startswith('{"lot') else URL + "bulk/"
        response = api.post(url, body, fmt="raw")
        assert response.status_code == 400, response.content
        detail = problem(response)["detail"]
        assert "a number has 50" in detail and "digits; a number may have at most 4300" in detail
        assert "set_int_max_str_digits" not in detail
    assert not Result.objects.filter(channel="api").exists()


@pytest.mark.parametrize("text", [f'"{DIGITS_5001}"', f'"< {DIGITS_5001}"'])
def test_a_string_of_5001_digits_is_refused_as_too_many_digits(api, ac225_batch, now, text):
    assert "5001 characters, too many digits" in refused(
        api.post(URL, raw(ac225_batch, now, text), fmt="raw"))


def test_a_form_value_of_5001_digits_is_refused_as_too_many_digits(api, ac225_batch, now):
    response = api.client.post(URL, {
        "lot_number": ac225_batch.lot_number, "test_code": "activity", "value": DIGITS_5001,
        "unit": "GBq", "measured_at": (now - timedelta(minutes=2)).isoformat()},
        format="multipart", HTTP_IDEMPOTENCY_KEY="form-5001")
    assert "5001 characters, too many digits" in refused(response)


@pytest.mark.parametrize("number", ["1e999", "1" + "0" * 400 + ".5", '"< 1e999"'])
def test_a_number_too_large_for_a_float_says_so_not_nan_or_infinity(api, ac225_batch, now,
                                                                   number):
    message = refused(api.post(URL, raw(ac225_batch, now, number), fmt="raw"))
    assert "is too large for a number" in message and "NaN" not in message


def test_a_number_too_small_for_a_float_is_not_stored_as_zero(api, ac225_batch, now):
    message = refused(api.post(URL, raw(ac225_batch, now, "1e-400"), fmt="raw"))
    assert message.startswith("1e-400 is too small to tell from zero")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_refused_as_such(api, ac225_batch, now, number):
    assert "finite number (not NaN or infinity)" in refused(
        api.post(URL, raw(ac225_batch, now, number), fmt="raw"))


@pytest.mark.parametrize(("number", "figures"), [
    (SIXTY_THREE_FIGURES, 63), (SIXTY_THREE_FIGURES.replace(".", ""), 63),
    (f'"< {SIXTY_THREE_FIGURES[:50]}"', 49)])
def test_a_value_with_more_figures_than_a_float_holds_is_refused_not_rounded(
        api, ac225_batch, now, number, figures):
    # It was stored as entered_number '1.235', which is not what was sent.
    message = refused(api.post(URL, raw(ac225_batch, now, number), fmt="raw"))
    assert f"has {figures} significant figures; a value is recorded with at most 17" in message


def test_a_form_value_with_more_figures_than_a_float_holds_is_refused(api, ac225_batch, now):
    response = api.client.post(URL, {
        "lot_number": ac225_batch.lot_number, "test_code": "activity",
        "value": SIXTY_THREE_FIGURES[:50], "unit": "GBq",
        "measured_at": (now - timedelta(minutes=2)).isoformat()},
        format="multipart", HTTP_IDEMPOTENCY_KEY="form-63")
    assert "has 49 significant figures" in refused(response)


def test_seventeen_figures_are_what_a_float_prints_and_are_accepted(api, ac225_batch, now):
    response = api.post(URL, raw(ac225_batch, now, "1.2345678901234567"), fmt="raw")
    assert response.status_code == 201, response.content
    assert Result.objects.get(channel="api").value == pytest.approx(1.2345678901234567e9)


@pytest.mark.parametrize(("sent", "kept"), [
    ("1.2345678", "1.2345678"),  # an 8-figure reading was kept as '1.235'
    ("96.10", "96.10"),  # a JSON float's trailing zero is its precision too
    ("123.456789012345", "123.456789012345"),  # 15 figures: any double holds them exactly
    ("7.1000000000000005", "7.1"),  # 17: a computed float's binary noise, shown as derived
])
def test_a_json_number_keeps_the_digits_it_was_sent_with(api, ac225_batch, now, sent, kept):
    response = api.post(URL, raw(ac225_batch, now, sent, unit="MBq"), fmt="raw")
    assert response.status_code == 201, response.content
    assert response.json()["entered_number"] == kept
    result = Result.objects.get(channel="api")
    assert (result.entered_number, result.entered_value) == (kept, f"{kept} MBq")


def test_a_number_in_a_json_string_is_refused_as_a_string(api, ac225_batch, now):
    assert refused(api.post(URL, raw(ac225_batch, now, '"1.2"'), fmt="raw")) == (
        '"1.2" is a string; send the number itself, without quotes.')


@pytest.mark.parametrize(("key", "text"), [("arabic", "١٢"), ("underscore", "1_000"),
                                           ("censored", "< ١٢")])
def test_digits_other_than_0_to_9_are_not_a_number(api, ac225_batch, now, key, text):
    response = api.client.post(URL, {
        "lot_number": ac225_batch.lot_number, "test_code": "ph", "value": text, "unit": "pH",
        "measured_at": (now - timedelta(minutes=2)).isoformat()},
        format="multipart", HTTP_IDEMPOTENCY_KEY=f"digits-{key}")
    assert "is not a number" in refused(response)
