"""Electronic signatures: the password at every signature, failures counted and locking,
an administrator's unlock, and what a signature stores."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from batches import selectors
from batches.disposition import blockers as blocking
from batches.disposition import record as signed_record
from batches.disposition import services as disposition
from batches.models import Batch, BatchStatus
from qc.errors import RuleViolation
from qc.models import AuditEvent, Signature, SigningLock
from qc.signatures import check_signer, signature_apply, signing_unlock
from tests.conftest import PASSWORD

from .flows import record, release_required_results, reviewed

pytestmark = pytest.mark.django_db


def wrong(service, **kwargs) -> RuleViolation:
    with pytest.raises(RuleViolation) as refused:
        service(password="not-my-password", **kwargs)
    return refused.value


def test_a_wrong_password_is_refused_counted_and_audited_with_what_was_signed(
        ac225_batch, analyst, reviewer, committed):
    with committed():
        release_required_results(analyst, ac225_batch)
    refused = wrong(disposition.batch_review, actor=reviewer, batch=ac225_batch)
    assert refused.code == "wrong_password"
    assert refused.message == ("Wrong password; the signature was not applied. 4 more wrong "
                               "attempts lock signing.")
    assert Batch.objects.get(pk=ac225_batch.pk).status == BatchStatus.IN_QC
    assert not Signature.objects.filter(meaning="reviewed").exists()
    assert SigningLock.objects.get(user=reviewer).failures == 1
    event = AuditEvent.objects.get(action="signature.failed")
    assert event.actor == reviewer and event.batch_lot == ac225_batch.lot_number
    assert event.after == {"consecutive_failures": 1, "locked": False, "attempted": {
        "meaning": "reviewed", "object_type": "batches.batch",
        "object_id": str(ac225_batch.pk)}}


def test_five_wrong_passwords_in_a_row_lock_signing_until_an_administrator_unlocks_it(
        ac225_batch, analyst, reviewer, committed, capsys):
    with committed():
        release_required_results(analyst, ac225_batch)
    messages = [wrong(disposition.batch_review, actor=reviewer, batch=ac225_batch).message
                for _ in range(5)]
    assert messages[3].endswith("1 more wrong attempt lock signing.")
    assert messages[4] == ("Wrong password. Signing is now locked for your account; ask an "
                           "administrator to unlock it.")
    lock = SigningLock.objects.get(user=reviewer)
    assert lock.locked and lock.failures == 5

    # Locked: even the right password is refused, and the attempt is recorded.
    with pytest.raises(RuleViolation) as refused:
        disposition.batch_review(actor=reviewer, password=PASSWORD, batch=ac225_batch)
    assert refused.value.code == "signing_locked"
    assert AuditEvent.objects.filter(action="signature.refused_locked", actor=reviewer).exists()
    assert "review" not in blocking.available_actions(user=reviewer, batch=ac225_batch)

    call_command("unlock_signing", "rui")
    assert "Signing unlocked for rui." in capsys.readouterr().out
    event = AuditEvent.objects.get(action="signature.unlock")
    assert event.actor is None and event.actor_name.startswith("manage.py unlock_signing")
    assert event.before == {"locked": True, "consecutive_failures": 5}
    disposition.batch_review(actor=reviewer, password=PASSWORD, batch=ac225_batch)
    assert Batch.objects.get(pk=ac225_batch.pk).status == BatchStatus.REVIEWED


def test_a_correct_password_starts_the_count_again(reviewer):
    for _ in range(4):
        with pytest.raises(RuleViolation):
            check_signer(user=reviewer, password="wrong")
    check_signer(user=reviewer, password=PASSWORD)
    for _ in range(4):
        with pytest.raises(RuleViolation):
            check_signer(user=reviewer, password="wrong")
    assert not SigningLock.objects.get(user=reviewer).locked


def test_a_wrong_password_is_counted_even_when_the_action_would_be_refused(
        ac225_batch, qp):
    """The password is checked before the rules, so that guessing through a refused action
    still counts."""
    refused = wrong(disposition.batch_release, actor=qp, batch=ac225_batch)
    assert refused.code == "wrong_password"
    assert SigningLock.objects.get(user=qp).failures == 1


def test_only_an_administrator_unlocks_signing(reviewer, qp, admin_user):
    for _ in range(5):
        with pytest.raises(RuleViolation):
            check_signer(user=reviewer, password="wrong")
    with pytest.raises(RuleViolation) as refused:
        signing_unlock(actor=qp, user=reviewer)
    assert refused.value.code == "forbidden"
    assert SigningLock.objects.get(user=reviewer).locked
    assert signing_unlock(actor=admin_user, user=reviewer) is True
    assert signing_unlock(actor=admin_user, user=reviewer) is False  # nothing left to do
    assert AuditEvent.objects.filter(action="signature.unlock").count() == 1


def test_the_unlock_command_names_an_unknown_user(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("unlock_signing", "nobody")


def test_the_user_admin_unlocks_signing_as_an_audited_action(client, reviewer, admin_user):
    for _ in range(5):
        with pytest.raises(RuleViolation):
            check_signer(user=reviewer, password="wrong")
    client.force_login(admin_user)
    changelist = reverse("admin:auth_user_changelist")
    page = client.get(changelist)
    assert page.status_code == 200 and b"Signing locked" in page.content
    response = client.post(changelist, {"action": "unlock_signing",
                                        "_selected_action": [reviewer.pk]}, follow=True)
    assert response.status_code == 200
    assert b"Signing unlocked for rui." in response.content
    assert not SigningLock.objects.get(user=reviewer).locked
    assert AuditEvent.objects.get(action="signature.unlock").actor == admin_user


def test_role_changes_in_the_user_admin_are_audited(client, analyst, admin_user):
    from django.contrib.auth.models import Group

    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[analyst.pk])
    qa = Group.objects.get(name="QA reviewer")
    analyst_group = Group.objects.get(name="QC analyst")
    form = {"username": analyst.username, "first_name": "Ana", "last_name": "Lyst",
            "email": analyst.email, "is_active": "on", "groups": [analyst_group.pk, qa.pk],
            "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}
    response = client.post(url, form)
    assert response.status_code == 302, response.content[:2000]
    event = AuditEvent.objects.get(action="user.roles")
    assert event.actor == admin_user
    assert event.before["roles"] == ["QC analyst"]
    assert event.after["roles"] == ["QA reviewer", "QC analyst"]


def test_signature_apply_refuses_a_locked_user_inside_the_transaction(reviewer):
    from django.db import transaction

    SigningLock.objects.create(user=reviewer, failures=5, locked=True)
    with pytest.raises(RuleViolation), transaction.atomic():
        signature_apply(user=reviewer, meaning="reviewed", object_type="batches.batch",
                        object_id=1, record={})
    assert not Signature.objects.exists()


def test_a_signature_still_verifies_when_results_are_added_after_it(
        pb212_batch, analyst, reviewer, qp, committed):
    reviewed(pb212_batch, analyst=analyst, reviewer=reviewer, committed=committed)
    signature = selectors.batch_signatures(batch=pb212_batch).get()
    assert signed_record.signature_integrity(signature)
    with committed():
        record(analyst, pb212_batch, "ph", pb212_batch.eos + timedelta(minutes=30), 6.8, "pH")
    assert signed_record.signature_integrity(signature)
    assert selectors.amendments_since(signature) == []


@pytest.mark.django_db(transaction=True)
def test_outside_any_test_transaction_the_refusals_are_committed_while_the_action_is_not(
        products, ac225_batch, analyst, reviewer, committed):
    """As in production (no surrounding transaction): a wrong password's count and a rule
    refusal's audit event are committed, though the signed change is rolled back."""
    wrong(disposition.batch_review, actor=reviewer, batch=ac225_batch)
    assert SigningLock.objects.get(user=reviewer).failures == 1
    with pytest.raises(RuleViolation) as refused:
        disposition.batch_review(actor=reviewer, password=PASSWORD, batch=ac225_batch)
    assert refused.value.code == "review_blocked"
    assert SigningLock.objects.get(user=reviewer).failures == 0
    event = AuditEvent.objects.get(action="signature.refused")
    assert event.reason == refused.value.message
    assert not Signature.objects.filter(meaning="reviewed").exists()
    assert Batch.objects.get(pk=ac225_batch.pk).status == BatchStatus.REGISTERED
    from qc.audit import verify_chain

    assert verify_chain().ok
