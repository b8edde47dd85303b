"""The lab pages keep the daughters' rules: registration records when the daughters were last
separated (or that they were not), a 212Pb radio-TLC result states its counting window, and a
dose calibrator's equilibrium-setting reading is corrected to Pb-212."""

import math
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import Batch, Elution, Result
from qc.engine import site_engine
from qc.formatting import utc_text
from qc.models import AuditEvent
from tests.factories import make_elution
from tests.gmp.flows import settle

pytestmark = pytest.mark.django_db
LN2 = math.log(2.0)


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


# --- registration: the daughters' state at EOS ----------------------------------------------


@pytest.fixture
def pb_form(products):
    """A 212Pb batch made 20 min ago from an elution 40 min before that."""
    eos = timezone.now().replace(microsecond=0) - timedelta(minutes=20)
    elution = make_elution("ra224_pb212", eluted_at=eos - timedelta(minutes=40))
    return {"lot_number": "PB-WEB-001", "product": products["pb212-dotamtate"].pk,
            "source": f"elution:{elution.pk}", "eos": local(eos),
            "calibration_time": local(eos + timedelta(hours=1)), "activity": "300 MBq",
            "volume_ml": "5"}, eos


def test_the_registration_form_asks_when_the_daughters_were_last_separated(
        client_for, operator, products):
    html = client_for(operator).get(reverse("batch-register")).content.decode()
    assert 'name="daughters_separated_at"' in html and "Daughters last separated" in html
    assert 'name="daughters_not_separated"' in html and 'type="checkbox"' in html


def test_a_separation_before_eos_is_stored_and_shown_on_the_batch(client_for, operator,
                                                                  pb_form):
    data, eos = pb_form
    separated = eos - timedelta(minutes=30)
    client = client_for(operator)
    response = client.post(reverse("batch-register"),
                           {**data, "daughters_separated_at": local(separated)})
    assert response.status_code == 302, response.context["form"].errors
    batch = Batch.objects.get(lot_number="PB-WEB-001")
    assert batch.daughters_separated_at == separated and not batch.daughters_not_separated
    event = AuditEvent.objects.get(action="batch.register")
    assert datetime.fromisoformat(event.after["daughters_separated_at"]) == separated
    page = client.get(response["Location"]).content.decode()
    assert "last separated" in page


def test_no_separation_time_records_the_daughters_separated_at_eos(client_for, operator,
                                                                  pb_form):
    data, eos = pb_form
    client_for(operator).post(reverse("batch-register"), data)
    batch = Batch.objects.get(lot_number="PB-WEB-001")
    assert batch.daughters_separated_at == eos and not batch.daughters_not_separated


def test_daughters_not_separated_are_stored_without_a_separation_time(client_for, operator,
                                                                     pb_form):
    data, _ = pb_form
    client = client_for(operator)
    response = client.post(reverse("batch-register"), {**data, "daughters_not_separated": "on"})
    assert response.status_code == 302
    batch = Batch.objects.get(lot_number="PB-WEB-001")
    assert batch.daughters_not_separated and batch.daughters_separated_at is None
    assert "not separated (in equilibrium)" in client.get(response["Location"]).content.decode()


def test_a_separation_after_eos_is_refused_next_to_its_field_and_the_input_kept(
        client_for, operator, pb_form):
    data, eos = pb_form
    after = local(eos + timedelta(minutes=5))
    response = client_for(operator).post(reverse("batch-register"),
                                         {**data, "daughters_separated_at": after})
    assert response.status_code == 200
    assert "after the end of synthesis" in response.context["form"].errors[
        "daughters_separated_at"][0]
    assert f'value="{after}"' in response.content.decode()
    assert not Batch.objects.exists()


def test_a_separation_before_the_elution_is_refused_naming_both_times(client_for, operator,
                                                                      pb_form):
    data, eos = pb_form
    elution = Elution.objects.get()
    response = client_for(operator).post(reverse("batch-register"), {
        **data, "daughters_separated_at": local(eos - timedelta(hours=1))})
    assert response.status_code == 200
    message = response.context["form"].errors["daughters_separated_at"][0]
    assert utc_text(eos - timedelta(hours=1)) in message
    assert utc_text(elution.eluted_at) in message and elution.generator.serial in message
    assert not Batch.objects.exists()
    assert not AuditEvent.objects.filter(action="batch.register").exists()


