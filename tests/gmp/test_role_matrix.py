"""Every role against every transition and every signature meaning, called on the services
directly: the allowed role succeeds (and the record shows it), every other is refused with
nothing changed. Setup work is done by people outside the matrix (Sam the analyst, Rita of
QA, Paula the QP), so that only the role decides."""

from datetime import timedelta

import pytest

from batches.disposition import blockers as blocking
from batches.disposition import services as disposition
from batches.models import Batch, BatchStatus, Result
from batches.records import results as records
from qc.errors import RuleViolation
from qc.models import AuditEvent, Signature, SigningLock, Specification
from qc.services import specification_approve, specification_author, specification_create_draft
from qc.signatures import check_signer, signing_unlock
from tests.conftest import PASSWORD

from .flows import record, release_required_results, settle, with_rapid_sterility

pytestmark = pytest.mark.django_db

PERSONAS = ["operator", "analyst", "reviewer", "qp", "admin_user", "outsider"]

ALLOWED = {
    "record_result": {"analyst"},
    "correct_result": {"analyst"},
    "review": {"reviewer"},
    "invalidate": {"reviewer"},
    "release_conditionally": {"qp"},
    "release": {"qp"},
    "reject": {"qp"},
    "author_specification": {"reviewer", "qp"},
    "approve_specification": {"reviewer", "qp"},
    "unlock_signing": {"admin_user"},
}
# The signature meaning each signed action applies.
MEANING = {"review": "reviewed", "invalidate": "invalidated",
           "release_conditionally": "conditionally_released", "release": "released",
           "reject": "rejected", "author_specification": "authored",
           "approve_specification": "approved"}


def test_the_matrix_covers_every_signature_meaning_and_batch_action():
    from qc.models import Meaning

    assert set(MEANING.values()) == set(Meaning.values)
    assert set(blocking.ACTIONS) <= set(ALLOWED)


@pytest.fixture
def world(products, ac225_batch, second_analyst, other_reviewer, qp, committed):
    """Builds, per action, the state in which the action is due."""

    class World:
        batch = ac225_batch

        def in_qc(self):
            with committed():
                release_required_results(second_analyst, self.batch)
            self.batch.refresh_from_db()

        def reviewed(self, *, everything_passed=False):
            with committed():
                release_required_results(second_analyst, self.batch)
                if everything_passed:
                    with_rapid_sterility(self.batch)
                    record(second_analyst, self.batch, "sterility", self.batch.eos
                           + timedelta(minutes=30), text="no growth")
            disposition.batch_review(actor=other_reviewer, password=PASSWORD, batch=self.batch)
            self.batch.refresh_from_db()

        def draft(self):
            return specification_create_draft(
                actor=other_reviewer, product=products["bi213-dotatoc"],
                criteria=[{"test_code": "ph", "name": "pH", "unit": "pH", "lower_limit": 5.0,
                           "upper_limit": 8.5}], change_reason="narrower pH range")

    return World()


def ph_result(batch):
    return Result.objects.filter(batch=batch, criterion__test_code="ph").latest("id")


