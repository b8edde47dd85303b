"""Stability protocols on the web: QA drafts one with its plan of tests, signs it as author,
another QA reviewer or QP approves it by e-signature; what is wrong is said next to it."""

from datetime import timedelta

import pytest

from qc.models import AuditEvent, Signature
from qc.stability.models import ProtocolStatus, StabilityProtocol
from qc.stability.plan import protocol_plan
from qc.stability.services import PROTOCOL_TYPE
from tests.batches.stability_helpers import approved_protocol
from tests.conftest import PASSWORD

H = timedelta(hours=1)
URL = "/products/ac225-psma-it/stability/protocols/new/"


def draft_post(**overrides):
    """0, 1, 2 and 4 h; RCP at each, vector integrity at 0 and 4 h, pH at 0 h."""
    data = {"storage_temperature_c": "22", "container": "10 mL type I glass vial",
            "orientation": "inverted", "concentration": "2.8 MBq/mL", "batches_required": "3",
            "extrapolation_factor": "2", "change_reason": "First study of the product",
            "note_rcp": "after re-equilibration"}
    for i, (hours, tolerance) in enumerate([(0, 5), (1, 10), (2, 10), (4, 15)]):
        data.update({f"tp_{i}_hours": str(hours), f"tp_{i}_tolerance_min": str(tolerance),
                     f"plan_{i}_rcp": "on"})
    data.update({"plan_0_vector-integrity": "on", "plan_3_vector-integrity": "on",
                 "plan_0_ph": "on"})
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_qa_drafts_a_protocol_with_its_plan_of_tests(client_for, reviewer, products):
    response = client_for(reviewer).post(URL, draft_post())

    assert response.status_code == 302, response.content.decode()[:3000]
    protocol = StabilityProtocol.objects.get()
    assert response["Location"] == f"/stability/protocols/{protocol.pk}/"
    assert (protocol.status, protocol.concentration_bq_per_ml) == (ProtocolStatus.DRAFT, 2.8e6)
    plan = protocol_plan(protocol)
    assert [[c.test_code for c in plan.tests_at(tp)] for tp in plan.time_points] == [
        ["rcp", "ph", "vector-integrity"], ["rcp"], ["rcp"], ["rcp", "vector-integrity"]]
    assert [tp.tolerance for tp in plan.time_points] == [timedelta(minutes=m)
                                                          for m in (5, 10, 10, 15)]
    assert plan.criteria[0].note == "after re-equilibration"
    assert AuditEvent.objects.filter(action="stability_protocol.draft",
                                     object_id=str(protocol.pk)).count() == 1


def test_the_draft_form_offers_only_criteria_a_study_can_test(client_for, reviewer, products):
    html = client_for(reviewer).get(URL).content.decode()

    assert 'name="plan_0_rcp"' in html and 'name="plan_9_appearance"' in html
    assert 'name="plan_0_activity"' not in html  # judged at calibration by decay physics


def test_a_new_version_starts_as_a_copy_of_the_last(client_for, reviewer, qp, products):
    approved_protocol(products["ac225-psma-it"], reviewer=reviewer, qp=qp,
                      criteria=("rcp", "ph"), schedule={
                          "rcp": [0 * H, H, 2 * H, 4 * H, 6 * H], "ph": [0 * H, 6 * H]})

    form = client_for(reviewer).get(URL).context["form"]

    assert form.initial["tp_4_hours"] == "6"
    assert form.initial["plan_4_ph"] is True and "plan_1_ph" not in form.initial
    assert form.initial["concentration"] == "2.8 MBq/mL"  # as a person types it


def test_time_points_out_of_order_are_refused_next_to_the_row(client_for, reviewer, products):
    response = client_for(reviewer).post(URL, draft_post(tp_2_hours="0.5"))

    assert response.status_code == 200
    assert ("Time point 3 (0.5 h) must come after the one above it (1 h)"
            in response.context["form"].errors["tp_2_hours"][0])
    assert not StabilityProtocol.objects.exists()


def test_a_negative_time_point_is_refused(client_for, reviewer, products):
    response = client_for(reviewer).post(URL, draft_post(tp_0_hours="-1"))

    assert "Time point 1 is before EOS" in response.context["form"].errors["tp_0_hours"][0]


