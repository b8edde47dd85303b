"""Recording, correcting and invalidating results on the web: through the services, with the
evaluation's verdict (and any wait) said at once, and the input kept on an error."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import Evaluation, Result, ResultInvalidation
from qc.models import AuditEvent, Signature, SigningLock
from tests.conftest import PASSWORD
from tests.gmp.flows import record

pytestmark = pytest.mark.django_db


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


def record_url(batch, code):
    return reverse("result-record", args=[batch.lot_number, code])


# Transactional, as on a site: evaluation runs when the service's transaction commits, so the
# verdict is there to say when the page comes back.
@pytest.mark.django_db(transaction=True)
def test_an_analyst_records_a_result_and_sees_its_verdict(client_for, analyst, settled_ac225):
    client = client_for(analyst)
    response = client.post(record_url(settled_ac225, "ph"), {
        "value": "7.1", "unit": "pH", "measured_at": local(timezone.now())})
    assert response.status_code == 302
    result = Result.objects.get(criterion__test_code="ph")
    assert (result.value, result.recorded_by, result.channel) == (7.1, analyst, "web")
    assert result.evaluation.verdict == "pass"
    assert AuditEvent.objects.filter(action="result.record", object_id=str(result.pk),
                                     actor=analyst).exists()
    page = client.get(response["Location"]).content.decode()
    assert "result recorded and passed" in page


@pytest.mark.django_db(transaction=True)
def test_a_radio_tlc_counted_too_early_is_invalid_and_says_how_long_to_wait(
        client_for, analyst, settled_ac225):
    now = timezone.now().replace(microsecond=0)
    client = client_for(analyst)
    response = client.post(record_url(settled_ac225, "rcp"), {
        "value": "96.1", "unit": "%", "measured_at": local(now),
        "developed_at": local(now - timedelta(minutes=10))}, follow=True)
    evaluation = Result.objects.get(criterion__test_code="rcp").evaluation
    assert evaluation.verdict == "invalid"
    assert evaluation.valid_from > now
    html = response.content.decode()
    assert "INVALID" in html and "Counting is valid from" in html
    assert 'data-testid="valid-from"' in html
    # the recount is offered
    assert "Recount<span" in html


UTC_ONLY = re.compile(r"\d\d:\d\d(:\d\d)? UTC(?!\))|T\d\d:\d\d:\d\d")  # a UTC time not in brackets


@pytest.mark.django_db(transaction=True)
def test_the_wait_in_an_invalid_verdict_reads_in_the_site_zone_with_utc_in_brackets(
        client_for, analyst, reviewer, settled_ac225, settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    now = timezone.now().replace(microsecond=0)
    client = client_for(analyst)
    flash = client.post(record_url(settled_ac225, "rcp"), {
        "value": "96.1", "unit": "%", "measured_at": local(now),
        "developed_at": local(now - timedelta(minutes=10))}, follow=True).content.decode()
    evaluation = Result.objects.get(criterion__test_code="rcp").evaluation
    again = timezone.localtime(evaluation.valid_from).strftime("%Y-%m-%d %H:%M:%S CET")
    assert f"Count again after {again} (" in flash
    page = " ".join(re.sub(r"<[^>]+>", " ", client.get(
        reverse("batch-detail", args=[settled_ac225.lot_number])).content.decode()).split())
    assert f"Count again after {again} (" in page
    assert not UTC_ONLY.search(page.split("Results against")[1].split("Audit")[0])
    review = client_for(reviewer).get(reverse("batch-review", args=[settled_ac225.lot_number]))
    assert f"Count again after {again} (" in review.content.decode()


def test_a_message_stored_with_utc_or_iso_times_reads_the_one_way_too(
        client_for, analyst, settled_ac225, settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    result = record(analyst, settled_ac225, "ph", timezone.now(), 7.1, "pH")
    Evaluation.objects.create(  # as an older evaluation stored it (append-only: left as it is)
        result=result, verdict="pass", measured_value=7.1, projected_value=7.1,
        judged_at_time=result.measured_at,
        message="pH 7.1 within 4.5 - 8.5 at calibration (2026-11-28 10:00:00 UTC); "
                "valid from 2026-11-28T10:00:00+00:00")
    page = client_for(analyst).get(reverse("batch-detail", args=[settled_ac225.lot_number]))
    html = page.content.decode()
    assert "at calibration (2026-11-28 11:00:00 CET (10:00:00 UTC))" in html
    assert "valid from 2026-11-28 11:00:00 CET (10:00:00 UTC)" in html
    assert "2026-11-28T10:00:00+00:00" not in html


def test_a_word_in_the_value_field_is_refused_and_everything_typed_kept(
        client_for, analyst, settled_ac225):
    measured = local(timezone.now())
    response = client_for(analyst).post(record_url(settled_ac225, "ph"), {
        "value": "seven", "unit": "pH", "measured_at": measured})
    assert response.status_code == 200
    assert "is not a number" in response.context["form"].errors["value"][0]
    html = response.content.decode()
    assert 'value="seven"' in html and f'value="{measured}"' in html
    assert not Result.objects.filter(criterion__test_code="ph").exists()


def test_a_value_outside_the_physical_range_is_refused_by_the_service_next_to_the_value(
        client_for, analyst, settled_ac225):
    response = client_for(analyst).post(record_url(settled_ac225, "ph"), {
        "value": "15", "unit": "pH", "measured_at": local(timezone.now())})
    assert "physical range" in response.context["form"].errors["value"][0]
    assert 'value="15"' in response.content.decode()


def test_an_activity_may_be_entered_in_any_activity_unit(
        client_for, analyst, settled_ac225, committed):
    with committed():
        client_for(analyst).post(record_url(settled_ac225, "activity"), {
            "value": "0.2", "unit": "mCi", "measured_at": local(timezone.now())})
    result = Result.objects.get(criterion__test_code="activity")
    assert result.value == pytest.approx(0.2 * 3.7e7)
    assert result.entered_value == "0.2 mCi"


def test_a_value_reads_on_the_batch_page_with_the_digits_it_was_typed_with(
        client_for, analyst, settled_ac225, committed, settings):
    settings.DECIMAL_COMMA = True  # the site writes '1,20': read as 1.20, digits kept
    client = client_for(analyst)
    with committed():
        client.post(record_url(settled_ac225, "activity"), {
            "value": "1,20", "unit": "GBq", "measured_at": local(timezone.now())})
        client.post(record_url(settled_ac225, "ph"), {
            "value": "6,80", "unit": "pH", "measured_at": local(timezone.now())})
    activity = Result.objects.get(criterion__test_code="activity")
    assert (activity.entered_number, activity.entered_value) == ("1.20", "1.20 GBq")
    page = client.get(reverse("batch-detail", args=[settled_ac225.lot_number]))
    rows = {code: " ".join(re.sub(r"<[^>]+>", " ", body).split()) for code, body in
            re.findall(r'data-test-code="([^"]+)">(.*?)</tbody>', page.content.decode(), re.S)}
    assert "1.20 GBq" in rows["activity"] and "1.2 GBq" not in rows["activity"]
    assert "6.80 pH" in rows["ph"] and "pH 6.80" in rows["ph"]


def test_a_computed_float_reads_to_four_significant_figures_not_its_binary_noise(
        client_for, analyst, settled_ac225, committed):
    with committed():
        record(analyst, settled_ac225, "activity", timezone.now(), 1424.4374932728838, "MBq")
    page = client_for(analyst).get(reverse("batch-detail", args=[settled_ac225.lot_number]))
    text = " ".join(page.content.decode().split())
    assert "1424 MBq" in text and "1.424 GBq" in text
    assert "1424.437" not in text


def test_a_measurement_in_the_future_is_refused_next_to_measured_at(
        client_for, analyst, settled_ac225):
    response = client_for(analyst).post(record_url(settled_ac225, "ph"), {
        "value": "7", "unit": "pH", "measured_at": local(timezone.now() + timedelta(hours=1))})
    assert "future" in response.context["form"].errors["measured_at"][0]


def test_a_correction_supersedes_with_a_reason_and_both_stay_visible(
        client_for, analyst, settled_ac225, committed):
    with committed():
        original = record(analyst, settled_ac225, "ph", timezone.now(), 7.1, "pH")
    client = client_for(analyst)
    url = reverse("result-correct", args=[settled_ac225.lot_number, original.pk])
    form = client.get(url).context["form"]
    assert form.initial["value"] == "7.1"
    with committed():
        response = client.post(url, {"value": "7.3", "unit": "pH",
                                     "measured_at": local(original.measured_at),
                                     "reason": "transcription error"})
    assert response.status_code == 302
    correction = Result.objects.get(supersedes=original)
    assert correction.value == 7.3 and correction.reason == "transcription error"
    assert AuditEvent.objects.filter(action="result.supersede",
                                     object_id=str(correction.pk)).exists()
    html = client.get(response["Location"]).content.decode()
    assert "transcription error" in html and "<s>7.1 pH</s>" in html


def test_a_correction_without_a_reason_is_refused_and_the_new_value_kept(
        client_for, analyst, settled_ac225, committed):
    with committed():
        original = record(analyst, settled_ac225, "ph", timezone.now(), 7.1, "pH")
    response = client_for(analyst).post(
        reverse("result-correct", args=[settled_ac225.lot_number, original.pk]),
        {"value": "7.4", "unit": "pH", "measured_at": local(original.measured_at), "reason": ""})
    assert response.context["form"].errors["reason"]
    assert 'value="7.4"' in response.content.decode()
    assert not Result.objects.filter(supersedes=original).exists()


def test_a_failing_result_cannot_be_corrected_the_refusal_says_why(
        client_for, analyst, settled_ac225, committed):
    with committed():
        failing = record(analyst, settled_ac225, "endotoxin", timezone.now(), 9.0, "EU/mL")
    response = client_for(analyst).post(
        reverse("result-correct", args=[settled_ac225.lot_number, failing.pk]),
        {"value": "0.9", "unit": "EU/mL", "measured_at": local(failing.measured_at),
         "reason": "wrong"})
    assert response.status_code == 200
    assert "investigated, not corrected" in response.content.decode()
    assert not Result.objects.filter(supersedes=failing).exists()


def test_qa_invalidates_a_failing_result_with_a_signed_cause(
        client_for, analyst, reviewer, settled_ac225, committed):
    with committed():
        failing = record(analyst, settled_ac225, "endotoxin", timezone.now(), 9.0, "EU/mL")
    url = reverse("result-invalidate", args=[settled_ac225.lot_number, failing.pk])
    client = client_for(reviewer)
    summary = client.get(url).content.decode()
    assert "Meaning of this signature" in summary and "9 EU/mL" in summary
    with committed():
        response = client.post(url, {"cause": "sample diluted with the wrong water",
                                     "password": PASSWORD})
    assert response.status_code == 302
    invalidation = ResultInvalidation.objects.get(result=failing)
    assert invalidation.signature.user == reviewer
    assert invalidation.signature.meaning == "invalidated"
    assert AuditEvent.objects.filter(action="result.invalidate",
                                     object_id=str(failing.pk)).exists()


def test_a_wrong_password_at_invalidation_is_refused_next_to_the_password_keeping_the_cause(
        client_for, analyst, reviewer, settled_ac225, committed):
    with committed():
        failing = record(analyst, settled_ac225, "endotoxin", timezone.now(), 9.0, "EU/mL")
    response = client_for(reviewer).post(
        reverse("result-invalidate", args=[settled_ac225.lot_number, failing.pk]),
        {"cause": "pipetting error found", "password": "not-my-password"})
    assert response.status_code == 200
    assert "Wrong password" in response.context["form"].errors["password"][0]
    html = response.content.decode()
    assert "pipetting error found" in html
    assert "not-my-password" not in html  # a password is never echoed back
    assert not ResultInvalidation.objects.exists()
    assert not Signature.objects.filter(meaning="invalidated").exists()
    assert SigningLock.objects.get(user=reviewer).failures == 1


def test_an_analyst_may_not_open_the_invalidation_page(client_for, analyst, settled_ac225):
    result = settled_ac225.results.first()
    response = client_for(analyst).post(
        reverse("result-invalidate", args=[settled_ac225.lot_number, result.pk]),
        {"cause": "x", "password": PASSWORD})
    assert response.status_code == 403
    assert not ResultInvalidation.objects.exists()


def test_an_unknown_test_code_is_404(client_for, analyst, settled_ac225):
    assert client_for(analyst).get(record_url(settled_ac225, "nope")).status_code == 404
