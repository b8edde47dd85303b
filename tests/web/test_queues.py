"""Each role's work queue on the dashboard: the most urgent first, with the next action."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import GeneratorKind
from tests.factories import make_elution, make_pb212_batch
from tests.gmp.flows import record, settle

pytestmark = pytest.mark.django_db


def _queue(client, name):
    return client.get(reverse("dashboard")).context["queues"][name]


def test_the_operator_sees_todays_elutions_without_a_batch_bi213_first(client_for, operator):
    now = timezone.now()
    pb = make_elution(GeneratorKind.RA224_PB212, eluted_at=now - timedelta(minutes=5))
    bi = make_elution(GeneratorKind.AC225_BI213, eluted_at=now - timedelta(minutes=1))
    client = client_for(operator)
    queue = _queue(client, "register")
    # Bi-213 (45.6 min) loses half its activity long before Pb-212 (10.6 h)
    assert [e.elution for e in queue] == [bi, pb]
    html = client.get(reverse("dashboard")).content.decode()
    assert f"{reverse('batch-register')}?source=elution:{bi.pk}" in html
    assert "Register batch" in html


def test_an_elution_from_before_midnight_stays_while_its_product_is_within_a_half_life(db):
    from batches.selectors import elutions_to_register

    now = timezone.now()
    midnight = now - timedelta(minutes=2)
    pb = make_elution(GeneratorKind.RA224_PB212, eluted_at=now - timedelta(minutes=5))
    make_elution(GeneratorKind.AC225_BI213, eluted_at=now - timedelta(hours=2))  # > 45.6 min
    queue = elutions_to_register(today_from=midnight, now=now,
                                 half_lives={"Pb-212": 38_304.0, "Bi-213": 2_737.0})
    assert [e.elution for e in queue] == [pb]


def test_an_elution_with_its_batch_leaves_the_operators_queue(client_for, operator, products):
    batch = make_pb212_batch(product=products["pb212-dotamtate"], operator=operator,
                             eos=timezone.now())
    assert batch.elution not in [e.elution for e in _queue(client_for(operator), "register")]


def test_the_register_link_preselects_the_elution(client_for, operator):
    elution = make_elution(GeneratorKind.AC225_BI213, eluted_at=timezone.now())
    response = client_for(operator).get(reverse("batch-register"),
                                        {"source": f"elution:{elution.pk}"})
    assert response.context["form"]["source"].value() == f"elution:{elution.pk}"


def test_the_analyst_sees_the_tests_due_and_the_counts_waiting_for_equilibrium(
        client_for, analyst, settled_ac225, committed):
    now = timezone.now()
    with committed():
        record(analyst, settled_ac225, "rcp", now, 96.0, "%",
               developed_at=now - timedelta(minutes=10))
    client = client_for(analyst)
    queue = _queue(client, "record")
    kinds = {e.criterion.test_code: e.kind for e in queue if e.batch == settled_ac225}
    assert kinds["rcp"] == "wait"
    assert kinds["ph"] == "record"
    assert "ac227-share" not in kinds  # judged from the lot, never recorded by hand
    waiting = next(e for e in queue if e.kind == "wait")
    assert waiting.valid_from > now
    html = client.get(reverse("dashboard")).content.decode()
    assert "recount valid from" in html
    assert reverse("result-record", args=[settled_ac225.lot_number, "ph"]) in html


def test_the_analysts_queue_puts_the_batch_expiring_first_on_top(
        client_for, analyst, products, operator, settled_ac225):
    pb212 = settle(make_pb212_batch(product=products["pb212-dotamtate"], operator=operator,
                                    eos=timezone.now() - timedelta(hours=1)))
    queue = _queue(client_for(analyst), "record")
    deadlines = [e.deadline for e in queue]
    assert deadlines == sorted(deadlines)
    assert queue[0].batch == min((settled_ac225, pb212), key=lambda b: b.expiry)


def test_the_reviewer_sees_a_batch_whose_required_results_passed(
        client_for, reviewer, tested_pb212):
    client = client_for(reviewer)
    [entry] = _queue(client, "review")
    assert entry.batch == tested_pb212
    assert {c.test_code for c in entry.pending} == {"sterility", "ra224-breakthrough"}
    assert reverse("batch-review", args=[tested_pb212.lot_number]) in client.get(
        reverse("dashboard")).content.decode()


def test_the_qp_sees_a_reviewed_batch_awaiting_release_with_its_time_left(
        client_for, qp, reviewed_pb212):
    client = client_for(qp)
    [entry] = _queue(client, "release")
    assert entry.batch == reviewed_pb212 and entry.kind == "release_conditionally"
    html = client.get(reverse("dashboard")).content.decode()
    assert reverse("batch-release-conditionally", args=[reviewed_pb212.lot_number]) in html
    assert "Awaiting your release" in html and " left" in html


def test_a_role_sees_only_its_own_queues(client_for, analyst, operator):
    assert set(client_for(analyst).get(reverse("dashboard")).context["queues"]) == {"record"}
    assert set(client_for(operator).get(reverse("dashboard")).context["queues"]) == {"register"}
