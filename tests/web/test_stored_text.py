"""Free text that is stored and shown again (reasons, notes, names) refuses an escape code or
a bidi override (qc.text) on every entry path, says which field, and writes nothing; a text
area keeps its line breaks."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from batches.disposition import services as disposition
from batches.models import BatchStatus, Result
from qc.master_data import master_data_save
from qc.models import AuditEvent, Criterion, Instrument, Signature, Specification
from qc.stability.models import StabilityCriterion, StabilityProtocol
from qc.stability.services import stability_protocol_create_draft
from qc.text import text_problem
from tests.conftest import PASSWORD
from tests.factories import make_instrument
from tests.gmp.flows import record
from tests.web.test_specifications import criterion_form, current, draft  # noqa: F401

pytestmark = pytest.mark.django_db

ESC = "\x1b[2J"
RLO = "\u202e"
HOSTILE = [pytest.param(f"transcription{ESC} error", id="escape"),
           pytest.param(f"cause: {RLO}rorre", id="right-to-left-override")]


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


def counts():
    return (Result.objects.count(), AuditEvent.objects.count(), Signature.objects.count())


@pytest.mark.parametrize("ch", ["\x1b", "\x07", "\x00", "\x7f", "\x85", "\u202a", "\u202e",
                                "\u2066", "\u2069"])
def test_a_single_line_field_and_a_text_area_both_refuse_escapes_and_bidi_controls(ch):
    for multiline in (False, True):
        problem = text_problem(f"a{ch}b", label="reason", multiline=multiline)
        assert problem.startswith("The reason holds a ")
        assert f"U+{ord(ch):04X}" in problem and "at character 2" in problem


def test_a_text_area_keeps_line_breaks_and_tabs_but_one_line_does_not():
    assert text_problem("one\r\ntwo\n\tthree", label="reason", multiline=True) is None
    assert "carriage return" in text_problem("one\rtwo", label="reason", multiline=True)
    assert "line break" in text_problem("one\ntwo", label="name")
    assert text_problem("Ac-225 — PSMA-I&T, 日本", label="name") is None


@pytest.mark.parametrize("reason", HOSTILE)
def test_a_web_correction_refuses_a_hostile_reason_next_to_the_field(
        client_for, analyst, settled_ac225, committed, reason):
    with committed():
        original = record(analyst, settled_ac225, "ph", timezone.now(), 7.1, "pH")
    client = client_for(analyst)  # logging in is an audit event of its own
    before = counts()
    response = client.post(
        reverse("result-correct", args=[settled_ac225.lot_number, original.pk]),
        {"value": "7.3", "unit": "pH", "measured_at": local(original.measured_at),
         "reason": reason})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"][0].startswith("The reason holds a ")
    assert counts() == before


def test_a_web_correction_keeps_a_reason_written_on_several_lines(
        client_for, analyst, settled_ac225, committed):
    with committed():
        original = record(analyst, settled_ac225, "ph", timezone.now(), 7.1, "pH")
    with committed():
        response = client_for(analyst).post(
            reverse("result-correct", args=[settled_ac225.lot_number, original.pk]),
            {"value": "7.3", "unit": "pH", "measured_at": local(original.measured_at),
             "reason": "transcription error:\r\n\tread 7.1, meter showed 7.3"})
    assert response.status_code == 302
    correction = Result.objects.get(supersedes=original)
    assert correction.reason.splitlines()[1] == "\tread 7.1, meter showed 7.3"


@pytest.mark.parametrize("reason", HOSTILE)
def test_a_rejection_refuses_a_hostile_reason_and_the_batch_stays_as_it_was(
        ac225_batch, qp, reason):
    before = counts()
    with pytest.raises(ValidationError) as refused:
        disposition.batch_reject(actor=qp, password=PASSWORD, batch=ac225_batch, reason=reason)
    assert refused.value.message_dict["reason"][0].startswith("The reason holds a ")
    ac225_batch.refresh_from_db()
    assert ac225_batch.status == BatchStatus.REGISTERED
    assert counts() == before


def test_a_rejection_keeps_a_reason_written_on_several_lines(ac225_batch, qp):
    disposition.batch_reject(actor=qp, password=PASSWORD, batch=ac225_batch,
                             reason="synthesis module fault\nsee deviation DV-12")
    assert AuditEvent.objects.get(action="batch.reject").reason == (
        "synthesis module fault\nsee deviation DV-12")


@pytest.mark.parametrize("text", [f"RCP{ESC}", f"RCP {RLO}CLT"])
def test_a_criterion_name_is_refused_next_to_the_field_and_nothing_is_added(
        client_for, reviewer, draft, text):  # noqa: F811
    ph = draft.criteria.get(test_code="ph")
    client = client_for(reviewer)
    before = (Criterion.objects.count(), AuditEvent.objects.count())
    response = client.post(
        reverse("criterion-add", args=[draft.pk]),
        criterion_form(ph, test_code="ph-2", name=text, position=99))
    assert response.status_code == 200
    assert response.context["form"].errors["name"][0].startswith(
        "The criterion name holds a ")
    assert (Criterion.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("text", HOSTILE)
def test_the_reason_for_a_new_version_is_refused_next_to_the_field_and_no_draft_is_made(
        client_for, reviewer, products, text):
    client = client_for(reviewer)
    before = (Specification.objects.count(), AuditEvent.objects.count())
    response = client.post(
        reverse("specification-draft", args=["pb212-dotamtate"]), {"change_reason": text})
    assert response.status_code == 200
    assert response.context["form"].errors["change_reason"][0].startswith(
        "The change reason holds a ")
    assert not response.context["form"].non_field_errors()
    assert (Specification.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("note", [f"after{ESC} re-equilibration", f"after {RLO}noitarbiliuqe"])
def test_a_stability_protocol_note_is_refused_naming_its_test(products, reviewer, note):
    product = products["ac225-psma-it"]
    before = (StabilityProtocol.objects.count(), StabilityCriterion.objects.count(),
              AuditEvent.objects.count())
    with pytest.raises(ValidationError) as refused:
        stability_protocol_create_draft(
            actor=reviewer, product=product, specification=product.specifications.first(),
            storage_temperature_c=22, container="10 mL type I glass vial",
            concentration_bq_per_ml=2.8e6,
            time_points=[(timedelta(0), timedelta(minutes=5)), (timedelta(hours=1),
                                                                timedelta(minutes=10))],
            criteria=[("rcp", note), "ph"], change_reason="first study\nper ICH Q1A")
    assert list(refused.value.message_dict) == ["note_rcp"]
    assert refused.value.message_dict["note_rcp"][0].startswith("The note of test rcp holds a ")
    assert (StabilityProtocol.objects.count(), StabilityCriterion.objects.count(),
            AuditEvent.objects.count()) == before


@pytest.mark.parametrize("name", [f"HPGe{ESC}", f"HPGe {RLO}rotceted"])
def test_an_instrument_name_is_refused_by_the_service_and_in_the_admin(
        client_for, admin_user, name):
    instrument = make_instrument(name="HPGe detector")
    before = AuditEvent.objects.count()
    instrument.name = name
    with pytest.raises(ValidationError) as refused:
        master_data_save(actor=admin_user, obj=instrument)
    assert refused.value.message_dict["name"][0].startswith("The name holds a ")
    client = client_for(admin_user)
    before = AuditEvent.objects.count()
    response = client.post(
        reverse("admin:qc_instrument_change", args=[instrument.pk]),
        {"serial": instrument.serial, "name": name, "kind": instrument.kind,
         "calibration_due": instrument.calibration_due.isoformat(), "in_service": "on"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"][0].startswith("The name holds a ")
    assert Instrument.objects.get(pk=instrument.pk).name == "HPGe detector"
    assert AuditEvent.objects.count() == before
