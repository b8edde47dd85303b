"""Electronic signatures (21 CFR 11.50, 11.70, 11.200; EU GMP Annex 11 cl. 14).

The signer re-enters the password at every signature. Consecutive failures are counted and
lock signing for the user until an administrator unlocks it."""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .audit import audit_record
from .canonical import canonical_json, sha256_hex
from .errors import RuleViolation
from .models import Signature, SigningLock


class SignatureRefused(RuleViolation):
    pass


def record_hash(record: Any) -> str:
    return sha256_hex(canonical_json(record))


def _count_failure(user) -> int:
    with transaction.atomic():
        lock, _ = SigningLock.objects.select_for_update().get_or_create(user=user)
        lock.failures += 1
        lock.locked = lock.failures >= settings.SIGNATURE_FAILURE_LIMIT
        lock.save(update_fields=["failures", "locked"])
        audit_record(actor=user, action="signature.failed", obj=user, object_type="auth.user",
                     after={"consecutive_failures": lock.failures, "locked": lock.locked})
    return lock.failures


def check_signer(*, user, password: str) -> None:
    """Refuse a locked user or a wrong password (counted). Runs outside the caller's
    transaction so the count survives the refusal."""
    lock = SigningLock.objects.filter(user=user).first()
    if lock and lock.locked:
        raise SignatureRefused(
            "Signing is locked for your account after repeated wrong passwords; ask an "
            "administrator to unlock it.", code="signing_locked")
    if not password or not user.check_password(password):
        failures = _count_failure(user)
        left = settings.SIGNATURE_FAILURE_LIMIT - failures
        if left <= 0:
            raise SignatureRefused("Wrong password. Signing is now locked for your account; ask "
                                   "an administrator to unlock it.", code="signing_locked")
        raise SignatureRefused(f"Wrong password; the signature was not applied. {left} more "
                               f"wrong attempt{'s' if left != 1 else ''} lock signing.",
                               code="wrong_password")
    if lock and lock.failures:
        SigningLock.objects.filter(pk=lock.pk).update(failures=0)


def signature_apply(*, user, meaning: str, object_type: str, object_id: str | int,
                    record: Any, comment: str = "", batch_lot: str = "") -> Signature:
    """Record a signature over `record` (call check_signer first, then this inside the
    transaction of the signed change)."""
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


def signing_unlock(*, actor, user) -> None:
    with transaction.atomic():
        SigningLock.objects.filter(user=user).update(failures=0, locked=False)
        audit_record(actor=actor, action="signature.unlock", obj=user, object_type="auth.user")
