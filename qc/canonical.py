"""Canonical serialisation: the exact bytes that audit hashes and signatures cover.

An audited value is hashed in the form it reads back from every supported database
(jsonable), so that a chain written on PostgreSQL verifies there as it does on SQLite.
PostgreSQL's jsonb keeps numbers as `numeric` and writes them back in plain decimal
notation: 1e+16 comes back as the integer 10000000000000000 and -0.0 as 0.0, so those
are stored in that form from the start. What no store can keep (NUL, lone surrogates,
integers too long to print, nesting deeper than MAX_DEPTH) is refused before storage."""

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

MAX_DEPTH = 64
# Python refuses to print an int longer than 4300 digits; far beyond any real value anyway.
MAX_INT_DIGITS = 1000


class CanonicalValueError(ValidationError, ValueError):
    """A value that cannot be stored and read back exactly; it says where and why. A
    ValidationError, so that the API and forms answer it as bad input (422), not a crash."""

    def __str__(self) -> str:
        return self.message


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a signed or audited record")
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date | dt.timedelta):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__} canonically")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_default,
                      ensure_ascii=False, allow_nan=False)


def check_text(text: str, where: str = "text") -> str:
    """`text` if every store keeps it exactly, else CanonicalValueError saying why."""
    if "\x00" in text:
        raise CanonicalValueError(f"{where} contains a NUL character (\\u0000), which the "
                                  "database cannot store; remove it.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalValueError(f"{where} contains a lone UTF-16 surrogate, which is not "
                                  "valid Unicode; send the character itself.") from None
    return text


def _number(value: float) -> int | float:
    if value == 0:
        return 0.0  # jsonb has no negative zero
    text = repr(value)
    if "e+" in text:
        # jsonb writes it back as the integer it denotes: store that integer.
        return int(Decimal(text))
    return value


def _fixed(value: Any, where: str) -> Any:
    """`value` (as json.loads gives it) in the form every store reads back."""
    if isinstance(value, str):
        return check_text(value, where)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, list):
        return [_fixed(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {check_text(key, f"a key in {where}"): _fixed(item, f"{where}.{key}")
                for key, item in value.items()}
    return value  # None, bool, int (length checked while parsing)


def jsonable(value: Any, where: str = "value") -> Any:
    """The JSON-safe form of `value` as stored in audit before/after fields: exactly what
    SQLite and PostgreSQL read back, so its canonical_json is the same before and after
    storage. Raises CanonicalValueError for what cannot be stored that way."""
    _check_depth(value, where)
    try:
        plain = json.loads(canonical_json(value), parse_int=_parse_int)
    except ValueError as exc:  # NaN or infinity, a naive datetime, an overlong integer
        if isinstance(exc, CanonicalValueError):
            raise
        raise CanonicalValueError(f"{where} cannot be recorded: {exc}.") from None
    return _fixed(plain, where)


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise CanonicalValueError(f"an integer of more than {MAX_INT_DIGITS} digits cannot be "
                                  "recorded")
    return int(text)


def _check_depth(value: Any, where: str) -> None:
    """Refuse deep nesting before json.dumps recurses into it (it would hit the recursion
    limit at about 1000 levels with an unhelpful RecursionError, or loop on a cycle)."""
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list | tuple):
            if level >= MAX_DEPTH:
                raise CanonicalValueError(f"{where} is nested more than {MAX_DEPTH} levels "
                                          "deep; flatten it.")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)


def sha256_hex(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()