def test_a_separation_at_the_elution_is_stored(client_for, operator, pb_form):
    data, eos = pb_form
    eluted = eos - timedelta(minutes=40)
    response = client_for(operator).post(reverse("batch-register"), {
        **data, "daughters_separated_at": local(eluted)})
    assert response.status_code == 302, response.context["form"].errors
    assert Batch.objects.get().daughters_separated_at == eluted


def test_a_separation_time_and_not_separated_together_are_refused(client_for, operator,
                                                                  pb_form):
    data, eos = pb_form
    response = client_for(operator).post(reverse("batch-register"), {
        **data, "daughters_separated_at": local(eos - timedelta(minutes=5)),
        "daughters_not_separated": "on"})
    assert "not both" in response.context["form"].errors["daughters_separated_at"][0]
    assert not Batch.objects.exists()


# --- results: the counting window and the calibrator correction ----------------------------


def record_url(batch, code):
    return reverse("result-record", args=[batch.lot_number, code])


@pytest.fixture
def settled_pb212(pb212_batch):
    return settle(pb212_batch)


def test_the_212pb_rcp_form_asks_for_the_counting_window_and_refuses_a_count_without_it(
        client_for, analyst, settled_pb212):
    client = client_for(analyst)
    html = client.get(record_url(settled_pb212, "rcp")).content.decode()
    assert 'name="counting_window"' in html and "Pb-212 238.6 keV" in html
    response = client.post(record_url(settled_pb212, "rcp"), {
        "value": "97", "unit": "%", "measured_at": local(timezone.now())})
    assert response.status_code == 200
    assert "counting_window" in response.context["form"].errors
    assert not Result.objects.exists()


def test_a_wide_window_without_its_development_time_is_refused_next_to_that_field(
        client_for, analyst, settled_pb212):
    response = client_for(analyst).post(record_url(settled_pb212, "rcp"), {
        "value": "97", "unit": "%", "measured_at": local(timezone.now()),
        "counting_window": "wide"})
    assert "record when it was developed" in response.context["form"].errors["developed_at"][0]
    assert not Result.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_wide_window_count_too_soon_is_recorded_invalid_with_when_to_count_again(
        client_for, analyst, settled_pb212):
    now = timezone.now().replace(microsecond=0)
    client = client_for(analyst)
    response = client.post(record_url(settled_pb212, "rcp"), {
        "value": "97", "unit": "%", "measured_at": local(now), "counting_window": "wide",
        "developed_at": local(now - timedelta(minutes=30))}, follow=True)
    result = Result.objects.get(criterion__test_code="rcp")
    assert result.counting_window == "wide"
    assert result.evaluation.verdict == "invalid" and result.evaluation.valid_from > now
    html = response.content.decode()
    assert "INVALID" in html and "Counting is valid from" in html
    assert "window: A wide window" in html


@pytest.mark.django_db(transaction=True)
def test_a_count_on_the_pb212_line_passes_at_once(client_for, analyst, settled_pb212):
    client_for(analyst).post(record_url(settled_pb212, "rcp"), {
        "value": "97", "unit": "%", "measured_at": local(timezone.now()),
        "counting_window": "product_line"})
    result = Result.objects.get(criterion__test_code="rcp")
    assert (result.counting_window, result.evaluation.verdict) == ("product_line", "pass")


@pytest.mark.django_db(transaction=True)
def test_an_equilibrium_setting_reading_is_corrected_and_the_page_says_by_how_much(
        client_for, analyst, settled_pb212):
    engine = site_engine()
    read = timezone.now().replace(microsecond=0) - timedelta(minutes=1)
    batch = settled_pb212
    pb212 = batch.activity_bq * 2.0 ** (
        -(read - batch.calibration_time).total_seconds() / engine.half_life_s("Pb-212"))
    # Tl-208's fraction of equilibrium 2 h after EOS (the daughters separated at EOS)
    q = float(engine.activity_ratio({"Pb-212": 1.0}, "Tl-208", "Pb-212",
                                    [(read - batch.eos).total_seconds()])[0]
              / engine.equilibrium_ratio("Pb-212", "Tl-208"))
    response = client_for(analyst).post(record_url(batch, "activity"), {
        "value": f"{pb212 * (0.1 + 0.9 * q) / 1e6:.4f}", "unit": "MBq",
        "measured_at": local(read)}, follow=True)
    evaluation = Result.objects.get(criterion__test_code="activity").evaluation
    assert evaluation.verdict == "pass", evaluation.message
    assert "read in the equilibrium setting, corrected x" in response.content.decode()
