"""Idempotency-Key: a retried POST returns the first response and stores nothing new.

The record of the response is written in the same transaction as the write it describes, so
a crash leaves both or neither. A request is not looked up before it runs (most are new, and
the look-up would cost every request a round trip): a retry of a request that succeeded
meets the first one's record at the unique constraint (principal, key) when it writes its
own, rolls its write back and replays the first response; a retry the handler refuses now
(the lot closed since, say) replays it too. Two concurrent requests with the same key meet
the same way: the loser's insert waits for the winner's commit, fails, rolls back its own
write and replays the winner's response."""

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from config.sql import fetch_one
from qc.errors import RuleViolation

from ..models import IdempotencyRecord
from ..records.raw_data import file_sha256
from .authentication import request_key
from .problems import Problem

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
# Visible ASCII, no spaces: survives every proxy and log unchanged (UUIDs, hex hashes, ...).
KEY_PATTERN = r"^[!-~]{1,200}$"
REPLAY_HEADER = "Idempotent-Replayed"


def principal(request) -> str:
    key = request_key(request)
    return f"key:{key.prefix}" if key is not None else f"user:{request.user.pk}"


def request_fingerprint(request) -> str:
    """SHA-256 of what the request asks for, independent of JSON spacing or multipart
    boundaries: method, path, parsed data and the content hash of each file."""
    data = request.data
    if hasattr(data, "lists"):
        data = {name: values for name, values in data.lists()}
    files = {name: [file_sha256(f) for f in request.FILES.getlist(name)]
             for name in request.FILES}
    content = {"method": request.method, "path": request.path, "data": data, "files": files}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _key_from(request, required: bool) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        if required:
            raise Problem(400, "idempotency_key_missing",
                          f"The {HEADER} header is required on every POST: send a value unique "
                          "to this submission (e.g. a UUID or a hash of the data) and send the "
                          "same value again when you retry it.")
        return None
    if not re.fullmatch(KEY_PATTERN, key):
        raise Problem(400, "idempotency_key_invalid",
                      f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} visible ASCII "
                      "characters without spaces, e.g. a UUID.")
    return key


# What a handler raises when it refuses or meets a concurrent write: after each, a stored
# response for the key, if there is one, is the answer.
_REFUSALS = (IntegrityError, APIException, RuleViolation, DjangoValidationError)


def _stored(who: str, key: str) -> IdempotencyRecord | None:
    return fetch_one(IdempotencyRecord, principal=who, key=key)


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_sha256 != fingerprint:
        raise Problem(422, "idempotency_key_reused",
                      f"This {HEADER} was already used, within the last 24 hours, for a "
                      "different request; nothing was stored. Use a new key for new data, "
                      "and the same key only to retry exactly the same request.")
    return Response(record.response_body, status=record.response_status,
                    headers={REPLAY_HEADER: "true"})


def idempotent(request, handler: Callable[[], Response]) -> Response:
    """Run `handler` (which writes and returns a 2xx Response or raises) at most once per
    Idempotency-Key. Instruments must send the key; staff in the browsable API may omit it."""
    key = _key_from(request, required=request_key(request) is not None)
    if key is None:
        with transaction.atomic():
            return handler()
    who = principal(request)
    fingerprint = request_fingerprint(request)
    try:
        with transaction.atomic():
            response = handler()
            body: Any = response.data
            # Only successes are remembered: a refusal stored nothing, so a retry after the
            # cause is fixed (e.g. the instrument recalibrated) must be judged afresh.
            IdempotencyRecord.objects.create(principal=who, key=key,
                                             request_sha256=fingerprint,
                                             response_status=response.status_code,
                                             response_body=body)
    except _REFUSALS:
        # Rolled back. A retry, or the loser of a race whose winner's commit is visible now,
        # replays the stored response; a first request's refusal stands.
        existing = _stored(who, key)
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    return response
