"""Censored results recorded through the service, the API and the web form: stored with
their sign and limit, shown as entered, judged by qc.evaluation.censored."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from batches.evaluation.results import result_evaluate
from batches.models import Result
from batches.records.results import result_record
from tests.api.conftest import fields
from tests.factories import criterion

pytestmark = pytest.mark.django_db


def test_the_service_stores_below_2_5_eu_per_ml_as_censored_and_it_passes(pb212_batch,
                                                                          analyst, now):
    result = result_record(actor=analyst, batch=pb212_batch,
                           criterion=criterion(pb212_batch, "endotoxin"), measured_at=now,
                           value=2.5, unit="EU/mL", censor="<")
    assert (result.censor, result.value, result.entered_value) == ("<", 2.5, "< 2.5 EU/mL")
    evaluation = result_evaluate(result_id=result.id)
    assert evaluation.verdict == "pass"
    assert evaluation.message.startswith("Bacterial endotoxins < 2.5 EU/mL meets")


def test_the_service_judges_below_10_against_below_5_a_fail(pb212_batch, analyst, now):
    result = result_record(actor=analyst, batch=pb212_batch,
                           criterion=criterion(pb212_batch, "endotoxin"), measured_at=now,
                           value=10, unit="EU/mL", censor="<")
    evaluation = result_evaluate(result_id=result.id)
    assert evaluation.verdict == "fail"
    assert "cannot show conformity to < 5 EU/mL" in evaluation.message


def test_the_service_refuses_a_censor_on_a_text_result_or_an_unknown_sign(pb212_batch,
                                                                         analyst, now):
    with pytest.raises(ValidationError, match="takes a text result"):
        result_record(actor=analyst, batch=pb212_batch,
                      criterion=criterion(pb212_batch, "identity"), measured_at=now,
                      value_text="present", censor="<")
    with pytest.raises(ValidationError, match="is not a censor"):
        result_record(actor=analyst, batch=pb212_batch,
                      criterion=criterion(pb212_batch, "ph"), measured_at=now, value=7,
                      unit="pH", censor="~")
    assert not Result.objects.exists()


@pytest.mark.parametrize(("value", "censor", "stored"), [
    ("< 2.5", "<", 2.5), ("<2.5", "<", 2.5), (1.2, "", 1.2)])
def test_the_api_takes_a_censored_value_as_a_signed_string(api, pb212_batch, now, value,
                                                           censor, stored):
    response = api.post("/api/v1/results/", {
        "lot_number": pb212_batch.lot_number, "test_code": "endotoxin", "value": value,
        "unit": "EU/mL", "measured_at": now.isoformat()})
    assert response.status_code == 201, response.content
    assert response.json()["censor"] == censor
    result = Result.objects.get()
    assert (result.censor, result.value) == (censor, stored)


def test_the_api_takes_above_99_percent_for_rcp(api, pb212_batch, now):
    response = api.post("/api/v1/results/", {
        "lot_number": pb212_batch.lot_number, "test_code": "rcp", "value": "> 99",
        "unit": "%", "measured_at": now.isoformat(), "counting_window": "product_line"})
    assert response.status_code == 201, response.content
    assert Result.objects.get().entered_value == "> 99 %"  # as posted


@pytest.mark.parametrize(("value", "says"), [
    ("<= 2.5", "is not a number"), ("< abc", "is not a number"),
    ("about 3", "is not a number"),
    ("2.5", '"2.5" is a string; send the number itself, without quotes.')])
def test_the_api_refuses_other_strings_as_not_a_number(api, pb212_batch, now, value, says):
    response = api.post("/api/v1/results/", {
        "lot_number": pb212_batch.lot_number, "test_code": "endotoxin", "value": value,
        "unit": "EU/mL", "measured_at": now.isoformat()})
    assert response.status_code in (400, 422), response.content
    assert says in fields(response)["value"]
    assert not Result.objects.exists()


def test_the_web_form_records_below_2_5(client, analyst, pb212_batch, now):
    client.force_login(analyst)
    at = timezone.localtime(now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    response = client.post(reverse("result-record", args=[pb212_batch.lot_number, "endotoxin"]),
                           {"value": "< 2.5", "unit": "EU/mL", "measured_at": at})
    assert response.status_code == 302, response.context["form"].errors
    result = Result.objects.get()
    assert (result.censor, result.value, result.entered_value) == ("<", 2.5, "< 2.5 EU/mL")
