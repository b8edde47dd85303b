"""Every action a role could take shows on the batch page; one not allowed now is disabled,
with the reason and what would unblock it."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from batches.disposition import services as disposition
from batches.disposition.blockers import action_states, available_actions
from batches.models import Result
from qc.roles import Role
from tests.conftest import PASSWORD
from tests.gmp.flows import record

pytestmark = pytest.mark.django_db


def _buttons(client, batch) -> dict:
    response = client.get(reverse("batch-detail", args=[batch.lot_number]))
    assert response.status_code == 200
    return {b["action"]: b for b in response.context["action_buttons"]}, response


def test_action_states_agree_with_available_actions_for_every_persona(
        reviewer, qp, analyst, operator, reviewed_pb212):
    for user in (reviewer, qp, analyst, operator):
        states = action_states(user=user, batch=reviewed_pb212)
        assert [s.action for s in states if s.allowed] == available_actions(
            user=user, batch=reviewed_pb212)
        assert all(s.reasons for s in states if not s.allowed)
        assert not any(s.reasons for s in states if s.allowed)


def test_an_early_count_disables_review_and_says_why_on_the_batch_page(
        client_for, reviewer, analyst, settled_ac225, committed):
    now = timezone.now()
    with committed():
        record(analyst, settled_ac225, "rcp", now, 96.0, "%",
               developed_at=now - timedelta(minutes=10))
    buttons, response = _buttons(client_for(reviewer), settled_ac225)
    review = buttons["review"]
    assert not review["allowed"]
    assert any("Radiochemical purity: the current result is invalid" in r
               for r in review["reasons"])
    html = response.content.decode()
    assert '<button type="button" class="button" disabled aria-describedby="why-review"' in html
    assert 'id="why-review"' in html and "record a valid result" in html


def test_the_qp_who_reviewed_sees_release_disabled_for_segregation_of_duties(
        client_for, reviewer, tested_pb212):
    reviewer.groups.add(Group.objects.get_or_create(name=Role.QP.value)[0])
    disposition.batch_review(actor=reviewer, password=PASSWORD, batch=tested_pb212)
    buttons, _ = _buttons(client_for(reviewer), tested_pb212)
    conditional = buttons["release_conditionally"]
    assert not conditional["allowed"]
    assert any("the QP who releases did not review the batch" in r
               for r in conditional["reasons"])


def test_an_analyst_sees_no_sign_actions_and_an_operator_none(
        client_for, analyst, operator, settled_ac225):
    buttons, _ = _buttons(client_for(analyst), settled_ac225)
    assert set(buttons) == {"record_result"} and buttons["record_result"]["allowed"]
    buttons, response = _buttons(client_for(operator), settled_ac225)
    assert buttons == {}
    assert 'data-testid="action-reasons"' not in response.content.decode()


def test_a_failing_result_shows_correct_disabled_with_the_way_forward(
        client_for, analyst, settled_ac225, committed):
    with committed():
        record(analyst, settled_ac225, "endotoxin", timezone.now(), 9.0, "EU/mL")
    client = client_for(analyst)
    _, response = _buttons(client, settled_ac225)
    html = response.content.decode()
    assert 'data-testid="correct-blocked"' in html
    assert "QA invalidates it with an assignable cause" in html
    failing = Result.objects.get(batch=settled_ac225, criterion__test_code="endotoxin")
    assert reverse("result-correct", args=[settled_ac225.lot_number, failing.pk]) not in html
    # the correct URL, opened anyway, says so before anything is typed
    page = client.get(reverse("result-correct", args=[settled_ac225.lot_number, failing.pk]))
    assert 'data-testid="refusals"' in page.content.decode()
