"""Registering a batch on the web form: written through batch_register, errors next to their
fields, nothing typed lost."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import Batch
from qc.engine import site_engine
from qc.models import AuditEvent
from tests.factories import make_elution, make_source_lot

pytestmark = pytest.mark.django_db


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture
def form_data(products):
    eos = timezone.now().replace(microsecond=0) - timedelta(minutes=20)
    lot = make_source_lot()
    return {"lot_number": "AC-WEB-001", "product": products["ac225-psma-it"].pk,
            "source": f"lot:{lot.pk}", "eos": local(eos),
            "calibration_time": local(eos + timedelta(hours=1)), "activity": "8 MBq",
            "volume_ml": "4"}


def test_an_operator_registers_a_batch_and_the_audit_trail_records_it(
        client_for, operator, form_data, committed):
    with committed():
        response = client_for(operator).post(reverse("batch-register"), form_data)
    assert response.status_code == 302
    assert response["Location"] == reverse("batch-detail", args=["AC-WEB-001"])
    batch = Batch.objects.get(lot_number="AC-WEB-001")
    assert batch.activity_bq == pytest.approx(8e6)
    assert batch.registered_by == operator
    assert timezone.localtime(batch.eos).strftime("%Y-%m-%dT%H:%M:%S") == form_data["eos"]
    assert batch.expiry is not None  # computed on commit
    event = AuditEvent.objects.get(action="batch.register")
    assert event.actor == operator and event.batch_lot == "AC-WEB-001"


def test_the_activity_may_be_given_in_any_activity_unit(client_for, operator, form_data):
    form_data["activity"] = "0.2162 mCi"
    client_for(operator).post(reverse("batch-register"), form_data)
    assert Batch.objects.get().activity_bq == pytest.approx(0.2162 * 3.7e7)


def test_a_unit_that_is_not_an_activity_is_shown_next_to_the_field_and_the_input_kept(
        client_for, operator, form_data):
    form_data["activity"] = "8 parsec"
    response = client_for(operator).post(reverse("batch-register"), form_data)
    assert response.status_code == 200
    assert "activity" in response.context["form"].errors
    html = response.content.decode()
    assert 'value="8 parsec"' in html and 'value="AC-WEB-001"' in html
    assert f'value="{form_data["eos"]}"' in html
    assert not Batch.objects.exists()


def test_a_service_refusal_lands_next_to_its_field(client_for, operator, form_data):
    eos = timezone.localtime() - timedelta(minutes=20)
    form_data["calibration_time"] = local(eos - timedelta(hours=1))
    response = client_for(operator).post(reverse("batch-register"), form_data)
    errors = response.context["form"].errors
    assert "before the end of synthesis" in errors["calibration_time"][0]
    assert 'value="8 MBq"' in response.content.decode()


def test_a_duplicate_lot_number_is_refused_next_to_the_lot_number(
        client_for, operator, form_data):
    client = client_for(operator)
    client.post(reverse("batch-register"), form_data)
    response = client.post(reverse("batch-register"), form_data)
    assert "already registered" in response.context["form"].errors["lot_number"][0]
    assert Batch.objects.count() == 1


def test_an_elution_of_the_wrong_nuclide_is_refused_next_to_the_source(
        client_for, operator, form_data, products):
    elution = make_elution("ac225_bi213", eluted_at=timezone.now() - timedelta(minutes=30))
    form_data.update(product=products["pb212-dotamtate"].pk, source=f"elution:{elution.pk}")
    response = client_for(operator).post(reverse("batch-register"), form_data)
    assert "Bi-213" in response.context["form"].errors["source"][0]


def test_the_source_choices_show_each_sources_activity_now(client_for, operator, products):
    elution = make_elution("ra224_pb212", eluted_at=timezone.now() - timedelta(hours=1),
                           activity_bq=5e8)
    html = client_for(operator).get(reverse("batch-register")).content.decode()
    assert elution.generator.serial in html
    # Pb-212 (10.64 h) loses 6.3 % of the eluted 500 MBq in an hour
    assert "468 MBq now" in html


def test_the_source_info_partial_shows_the_lots_activity_and_ac227_share_now(
        client_for, operator, products):
    half_life = site_engine().half_life_s("Ac-225")
    lot = make_source_lot(reference_time=timezone.now() - timedelta(seconds=half_life))
    response = client_for(operator).get(reverse("batch-source-info"),
                                        {"source": f"lot:{lot.pk}"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "1.85 GBq" in html  # one half-life after 3.7 GBq
    # Ac-225 halved, Ac-227 (21.8 y) barely decayed: the 0.2 % share has nearly doubled
    assert response.context["share_now"] == pytest.approx(0.4, rel=0.002)


def test_a_time_that_does_not_exist_in_the_local_zone_is_refused(
        client_for, operator, form_data, settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    form_data["eos"] = "2026-03-29T02:30:00"  # clocks jump from 02:00 to 03:00
    response = client_for(operator).post(reverse("batch-register"), form_data)
    assert response.context["form"].errors["eos"]
    assert not Batch.objects.exists()
