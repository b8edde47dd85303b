"""Specifications on the web: a draft from the current version, criteria edited (audited,
only in a draft), the differences against the previous version, approval by signature."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from qc.errors import RuleViolation
from qc.models import AuditEvent, Specification
from qc.specification_edits import criteria_diff, criterion_add, criterion_remove, criterion_update
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def current(products):
    return Specification.objects.get(product__code="pb212-dotamtate", status="approved")


@pytest.fixture
def draft(current, reviewer, client_for):
    response = client_for(reviewer).post(
        reverse("specification-draft", args=["pb212-dotamtate"]),
        {"change_reason": "tighten the RCP limit"})
    assert response.status_code == 302
    return Specification.objects.get(product=current.product, status="draft")


def criterion_form(criterion, **changes):
    data = {f: getattr(criterion, f) for f in (
        "position", "test_code", "name", "unit", "text_requirement", "judged_at", "quantity",
        "impurity_nuclide", "validity", "validity_nuclide")}
    for f in ("lower_limit", "upper_limit", "validity_value"):
        value = getattr(criterion, f)
        data[f] = "" if value is None else value
    for f in ("lower_inclusive", "upper_inclusive", "release_before_result"):
        if getattr(criterion, f):
            data[f] = "on"
    data["method"] = criterion.method_id or ""
    data.update(changes)
    return data


def test_a_draft_starts_as_a_copy_of_the_current_version(current, draft):
    assert draft.version == current.version + 1
    assert draft.change_reason == "tighten the RCP limit"
    assert list(draft.criteria.values_list("test_code", flat=True)) == list(
        current.criteria.values_list("test_code", flat=True))
    assert criteria_diff(current, draft) == []


def test_editing_a_draft_criterion_is_audited_and_shows_in_the_diff(
        client_for, reviewer, draft):
    rcp = draft.criteria.get(test_code="rcp")
    client = client_for(reviewer)
    response = client.post(reverse("criterion-edit", args=[draft.pk, rcp.pk]),
                           criterion_form(rcp, lower_limit="97"))
    assert response.status_code == 302
    rcp.refresh_from_db()
    assert rcp.lower_limit == 97
    event = AuditEvent.objects.get(action="specification.criterion_change")
    assert (event.before, event.after) == ({"lower_limit": 95.0}, {"lower_limit": 97.0})
    assert event.actor == reviewer
    detail = client.get(reverse("specification-detail", args=[draft.pk]))
    [row] = detail.context["diff"]
    assert row["change"] == "changed" and row["fields"][0][1:] == (95.0, 97.0)
    assert "<ins>97.0</ins>" in detail.content.decode()


def test_limits_in_the_wrong_order_are_refused_and_the_input_kept(client_for, reviewer, draft):
    ph = draft.criteria.get(test_code="ph")
    response = client_for(reviewer).post(reverse("criterion-edit", args=[draft.pk, ph.pk]),
                                         criterion_form(ph, lower_limit="9.5"))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'value="9.5"' in response.content.decode()
    ph.refresh_from_db()
    assert ph.lower_limit == 5.5


def test_a_criterion_is_added_and_removed_in_a_draft(client_for, reviewer, draft):
    client = client_for(reviewer)
    template = draft.criteria.get(test_code="ph")
    response = client.post(reverse("criterion-add", args=[draft.pk]), criterion_form(
        template, test_code="osmolality", name="Osmolality", unit="mOsm/kg", lower_limit="250",
        upper_limit="600", position="20"))
    assert response.status_code == 302
    added = draft.criteria.get(test_code="osmolality")
    assert AuditEvent.objects.filter(action="specification.criterion_add",
                                     object_id=str(added.pk)).exists()
    client.post(reverse("criterion-delete", args=[draft.pk, added.pk]))
    assert not draft.criteria.filter(test_code="osmolality").exists()
    assert AuditEvent.objects.filter(action="specification.criterion_remove").exists()


def test_a_duplicate_test_code_is_refused_next_to_the_code(client_for, reviewer, draft):
    ph = draft.criteria.get(test_code="ph")
    response = client_for(reviewer).post(reverse("criterion-add", args=[draft.pk]),
                                         criterion_form(ph, name="pH again"))
    assert "already" in response.context["form"].errors["test_code"][0]


def test_an_approved_version_refuses_every_edit(current, reviewer):
    rcp = current.criteria.get(test_code="rcp")
    with pytest.raises(RuleViolation, match="cannot change"):
        criterion_update(actor=reviewer, criterion=rcp, values={"lower_limit": 50})
    with pytest.raises(RuleViolation, match="cannot change"):
        criterion_remove(actor=reviewer, criterion=rcp)
    with pytest.raises(RuleViolation, match="cannot change"):
        criterion_add(actor=reviewer, specification=current,
                      values={"test_code": "x", "name": "X"})
    rcp.refresh_from_db()
    assert rcp.lower_limit == 95
    assert not AuditEvent.objects.filter(action__startswith="specification.criterion").exists()


def test_the_web_says_so_when_an_approved_version_is_edited(client_for, reviewer, current):
    rcp = current.criteria.get(test_code="rcp")
    response = client_for(reviewer).post(reverse("criterion-edit", args=[current.pk, rcp.pk]),
                                         criterion_form(rcp, lower_limit="50"))
    assert response.status_code == 200
    assert "draft a new version instead" in response.content.decode()
    rcp.refresh_from_db()
    assert rcp.lower_limit == 95


def test_only_qa_or_a_qp_edits_criteria(draft, analyst):
    with pytest.raises(RuleViolation, match="Only QA"):
        criterion_update(actor=analyst, criterion=draft.criteria.first(), values={"name": "x"})


def test_an_unknown_field_is_a_programming_error_not_a_silent_change(draft, reviewer):
    with pytest.raises(ValueError, match="not criterion fields"):
        criterion_update(actor=reviewer, criterion=draft.criteria.first(),
                         values={"specification_id": 1})


def test_a_value_the_model_refuses_comes_back_as_a_field_error(draft, reviewer):
    with pytest.raises(ValidationError) as refused:
        criterion_update(actor=reviewer, criterion=draft.criteria.get(test_code="rcp"),
                         values={"judged_at": "tomorrow"})
    assert "judged_at" in refused.value.message_dict


def test_the_draft_is_approved_by_signature_and_the_previous_version_retired(
        client_for, reviewer, qp, draft, current, committed):
    url = reverse("specification-approve", args=[draft.pk])
    client = client_for(qp)
    assert "Meaning of this signature — Approved" in client.get(url).content.decode()
    response = client.post(url, {"effective_from": "2026-01-01T00:00:00", "password": "nope"})
    assert "Wrong password" in response.context["form"].errors["password"][0]
    draft.refresh_from_db()
    assert draft.status == "draft"
    response = client.post(url, {"effective_from": "2026-01-01T00:00:00", "comment": "ok",
                                 "password": PASSWORD})
    assert response.status_code == 302
    draft.refresh_from_db()
    current.refresh_from_db()
    assert (draft.status, current.status) == ("approved", "retired")
    assert draft.approved_by == qp


def test_the_author_of_a_draft_does_not_approve_it(client_for, reviewer, draft):
    client = client_for(reviewer)
    response = client.post(reverse("specification-author", args=[draft.pk]),
                           {"password": PASSWORD})
    assert response.status_code == 302
    response = client.post(reverse("specification-approve", args=[draft.pk]),
                           {"effective_from": "2026-01-01T00:00:00", "password": PASSWORD})
    assert "another QA reviewer or Qualified Person approves it" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_the_list_shows_every_version_by_product(client_for, analyst, draft):
    html = client_for(analyst).get(reverse("specification-list")).content.decode()
    assert "v2" in html and "Draft" in html and "Approved (in force)" in html
    # an analyst may read but not draft
    assert reverse("specification-draft", args=["pb212-dotamtate"]) not in html


@pytest.mark.parametrize("typed", ["999999999 days", "-1 day, 0:00:00", "3653 days"])
def test_an_earliest_time_beyond_ten_years_is_refused_not_a_crash(client_for, reviewer, draft,
                                                                 typed):
    # 999999999 days was a 500: the database's duration cannot hold it.
    ph = draft.criteria.get(test_code="ph")
    response = client_for(reviewer).post(reverse("criterion-edit", args=[draft.pk, ph.pk]),
                                         criterion_form(ph, earliest_after=typed))
    assert response.status_code == 200
    assert response.context["form"].errors["earliest_after"] == [
        f"The earliest a result can exist, {typed}, is outside the range: it is from 0 to ten "
        "years after EOS."]
    ph.refresh_from_db()
    assert ph.earliest_after is None
