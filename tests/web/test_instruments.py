"""Instruments: calibration and service state, and API keys an administrator creates (the
key shown once) and revokes."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from qc.api_keys import api_key_verify
from qc.models import AuditEvent, InstrumentApiKey
from tests.factories import make_instrument

pytestmark = pytest.mark.django_db


def test_the_list_flags_an_overdue_calibration_and_an_instrument_out_of_service(
        client_for, analyst, db):
    make_instrument(serial="OK-1")
    make_instrument(serial="LATE-1", calibration_due=timezone.localdate() - timedelta(days=1))
    make_instrument(serial="OFF-1", in_service=False)
    html = client_for(analyst).get(reverse("instrument-list")).content.decode()
    assert html.count("Overdue") == 1 and "Out of service" in html


def test_an_administrator_creates_a_key_that_is_shown_once(client_for, admin_user, products):
    instrument = make_instrument()
    client = client_for(admin_user)
    response = client.post(reverse("api-key-create", args=[instrument.serial]),
                           {"test_codes": ["ph", "rcp"]})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    plaintext = response.context["plaintext"]
    key = api_key_verify(plaintext).key
    assert key.instrument == instrument and key.test_codes == ["ph", "rcp"]
    assert plaintext in response.content.decode()
    again = client.get(reverse("instrument-detail", args=[instrument.serial])).content.decode()
    assert plaintext not in again and key.prefix in again
    assert AuditEvent.objects.filter(action="api_key.create", actor=admin_user).exists()


def test_a_key_that_can_do_nothing_is_refused_next_to_the_test_codes(
        client_for, admin_user, products):
    instrument = make_instrument()
    response = client_for(admin_user).post(reverse("api-key-create", args=[instrument.serial]),
                                           {})
    assert response.context["form"].errors["test_codes"]
    assert not InstrumentApiKey.objects.exists()


def test_an_administrator_revokes_a_key(client_for, admin_user, products):
    instrument = make_instrument()
    client = client_for(admin_user)
    plaintext = client.post(reverse("api-key-create", args=[instrument.serial]),
                            {"test_codes": ["ph"]}).context["plaintext"]
    key = InstrumentApiKey.objects.get()
    response = client.post(reverse("api-key-revoke", args=[instrument.serial, key.prefix]),
                           {"reason": "instrument replaced"})
    assert response.status_code == 302
    assert api_key_verify(plaintext) is None
    assert AuditEvent.objects.get(action="api_key.revoke").reason == "instrument replaced"


def test_others_see_keys_but_cannot_manage_them(client_for, qp, admin_user, products):
    instrument = make_instrument()
    client_for(admin_user).post(reverse("api-key-create", args=[instrument.serial]),
                                {"test_codes": ["ph"]})
    key = InstrumentApiKey.objects.get()
    client = client_for(qp)
    html = client.get(reverse("instrument-detail", args=[instrument.serial])).content.decode()
    assert key.prefix in html and "Create an API key" not in html
    response = client.post(reverse("api-key-revoke", args=[instrument.serial, key.prefix]))
    assert response.status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


def test_an_administrator_grants_a_key_read_scopes_from_the_form(client_for, admin_user,
                                                                 products):
    instrument = make_instrument()
    client = client_for(admin_user)
    plaintext = client.post(reverse("api-key-create", args=[instrument.serial]),
                            {"test_codes": ["rcp"], "read_scopes": ["read_certificates"]}
                            ).context["plaintext"]
    assert api_key_verify(plaintext).key.read_scopes == ["read_certificates"]
    page = client.get(reverse("instrument-detail", args=[instrument.serial])).content.decode()
    assert "read_certificates" in page
    event = AuditEvent.objects.get(action="api_key.create")
    assert event.after["read_scopes"] == ["read_certificates"]


def test_a_read_scope_the_form_does_not_offer_is_refused(client_for, admin_user, products):
    instrument = make_instrument()
    response = client_for(admin_user).post(reverse("api-key-create", args=[instrument.serial]),
                                           {"test_codes": ["rcp"], "read_scopes": ["admin"]})
    assert "admin is not one of the available choices" in \
        response.context["form"].errors["read_scopes"][0]
    assert not InstrumentApiKey.objects.exists()
