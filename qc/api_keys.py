"""Instrument API keys: generated once, shown once, stored as a SHA-256 hash, bound to one
instrument and the test codes it may report, revocable (21 CFR 11.10(d), 11.300).

Each instrument acts through its own system account, so results and audit events name the
instrument (never the person who happened to create its key), and segregation-of-duties
checks never mistake an instrument for a QP or reviewer."""

import copy
import hashlib
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.utils import timezone

from config.sql import KeyRow, fetch_active_key

from .audit import audit_record
from .errors import RuleViolation
from .instruments import require_qualified
from .models import Criterion, Instrument, InstrumentApiKey
from .roles import Role, has_role
from .text import require_printable

KEY_PREFIX = "ark_"
# Writing last_used_at on every request would serialise an instrument's requests on its key
# row; a minute's resolution is enough to see whether a key is still in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)
SYSTEM_USERNAME_PREFIX = "instrument."
# A verified key is remembered, by its hash, for this long in each server process, so that
# an instrument's stream of results costs one key query a second instead of one a request.
# The bound on staleness: another process keeps honouring a key revoked (or an instrument
# taken out of service, recalibrated or requalified) for at most this long after the change
# commits, about the time the revoking administrator takes to read the confirmation; the
# process that makes the change forgets every remembered key at once (forget_verified_keys).
VERIFIED_KEY_TTL_S = 1.0
# Read scopes, granted only when a key is created: by default a key reads only the lots and
# criteria it reports on (what it needs to post), never a certificate or a whole batch record.
READ_CERTIFICATES = "read_certificates"
READ_BATCH_RECORDS = "read_batch_records"
READ_SCOPES = {READ_CERTIFICATES: "release certificates",
               READ_BATCH_RECORDS: "whole batch records (every result, evaluation, raw data)"}


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


def _check_test_codes(test_codes: Iterable[str]) -> list[str]:
    codes = sorted({code.strip() for code in test_codes if code and code.strip()})
    known = set(Criterion.objects.values_list("test_code", flat=True).distinct())
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ValidationError({"test_codes": [
            f"Unknown test code{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"the specifications use: {', '.join(sorted(known)) or 'none yet'}."]})
    return codes


def _check_read_scopes(read_scopes: Iterable[str]) -> list[str]:
    scopes = sorted(set(read_scopes))
    unknown = [scope for scope in scopes if scope not in READ_SCOPES]
    if unknown:
        raise ValidationError({"read_scopes": [
            f"Unknown read scope {', '.join(unknown)}; the scopes are: "
            f"{', '.join(f'{k} ({v})' for k, v in READ_SCOPES.items())}."]})
    return scopes


def _require_key_admin(actor) -> None:
    # actor None is the command line: whoever runs manage.py already controls the server.
    if actor is not None and not has_role(actor, Role.ADMIN):
        raise RuleViolation("Only an administrator creates or revokes instrument API keys.",
                            code="forbidden")


def api_key_create(*, actor, instrument: Instrument, test_codes: Iterable[str],
                   can_register_batches: bool = False, read_scopes: Iterable[str] = (),
                   actor_name: str = "") -> tuple[InstrumentApiKey, str]:
    """Create a key and return it with its plaintext, which is never stored or shown again.
    `read_scopes` (READ_SCOPES) are what it may read beyond the lots it reports on."""
    _require_key_admin(actor)
    codes = _check_test_codes(test_codes)
    require_qualified(instrument, codes)
    scopes = _check_read_scopes(read_scopes)
    if not codes and not can_register_batches:
        raise ValidationError({"test_codes": [
            "A key must allow at least one test code or batch registration; otherwise it "
            "can do nothing."]})
    instrument_user(instrument)
    prefix, plaintext = _new_plaintext()
    with transaction.atomic():
        key = InstrumentApiKey.objects.create(
            instrument=instrument, prefix=prefix, key_hash=hash_key(plaintext),
            test_codes=codes, can_register_batches=can_register_batches, read_scopes=scopes,
            created_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit_record(actor=actor, actor_name=actor_name, action="api_key.create", obj=key,
                     after={"prefix": prefix, "instrument": instrument.serial,
                            "test_codes": codes, "can_register_batches": can_register_batches,
                            "read_scopes": scopes})
    return key, plaintext


def api_key_revoke(*, actor, key: InstrumentApiKey, reason: str = "", actor_name: str = ""
                   ) -> InstrumentApiKey:
    _require_key_admin(actor)
    require_printable(areas={"reason": reason})
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


@dataclass(frozen=True)
class VerifiedKey:
    """An active key as api_key_verify found it: the key (its scope), its instrument and the
    system account the instrument acts as."""

    key: InstrumentApiKey
    account: Any

    @property
    def instrument(self) -> Instrument:
        return self.key.instrument

    @property
    def account_id(self) -> int:
        return self.account.pk


# key hash -> (monotonic time it was read, the row): active keys only, never a refusal.
_verified: dict[str, tuple[float, KeyRow]] = {}


def forget_verified_keys(**_) -> None:
    """Forget every remembered key (a key or an instrument changed): connected to their saves
    and deletes, and called again when the changing transaction commits, so a request that
    read the old row in between is not remembered either."""
    _verified.clear()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_verified.clear)


def _active_key_row(key_hash: str) -> KeyRow | None:
    now = time.monotonic()
    remembered = _verified.get(key_hash)
    if remembered is not None and now - remembered[0] < VERIFIED_KEY_TTL_S:
        return remembered[1]
    row = fetch_active_key(key_model=InstrumentApiKey, instrument_model=Instrument,
                           user_model=get_user_model(), key_hash=key_hash,
                           account_prefix=SYSTEM_USERNAME_PREFIX)
    if row is None:
        _verified.pop(key_hash, None)
    elif row.account_id is not None:
        if len(_verified) > 1000:
            _verified.clear()
        _verified[key_hash] = (now, row)
    return row


def api_key_verify(plaintext: str) -> VerifiedKey | None:
    """The active key matching `plaintext`, with its instrument and account; None if unknown
    or revoked.

    Every API request starts here, so this is one hand-written query (key, instrument and the
    instrument's system account; config.sql): through the ORM the same lookup cost about six
    times the CPU (3.6 ms against 0.6 ms, measured on the 2-core CI machine). A key verified
    within the last VERIFIED_KEY_TTL_S in this process costs no query at all; each request
    gets its own copies of the remembered key and instrument."""
    if not plaintext or not plaintext.startswith(KEY_PREFIX) or len(plaintext) > 200:
        return None
    User = get_user_model()
    row = _active_key_row(hash_key(plaintext))
    if row is None:
        return None
    key = copy.copy(row.key)
    key.instrument = copy.copy(row.instrument)
    if row.account_id is None:
        account = instrument_user(row.instrument)
    else:
        # The account's id and username are known; the rest of its row (never needed to
        # record a result) loads only if something reads it, as with .only("id", "username").
        account = User.from_db(DEFAULT_DB_ALIAS, ["id", "username"],
                               [row.account_id, f"{SYSTEM_USERNAME_PREFIX}{key.instrument.serial}"])
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        InstrumentApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = row.key.last_used_at = now
    return VerifiedKey(key=key, account=account)