def prepare(action, world, committed, second_analyst):
    """Set up the state in which `action` is due; return (act(actor), took_effect())."""
    batch = world.batch
    if action == "record_result":
        world.in_qc()
        before = Result.objects.count()

        def act(actor):
            with committed():
                record(actor, batch, "ph", batch.eos + timedelta(minutes=20), 7.1, "pH")
        return act, lambda: Result.objects.count() == before + 1
    if action == "correct_result":
        world.in_qc()
        original = ph_result(batch)

        def act(actor):
            with committed():
                records.result_correct(actor=actor, result=original, value=7.05,
                                           reason="transcription error: 7.05 read as 7.0")
        return act, lambda: hasattr(Result.objects.get(pk=original.pk), "superseded_by")
    if action == "review":
        world.in_qc()
        return (lambda actor: disposition.batch_review(actor=actor, password=PASSWORD,
                                                       batch=batch),
                lambda: Batch.objects.get(pk=batch.pk).status == BatchStatus.REVIEWED)
    if action == "invalidate":
        world.in_qc()
        target = ph_result(batch)
        return (lambda actor: disposition.result_invalidate(
                    actor=actor, password=PASSWORD, result=target,
                    cause="pH strip from an expired lot"),
                lambda: hasattr(Result.objects.get(pk=target.pk), "invalidation"))
    if action == "release_conditionally":
        world.reviewed()
        return (lambda actor: disposition.batch_release_conditionally(
                    actor=actor, password=PASSWORD, batch=batch),
                lambda: (Batch.objects.get(pk=batch.pk).status
                         == BatchStatus.CONDITIONALLY_RELEASED))
    if action == "release":
        world.reviewed(everything_passed=True)
        return (lambda actor: disposition.batch_release(actor=actor, password=PASSWORD,
                                                        batch=batch),
                lambda: Batch.objects.get(pk=batch.pk).status == BatchStatus.RELEASED)
    if action == "reject":
        world.in_qc()
        return (lambda actor: disposition.batch_reject(actor=actor, password=PASSWORD,
                                                       batch=batch,
                                                       reason="deviation in the synthesis"),
                lambda: Batch.objects.get(pk=batch.pk).status == BatchStatus.REJECTED)
    if action == "author_specification":
        draft = world.draft()
        return (lambda actor: specification_author(actor=actor, password=PASSWORD,
                                                   specification=draft),
                lambda: Signature.objects.filter(meaning="authored",
                                                 object_id=str(draft.pk)).exists())
    if action == "approve_specification":
        draft = world.draft()
        return (lambda actor: specification_approve(actor=actor, password=PASSWORD,
                                                    specification=draft),
                lambda: Specification.objects.get(pk=draft.pk).status == "approved")
    if action == "unlock_signing":
        for _ in range(5):
            with pytest.raises(RuleViolation):
                check_signer(user=second_analyst, password="wrong")
        return (lambda actor: signing_unlock(actor=actor, user=second_analyst),
                lambda: not SigningLock.objects.get(user=second_analyst).locked)
    raise AssertionError(action)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", list(ALLOWED))
def test_role_matrix(request, action, persona, world, committed, second_analyst):
    actor = request.getfixturevalue(persona)
    settle(world.batch)
    act, took_effect = prepare(action, world, committed, second_analyst)
    assert not took_effect()
    events_before = AuditEvent.objects.latest("id").id
    own_signatures = Signature.objects.filter(user=actor).count()
    if persona in ALLOWED[action]:
        act(actor)
        assert took_effect()
        if action in MEANING:
            signature = Signature.objects.latest("id")
            assert (signature.user, signature.meaning) == (actor, MEANING[action])
        assert AuditEvent.objects.filter(id__gt=events_before, actor=actor).exists()
        return

    with pytest.raises(RuleViolation) as refused:
        act(actor)
    assert refused.value.code == "forbidden", refused.value.message
    assert refused.value.message.startswith(("Only ", "An administrator cannot sign"))
    assert not took_effect()
    assert Signature.objects.filter(user=actor).count() == own_signatures
    # Refused on the role, before the password: no failure is counted against the user.
    assert not SigningLock.objects.filter(user=actor, failures__gt=0).exists()
    new_events = list(AuditEvent.objects.filter(id__gt=events_before)
                      .values_list("action", flat=True))
    if action in blocking.ACTIONS and action in MEANING:
        # a refused batch signature is itself an audit event, and the only one
        assert new_events == ["signature.refused"]
        refusal = AuditEvent.objects.latest("id")
        assert refusal.actor == actor and refusal.after["meaning"] == MEANING[action]
    else:
        assert new_events == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_available_actions_offer_each_persona_exactly_its_roles_actions(
        request, persona, world, committed):
    actor = request.getfixturevalue(persona)
    world.in_qc()
    in_qc = set(blocking.available_actions(user=actor, batch=world.batch))
    expected = {a for a in ("record_result", "review", "invalidate", "reject")
                if persona in ALLOWED[a]}
    assert in_qc == expected

    world.reviewed()
    reviewed = set(blocking.available_actions(user=actor, batch=world.batch))
    expected = {a for a in ("record_result", "invalidate", "release_conditionally", "reject")
                if persona in ALLOWED[a]}
    assert reviewed == expected
