"""A criterion states the earliest time its result can exist (sterility: 14 days of
incubation, Ph. Eur. 2.6.1); a result claiming to be earlier is refused with the time it
becomes possible, in the service, the API and the web form."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from batches.models import Result
from batches.records.results import result_record
from qc.formatting import utc_text
from tests.factories import criterion

pytestmark = pytest.mark.django_db


def test_the_demo_specifications_give_sterility_14_days(ac225_batch, pb212_batch, bi213_batch):
    for batch in (ac225_batch, pb212_batch, bi213_batch):
        assert criterion(batch, "sterility").earliest_after == timedelta(days=14)


def test_sterility_two_hours_after_eos_is_refused_with_the_time_it_becomes_possible(
        pb212_batch, analyst):
    at = pb212_batch.eos + timedelta(hours=2)  # the batch was made 2 h ago
    with pytest.raises(ValidationError) as refused:
        result_record(actor=analyst, batch=pb212_batch,
                      criterion=criterion(pb212_batch, "sterility"), measured_at=at,
                      value_text="no growth")
    message = refused.value.message_dict["measured_at"][0]
    possible = pb212_batch.eos + timedelta(days=14)
    assert f"Sterility cannot have a result before {utc_text(possible)}" in message
    assert "needs 14 d after the end of synthesis" in message
    assert "13.9 d too early" in message  # 14 d - 2 h = 13.917 d
    assert not Result.objects.exists()


def test_sterility_after_14_days_is_recorded(ac225_batch, analyst, reviewer, qp, clock,
                                             committed):
    from batches.disposition import services as disposition
    from tests.conftest import PASSWORD
    from tests.gmp.flows import release_required_results

    with committed():
        release_required_results(analyst, ac225_batch)
    disposition.batch_review(actor=reviewer, password=PASSWORD, batch=ac225_batch)
    disposition.batch_release_conditionally(actor=qp, password=PASSWORD, batch=ac225_batch)
    clock.advance(days=14, hours=1)
    result = result_record(actor=analyst, batch=ac225_batch,
                           criterion=criterion(ac225_batch, "sterility"),
                           measured_at=ac225_batch.eos + timedelta(days=14, minutes=1),
                           value_text="no growth")
    assert result.pk is not None


def test_the_api_refuses_an_early_sterility_naming_measured_at(ac225_batch, analyst):
    client = APIClient()
    client.force_login(analyst)
    response = client.post("/api/v1/results/", {
        "lot_number": ac225_batch.lot_number, "test_code": "sterility",
        "value_text": "no growth", "measured_at": timezone.now().isoformat()}, format="json")
    assert response.status_code == 422, response.content
    [error] = [e for e in response.json()["errors"] if e["field"] == "measured_at"]
    assert "cannot have a result before" in error["message"]


def test_the_web_form_refuses_an_early_sterility_next_to_measured_at(client, ac225_batch,
                                                                     analyst):
    client.force_login(analyst)
    at = timezone.localtime(timezone.now() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    response = client.post(reverse("result-record", args=[ac225_batch.lot_number, "sterility"]),
                           {"value_text": "no growth", "measured_at": at})
    assert response.status_code == 200
    assert "cannot have a result before" in response.context["form"].errors["measured_at"][0]
