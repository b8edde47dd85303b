"""Instrument API keys: generated once, shown once, stored as a SHA-256 hash, bound to one
instrument and the test codes it may report, revocable (21 CFR 11.10(d), 11.300).

Each instrument acts through its own system account, so results and audit events name the
instrument (never the person who happened to create its key), and segregation-of-duties
checks never mistake an instrument for a QP or reviewer."""

import functools
import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .audit import audit_record
from .errors import RuleViolation
from .models import Criterion, Instrument, InstrumentApiKey
from .roles import Role, has_role
from .rows import column, columns, from_row, table

KEY_PREFIX = "ark_"
# Writing last_used_at on every request would serialise an instrument's requests on its key
# row; a minute's resolution is enough to see whether a key is still in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)
SYSTEM_USERNAME_PREFIX = "instrument."


def hash_key(plaintext: str) -> str:
    # The key is 256 random bits, so a fast hash is as good as a slow one here and keeps
    # authentication to one indexed lookup.
    return hashlib.sha256(plaintext.encode()).hexdigest()


def _new_plaintext() -> tuple[str, str]:
    prefix = KEY_PREFIX + secrets.token_hex(4)
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def key_label(key: InstrumentApiKey) -> str:
    """How the audit trail names an instrument's action."""
    return f"instrument key {key.prefix} ({key.instrument.serial})"[:150]


def instrument_user(instrument: Instrument):
    """The system account an instrument acts as: no password, cannot log in, no role."""
    User = get_user_model()
    username = f"{SYSTEM_USERNAME_PREFIX}{instrument.serial}"
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    user = User(username=username, first_name=instrument.name[:150],
                last_name=f"({instrument.serial})", is_active=False)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        return User.objects.get(username=username)
    return user


def key_account(key: InstrumentApiKey):
    """The system account a key verified by api_key_verify acts as, without another query:
    its id and username are known, the rest of the row loads only if something reads it."""
    account_id = getattr(key, "account_id", None)
    if account_id is None:
        return instrument_user(key.instrument)
    User = get_user_model()
    return User.from_db("default", ["id", "username"],
                        [account_id, f"{SYSTEM_USERNAME_PREFIX}{key.instrument.serial}"])


def _check_test_codes(test_codes: Iterable[str]) -> list[str]:
    codes = sorted({code.strip() for code in test_codes if code and code.strip()})
    known = set(Criterion.objects.values_list("test_code", flat=True).distinct())
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ValidationError({"test_codes": [
            f"Unknown test code{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"the specifications use: {', '.join(sorted(known)) or 'none yet'}."]})
    return codes


def _require_key_admin(actor) -> None:
    # actor None is the command line: whoever runs manage.py already controls the server.
    if actor is not None and not has_role(actor, Role.ADMIN):
        raise RuleViolation("Only an administrator creates or revokes instrument API keys.",
                            code="forbidden")


def api_key_create(*, actor, instrument: Instrument, test_codes: Iterable[str],
                   can_register_batches: bool = False, actor_name: str = ""
                   ) -> tuple[InstrumentApiKey, str]:
    """Create a key and return it with its plaintext, which is never stored or shown again."""
    _require_key_admin(actor)
    codes = _check_test_codes(test_codes)
    if not codes and not can_register_batches:
        raise ValidationError({"test_codes": [
            "A key must allow at least one test code or batch registration; otherwise it "
            "can do nothing."]})
    instrument_user(instrument)
    prefix, plaintext = _new_plaintext()
    with transaction.atomic():
        key = InstrumentApiKey.objects.create(
            instrument=instrument, prefix=prefix, key_hash=hash_key(plaintext),
            test_codes=codes, can_register_batches=can_register_batches,
            created_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit_record(actor=actor, actor_name=actor_name, action="api_key.create", obj=key,
                     after={"prefix": prefix, "instrument": instrument.serial,
                            "test_codes": codes, "can_register_batches": can_register_batches})
    return key, plaintext


def api_key_revoke(*, actor, key: InstrumentApiKey, reason: str = "", actor_name: str = ""
                   ) -> InstrumentApiKey:
    _require_key_admin(actor)
    with transaction.atomic():
        locked = InstrumentApiKey.objects.select_for_update().select_related("instrument").get(
            pk=key.pk)
        if locked.revoked_at is not None:
            raise RuleViolation(f"Key {locked.prefix} was already revoked at "
                                f"{locked.revoked_at.isoformat()}.", code="invalid_state")
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor if getattr(actor, "is_authenticated", False) else None
        locked.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(actor=actor, actor_name=actor_name, action="api_key.revoke", obj=locked,
                     before={"revoked_at": None},
                     after={"prefix": locked.prefix, "instrument": locked.instrument.serial,
                            "revoked_at": locked.revoked_at}, reason=reason)
    return locked


@functools.cache
def _verify_sql() -> str:
    Key, User = InstrumentApiKey, get_user_model()
    return (f"SELECT {columns('k', Key)}, {columns('i', Instrument)}, {column('a', User, 'id')} "
            f"FROM {table(Key)} k "
            f"JOIN {table(Instrument)} i ON {column('i', Instrument, 'id')} = "
            f"{column('k', Key, 'instrument')} "
            f"LEFT JOIN {table(User)} a ON {column('a', User, 'username')} = "
            f"%s || {column('i', Instrument, 'serial')} "
            f"WHERE {column('k', Key, 'key_hash')} = %s "
            f"AND {column('k', Key, 'revoked_at')} IS NULL")


def api_key_verify(plaintext: str) -> InstrumentApiKey | None:
    """The active key matching `plaintext`, with its instrument; None if unknown or revoked.

    Every API request starts here, so this is one hand-written query (key, instrument and the
    instrument's system account, see key_account): through the ORM the same lookup cost about
    six times the CPU (3.6 ms against 0.6 ms, measured on the 2-core CI machine)."""
    if not plaintext or not plaintext.startswith(KEY_PREFIX) or len(plaintext) > 200:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_verify_sql(), [SYSTEM_USERNAME_PREFIX, hash_key(plaintext)])
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(InstrumentApiKey._meta.concrete_fields)
    key = from_row(InstrumentApiKey, row[:width])
    key.instrument = from_row(Instrument, row[width:-1])
    key.account_id = row[-1]
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        InstrumentApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
