"""Instruments report only the tests they are qualified for: a result from an unqualified
instrument is refused in the service, the API and the web form (which offers only qualified
instruments); an API key cannot be minted for a test outside the qualification; the
qualification changes only through the audited service."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from batches.forms import ResultForm
from batches.models import Result
from batches.records.results import result_record
from qc.api_keys import api_key_create
from qc.errors import RuleViolation
from qc.instruments import instrument_qualify
from qc.models import AuditEvent, InstrumentKind
from tests.api.conftest import fields
from tests.factories import criterion, make_instrument

pytestmark = pytest.mark.django_db


@pytest.fixture
def ph_meter(products):
    return make_instrument(kind=InstrumentKind.PH_METER, serial="PH-0001",
                           qualified_test_codes=["ph"])


def test_the_service_refuses_rcp_from_a_ph_meter_naming_its_qualification(
        pb212_batch, analyst, ph_meter, now):
    with pytest.raises(RuleViolation) as refused:
        result_record(actor=analyst, batch=pb212_batch, criterion=criterion(pb212_batch, "rcp"),
                      measured_at=now, value=97.0, unit="%", instrument=ph_meter,
                      counting_window="product_line")
    assert refused.value.code == "instrument_not_qualified"
    assert "PH-0001 (pH meter) is not qualified for rcp; it is qualified for ph" in str(
        refused.value)
    assert not Result.objects.exists()


def test_the_service_accepts_the_ph_from_the_ph_meter(pb212_batch, analyst, ph_meter, now):
    result = result_record(actor=analyst, batch=pb212_batch,
                           criterion=criterion(pb212_batch, "ph"), measured_at=now, value=7.0,
                           unit="pH", instrument=ph_meter)
    assert result.instrument == ph_meter


def test_an_api_key_for_rcp_cannot_be_minted_for_a_ph_meter(admin_user, ph_meter):
    with pytest.raises(RuleViolation, match="not qualified for rcp"):
        api_key_create(actor=admin_user, instrument=ph_meter, test_codes=["rcp", "ph"])
    key, _ = api_key_create(actor=admin_user, instrument=ph_meter, test_codes=["ph"])
    assert key.test_codes == ["ph"]


def test_staff_posting_rcp_for_a_ph_meter_get_a_422_on_the_instrument(as_user, analyst,
                                                                     pb212_batch, ph_meter,
                                                                     now):
    response = as_user(analyst).post("/api/v1/results/", {
        "lot_number": pb212_batch.lot_number, "test_code": "rcp", "value": 97.0, "unit": "%",
        "measured_at": now.isoformat(), "instrument": "PH-0001"})
    assert response.status_code == 422, response.content
    assert "not qualified for rcp" in fields(response)["instrument"]
    assert not Result.objects.exists()


def test_the_web_form_offers_only_instruments_qualified_for_the_test(pb212_batch, ph_meter):
    tlc = make_instrument(kind=InstrumentKind.RADIO_TLC, serial="TLC-0009",
                          qualified_test_codes=["rcp"])
    offered = ResultForm(criterion=criterion(pb212_batch, "rcp")).fields["instrument"].queryset
    assert list(offered) == [tlc]
    offered = ResultForm(criterion=criterion(pb212_batch, "ph")).fields["instrument"].queryset
    assert list(offered) == [ph_meter]


def test_the_web_form_refuses_a_posted_unqualified_instrument(client, analyst, pb212_batch,
                                                              ph_meter, now):
    from django.utils import timezone

    at = timezone.localtime(now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    client.force_login(analyst)
    response = client.post(
        reverse("result-record", args=[pb212_batch.lot_number, "rcp"]),
        {"value": "97", "unit": "%", "measured_at": at, "instrument": ph_meter.pk})
    assert response.status_code == 200
    assert "instrument" in response.context["form"].errors
    assert not Result.objects.exists()


def test_qa_qualifies_an_instrument_with_a_reason_and_an_audit_event(reviewer, ph_meter):
    instrument_qualify(actor=reviewer, instrument=ph_meter, test_codes=["ph", "endotoxin"],
                       reason="OQ report OQ-2026-114")
    ph_meter.refresh_from_db()
    assert ph_meter.qualified_test_codes == ["endotoxin", "ph"]
    event = AuditEvent.objects.get(action="instrument.qualify")
    assert event.before == {"qualified_test_codes": ["ph"]}
    assert event.after == {"qualified_test_codes": ["endotoxin", "ph"]}
    assert event.reason == "OQ report OQ-2026-114" and event.actor == reviewer


def test_an_analyst_cannot_qualify_an_instrument_nor_without_a_reason(analyst, reviewer,
                                                                     ph_meter):
    with pytest.raises(RuleViolation):
        instrument_qualify(actor=analyst, instrument=ph_meter, test_codes=["rcp"], reason="x")
    with pytest.raises(ValidationError, match="Say why"):
        instrument_qualify(actor=reviewer, instrument=ph_meter, test_codes=["rcp"], reason=" ")
    with pytest.raises(ValidationError, match="Unknown test code nope"):
        instrument_qualify(actor=reviewer, instrument=ph_meter, test_codes=["nope"], reason="x")
    ph_meter.refresh_from_db()
    assert ph_meter.qualified_test_codes == ["ph"]


def test_the_admin_shows_the_qualification_read_only(admin_user, client, ph_meter):
    client.force_login(admin_user)
    response = client.get(reverse("admin:qc_instrument_change",
                                                  args=[ph_meter.pk]))
    assert response.status_code == 200
    assert "qualified_test_codes" not in response.context["adminform"].form.fields


def test_the_command_line_qualifies_an_instrument_with_a_reason(ph_meter):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("instrument_qualify", "PH-0001", "--test-code", "ph", "--test-code",
                 "endotoxin", "--reason", "PQ-2026-7", stdout=out)
    assert "is qualified for endotoxin, ph" in out.getvalue()
    assert AuditEvent.objects.get(action="instrument.qualify").reason == "PQ-2026-7"
