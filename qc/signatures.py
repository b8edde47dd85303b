"""Electronic signatures (21 CFR 11.50, 11.70, 11.200; EU GMP Annex 11 cl. 14).

The signer re-enters the password at every signature. Consecutive failures are counted and
lock signing for the user until an administrator unlocks it. Every attempt that is refused
(wrong password, or signing while locked) is an audit event."""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .audit import audit_record
from .canonical import canonical_json, sha256_hex
from .errors import RuleViolation
from .models import Signature, SigningLock
from .roles import Role, has_role
from .text import require_printable


class SignatureRefused(RuleViolation):
    pass


def record_hash(record: Any) -> str:
    return sha256_hex(canonical_json(record))


def _attempt(meaning: str, object_type: str, object_id: str | int) -> dict[str, Any]:
    return {"meaning": meaning, "object_type": object_type, "object_id": str(object_id)}


def _count_failure(user, attempt: dict[str, Any], batch_lot: str) -> int:
    with transaction.atomic():
        lock, _ = SigningLock.objects.select_for_update().get_or_create(user=user)
        lock.failures += 1
        lock.locked = lock.failures >= settings.SIGNATURE_FAILURE_LIMIT
        lock.save(update_fields=["failures", "locked"])
        audit_record(actor=user, action="signature.failed", obj=user, object_type="auth.user",
                     after={"consecutive_failures": lock.failures, "locked": lock.locked,
                            "attempted": attempt},
                     reason="wrong password", batch_lot=batch_lot)
    return lock.failures


def signing_is_locked(user) -> bool:
    return SigningLock.objects.filter(user=user, locked=True).exists()


def check_signer(*, user, password: str, meaning: str = "", object_type: str = "",
                 object_id: str | int = "", batch_lot: str = "") -> None:
    """Refuse a locked user or a wrong password (counted). Call it before, not inside, the
    transaction of the signed change, so that the count survives the refusal. The optional
    arguments say what was being signed, for the audit event of a refused attempt."""
    attempt = _attempt(meaning, object_type, object_id)
    if signing_is_locked(user):
        with transaction.atomic():
            audit_record(actor=user, action="signature.refused_locked", obj=user,
                         object_type="auth.user", after={"attempted": attempt},
                         reason="signing is locked", batch_lot=batch_lot)
        raise SignatureRefused(
            "Signing is locked for your account after repeated wrong passwords; ask an "
            "administrator to unlock it.", code="signing_locked")
    if not password or not user.check_password(password):
        failures = _count_failure(user, attempt, batch_lot)
        left = settings.SIGNATURE_FAILURE_LIMIT - failures
        if left <= 0:
            raise SignatureRefused("Wrong password. Signing is now locked for your account; ask "
                                   "an administrator to unlock it.", code="signing_locked")
        raise SignatureRefused(f"Wrong password; the signature was not applied. {left} more "
                               f"wrong attempt{'s' if left != 1 else ''} lock signing.",
                               code="wrong_password")
    # "Five failures in a row": a correct password starts the count again.
    SigningLock.objects.filter(user=user, failures__gt=0).update(failures=0)


def signature_apply(*, user, meaning: str, object_type: str, object_id: str | int,
                    record: Any, comment: str = "", batch_lot: str = "") -> Signature:
    """Record a signature over `record` (call check_signer first, then this inside the
    transaction of the signed change)."""
    # The services check the comment under their own field name before they sign; this
    # stops any other caller (the transaction it runs in is rolled back).
    require_printable(areas={"comment": comment})
    if signing_is_locked(user):
        # check_signer ran outside this transaction; a lock taken since then still counts.
        raise SignatureRefused("Signing is locked for your account; ask an administrator to "
                               "unlock it.", code="signing_locked")
    signature = Signature.objects.create(
        user=user, printed_name=user.get_full_name() or user.get_username(),
        signed_at=timezone.now(), meaning=meaning, comment=comment.strip(),
        object_type=object_type, object_id=str(object_id), record_sha256=record_hash(record),
    )
    audit_record(actor=user, action=f"signature.{meaning}", obj=signature,
                 after={"meaning": meaning, "object_type": object_type,
                        "object_id": str(object_id), "record_sha256": signature.record_sha256,
                        "printed_name": signature.printed_name},
                 reason=comment, batch_lot=batch_lot)
    return signature


def is_administrator(user) -> bool:
    return bool(getattr(user, "is_superuser", False)) or has_role(user, Role.ADMIN)


def signing_unlock(*, actor, user, actor_name: str = "") -> bool:
    """An administrator lifts a signing lock (and the failure count). `actor` is None when
    it is done from the command line, whose user is named in `actor_name`. Returns whether
    anything was locked or counted."""
    if actor is not None and not is_administrator(actor):
        raise RuleViolation("Only an administrator unlocks signing.", code="forbidden")
    with transaction.atomic():
        lock = SigningLock.objects.select_for_update().filter(user=user).first()
        if lock is None or (not lock.locked and lock.failures == 0):
            return False
        before = {"locked": lock.locked, "consecutive_failures": lock.failures}
        lock.locked, lock.failures = False, 0
        lock.save(update_fields=["locked", "failures"])
        audit_record(actor=actor, actor_name=actor_name, action="signature.unlock", obj=user,
                     object_type="auth.user", before=before,
                     after={"locked": False, "consecutive_failures": 0})
    return True
