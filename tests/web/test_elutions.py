"""An operator records an elution through an audited service, checked against the
generator's ingrowth forecast; the admin only shows elutions."""

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from batches.models import Elution, Generator, GeneratorKind
from batches.records.elutions import elution_forecast, elution_record
from qc.errors import RuleViolation
from qc.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def generator():
    now = timezone.now()
    return Generator.objects.create(
        kind=GeneratorKind.RA224_PB212, serial="RA-GEN-7", parent_nuclide="Ra-224",
        loaded_activity_bq=1e9, loaded_at=now - timedelta(days=2), supplier="Test supplier",
        expires_on=(now + timedelta(days=10)).date())


def test_an_operator_records_an_elution_with_an_audit_event_holding_the_forecast(
        operator, generator):
    at = timezone.now() - timedelta(minutes=3)
    forecast = elution_forecast(generator=generator, at=at)
    elution = elution_record(actor=operator, generator=generator, eluted_at=at,
                             activity_bq=0.9 * forecast.predicted_bq, volume_ml=2.0,
                             entered_activity="x MBq")
    elution.refresh_from_db()
    assert (elution.volume_ml, elution.recorded_by, elution.entered_activity) == (
        2.0, operator, "x MBq")
    event = AuditEvent.objects.get(action="elution.recorded", object_id=str(elution.pk))
    assert event.actor == operator
    assert event.after["forecast_bq"] == pytest.approx(forecast.predicted_bq)
    assert event.after["share_of_forecast_percent"] == pytest.approx(90.0)
    assert event.after["above_forecast_confirmed"] is False


def test_an_activity_past_the_forecast_is_refused_until_confirmed(operator, generator):
    at = timezone.now()
    forecast = elution_forecast(generator=generator, at=at)
    with pytest.raises(ValidationError) as refused:
        elution_record(actor=operator, generator=generator, eluted_at=at,
                       activity_bq=1.5 * forecast.predicted_bq, volume_ml=2.0)
    assert "150 % of the ingrowth forecast" in str(refused.value)
    assert not Elution.objects.exists()
    elution = elution_record(actor=operator, generator=generator, eluted_at=at,
                             activity_bq=1.5 * forecast.predicted_bq, volume_ml=2.0,
                             above_forecast_confirmed=True)
    event = AuditEvent.objects.get(action="elution.recorded", object_id=str(elution.pk))
    assert event.after["above_forecast_confirmed"] is True


def test_the_forecast_counts_ingrowth_from_the_previous_elution(operator, generator):
    at = timezone.now()
    fresh = elution_forecast(generator=generator, at=at)
    elution_record(actor=operator, generator=generator, eluted_at=at - timedelta(hours=1),
                   activity_bq=0.5 * elution_forecast(
                       generator=generator, at=at - timedelta(hours=1)).predicted_bq,
                   volume_ml=2.0)
    after_one_hour = elution_forecast(generator=generator, at=at)
    assert after_one_hour.since_what == "last elution"
    assert after_one_hour.predicted_bq < 0.2 * fresh.predicted_bq


@pytest.mark.parametrize("change, field", [
    ({"eluted_at": timezone.now() + timedelta(hours=2)}, "eluted_at"),
    ({"eluted_at": timezone.now() - timedelta(days=5)}, "eluted_at"),
    ({"volume_ml": 0.0}, "volume_ml"),
    ({"activity_bq": -1.0}, "activity_bq"),
])
def test_it_refuses_a_time_or_value_that_cannot_be_right(operator, generator, change, field):
    arguments = {"eluted_at": timezone.now(), "activity_bq": 1e6, "volume_ml": 2.0, **change}
    with pytest.raises(ValidationError) as refused:
        elution_record(actor=operator, generator=generator, **arguments)
    assert field in refused.value.message_dict


def test_only_an_operator_records_an_elution(analyst, generator):
    with pytest.raises(RuleViolation):
        elution_record(actor=analyst, generator=generator, eluted_at=timezone.now(),
                       activity_bq=1e6, volume_ml=2.0)


def test_the_form_records_it_and_leads_to_registering_its_batch(
        client_for, operator, generator):
    at = timezone.localtime() - timedelta(minutes=2)
    forecast = elution_forecast(generator=generator, at=at.replace(second=0, microsecond=0))
    mbq = round(0.8 * forecast.predicted_bq / 1e6, 1)
    response = client_for(operator).post(reverse("elution-record"), {
        "generator": generator.pk, "eluted_at": at.strftime("%Y-%m-%dT%H:%M"),
        "activity": f"{mbq} MBq", "volume_ml": "1.5"})
    elution = Elution.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('batch-register')}?source=elution:{elution.pk}"
    assert elution.activity_bq == pytest.approx(mbq * 1e6)


def test_the_forecast_beside_the_form_warns_past_it(client_for, operator, generator):
    at = timezone.localtime().replace(second=0, microsecond=0)
    forecast = elution_forecast(generator=generator, at=at)
    client = client_for(operator)
    params = {"generator": generator.pk, "eluted_at": at.strftime("%Y-%m-%dT%H:%M")}
    within = client.get(reverse("elution-forecast"), {
        **params, "activity": f"{0.9 * forecast.predicted_bq:.0f} Bq"}).content.decode()
    assert "Ingrowth since the loading" in within and 'data-testid="above-forecast"' not in within
    above = client.get(reverse("elution-forecast"), {
        **params, "activity": f"{2 * forecast.predicted_bq:.0f} Bq"}).content.decode()
    assert 'data-testid="above-forecast"' in above


def test_an_analyst_cannot_open_the_elution_form(client_for, analyst):
    assert client_for(analyst).get(reverse("elution-record")).status_code == 403


def test_the_admin_shows_records_but_cannot_add_change_or_delete_them(admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    for model in ("elution", "batch", "result", "evaluation", "resultinvalidation",
                  "certificate"):
        model_admin = next(a for m, a in admin_site._registry.items()
                           if m._meta.model_name == model)
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
    inline = admin_site._registry[Generator].get_inline_instances(request)[0]
    assert not inline.has_add_permission(request, None)
    assert not inline.has_delete_permission(request)


def test_the_form_takes_a_decimal_comma_where_the_site_writes_one(
        client_for, operator, generator, settings):
    settings.DECIMAL_COMMA = True
    at = timezone.localtime() - timedelta(minutes=2)
    client_for(operator).post(reverse("elution-record"), {
        "generator": generator.pk, "eluted_at": at.strftime("%Y-%m-%dT%H:%M"),
        "activity": "0,5 MBq", "volume_ml": "1.5"})
    assert Elution.objects.get().activity_bq == pytest.approx(0.5e6)