def test_a_time_point_or_tolerance_beyond_ten_years_is_refused_not_a_crash(
        client_for, reviewer, products):
    # 1e308 h was an OverflowError (a 500) when it became a timedelta.
    response = client_for(reviewer).post(URL, draft_post(tp_3_hours="1e308",
                                                         tp_2_tolerance_min="1e308"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["tp_3_hours"] == ["At most 87660 h (ten years)."]
    assert errors["tp_2_tolerance_min"] == ["At most 5.2596e+06 min (ten years)."]
    assert not StabilityProtocol.objects.exists()


@pytest.mark.parametrize(("field", "typed", "says"), [
    ("storage_temperature_c", "-300", "greater than or equal to -273.15"),
    ("storage_temperature_c", "1e308", "less than or equal to 100"),
    ("extrapolation_factor", "1e308", "less than or equal to 2"),
    ("batches_required", "99999999999999999999", "less than or equal to 100"),  # was a 500
])
def test_a_protocol_number_beyond_what_it_can_be_is_refused(client_for, reviewer, products,
                                                           field, typed, says):
    response = client_for(reviewer).post(URL, draft_post(**{field: typed}))
    assert response.status_code == 200
    assert says in response.context["form"].errors[field][0]
    assert not StabilityProtocol.objects.exists()


def test_a_time_point_without_a_tolerance_is_refused(client_for, reviewer, products):
    response = client_for(reviewer).post(URL, draft_post(tp_1_tolerance_min=""))

    assert ("Give the tolerance of time point 2 in minutes"
            in response.context["form"].errors["tp_1_tolerance_min"][0])


def test_a_time_point_with_no_test_ticked_is_refused(client_for, reviewer, products):
    response = client_for(reviewer).post(URL, draft_post(plan_1_rcp=None))

    assert ("Nothing is tested at 1 h; tick the criteria tested there"
            in response.context["form"].errors["tp_1_hours"][0])


def test_a_concentration_that_is_not_one_is_refused(client_for, reviewer, products):
    response = client_for(reviewer).post(URL, draft_post(concentration="lots"))

    assert "Cannot read an activity from 'lots'" in response.context["form"].errors[
        "concentration"][0]


def test_a_plan_without_ticks_says_a_protocol_needs_criteria(client_for, reviewer, products):
    response = client_for(reviewer).post(URL, {
        k: v for k, v in draft_post().items() if not k.startswith("plan_")})

    html = response.content.decode()
    assert response.status_code == 200 and "Nothing is tested at 0 h" in html
    assert not StabilityProtocol.objects.exists()


def test_an_analyst_does_not_draft_a_protocol(client_for, analyst, products):
    response = client_for(analyst).post(URL, draft_post())

    assert response.status_code == 403
    assert "may draft a stability protocol" in response.content.decode()
    assert not StabilityProtocol.objects.exists()


def draft_protocol(client_for, reviewer) -> StabilityProtocol:
    assert client_for(reviewer).post(URL, draft_post()).status_code == 302
    return StabilityProtocol.objects.get()


def test_the_protocol_page_shows_the_plan(client_for, reviewer, analyst, products):
    protocol = draft_protocol(client_for, reviewer)

    page = client_for(analyst).get(f"/stability/protocols/{protocol.pk}/")

    assert page.status_code == 200
    rows = [row.tested for row in page.context["plan"].rows()]
    assert [sc.criterion.test_code for sc in page.context["plan"].criteria] == [
        "rcp", "ph", "vector-integrity"]  # in the specification's order
    assert rows == [(True, True, True), (True, False, False), (True, False, False),
                    (True, False, True)]
    html = page.content.decode()
    assert 'data-testid="protocol-plan"' in html and "T+4 h" in html and "± 15 min" in html
    assert html.count('<span class="visually-hidden">tested</span>') == 7
    assert "Approve by signature" not in html  # an analyst does not sign


def test_the_author_signs_and_a_qp_approves_by_e_signature(client_for, reviewer, qp,
                                                           products):
    protocol = draft_protocol(client_for, reviewer)

    authored = client_for(reviewer).post(f"/stability/protocols/{protocol.pk}/author/",
                                         {"password": PASSWORD})
    sign_page = client_for(qp).get(f"/stability/protocols/{protocol.pk}/approve/")
    approved = client_for(qp).post(f"/stability/protocols/{protocol.pk}/approve/",
                                   {"password": PASSWORD, "comment": "Study agreed."})

    assert authored.status_code == 302 and approved.status_code == 302
    assert "Meaning of this signature — Approved" in sign_page.content.decode()
    protocol.refresh_from_db()
    assert (protocol.status, protocol.approved_by) == (ProtocolStatus.APPROVED, qp)
    assert list(Signature.objects.filter(object_type=PROTOCOL_TYPE, object_id=str(protocol.pk))
                .values_list("meaning", flat=True)) == ["authored", "approved"]
    assert AuditEvent.objects.filter(action="stability_protocol.approve",
                                     object_id=str(protocol.pk)).exists()


def test_a_wrong_password_is_said_next_to_the_password(client_for, reviewer, qp, products):
    protocol = draft_protocol(client_for, reviewer)

    response = client_for(qp).post(f"/stability/protocols/{protocol.pk}/approve/",
                                   {"password": "not-my-password"})

    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    protocol.refresh_from_db()
    assert protocol.status == ProtocolStatus.DRAFT


def test_the_author_does_not_approve_their_own_protocol(client_for, reviewer, products):
    protocol = draft_protocol(client_for, reviewer)
    client_for(reviewer).post(f"/stability/protocols/{protocol.pk}/author/",
                              {"password": PASSWORD})

    response = client_for(reviewer).post(f"/stability/protocols/{protocol.pk}/approve/",
                                         {"password": PASSWORD})

    assert "another QA reviewer or Qualified Person approves it" in response.content.decode()
    protocol.refresh_from_db()
    assert protocol.status == ProtocolStatus.DRAFT


def test_an_analyst_does_not_approve_a_protocol(client_for, reviewer, analyst, products):
    protocol = draft_protocol(client_for, reviewer)

    response = client_for(analyst).post(f"/stability/protocols/{protocol.pk}/approve/",
                                        {"password": PASSWORD})

    assert response.status_code == 403
    protocol.refresh_from_db()
    assert protocol.status == ProtocolStatus.DRAFT
