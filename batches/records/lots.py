"""The lot-number alphabet, in one place: what a lot number may contain, the check every
entry path runs (form, API, admin, batch_register) and the URL converter that round-trips
every accepted lot through the site's URLs.

Accepted: ASCII letters and digits, and "-", "_", "." inside a part; parts joined by "/"
(BI213/2612/102 is a common format). Each part starts with a letter or digit, so there is
no empty part, no leading or trailing "/" and no "." or ".." part (a lot is also a folder
name in certificate storage). Whitespace, control characters, quotes and < > are refused.
A part may not be a page name of the batch URLs (audit, live, new, ...), or
/batches/<lot>/ and /batches/<lot>/audit/ could not be told apart.
"""

import re

from django.core.exceptions import ValidationError
from django.urls import register_converter
from django.urls.converters import get_converters

LOT_NUMBER_MAX_LENGTH = 40
LOT_NUMBER_FORMAT = ('letters A-Z/a-z, digits, "-", "_" and "." in parts joined by "/", '
                     "each part starting with a letter or digit")
LOT_NUMBER_EXAMPLE = "BI213/2612/102"

_PART = r"[A-Za-z0-9][A-Za-z0-9._-]*"
LOT_NUMBER_PATTERN = re.compile(rf"{_PART}(?:/{_PART})*")

# Route words after /batches/<lot>/ and /api/v1/batches/<lot>/ (batches/urls.py,
# certificate_urls.py); a lot part with one of these names would shadow a page.
RESERVED_PARTS = frozenset({
    "new", "source-info", "audit", "live", "results", "certificate-status", "certificates",
    "certificate", "retry", "correct", "invalidate", "review", "release",
    "release-conditionally", "reject",
})


def lot_number_problem(value: str, *, max_length: int = LOT_NUMBER_MAX_LENGTH) -> str | None:
    """What is wrong with a lot number, as a sentence for the person typing it; None if it
    is acceptable."""
    accepted = f"Accepted: {LOT_NUMBER_FORMAT}; e.g. {LOT_NUMBER_EXAMPLE}."
    if not value:
        return "A lot number is required. " + accepted
    if len(value) > max_length:
        return f"A lot number has at most {max_length} characters (this has {len(value)})."
    if not LOT_NUMBER_PATTERN.fullmatch(value):
        bad = sorted({c for c in value if not (c.isascii() and (c.isalnum() or c in "-_./"))})
        shown = ", ".join(repr(c) for c in bad)
        which = f" It contains {shown}." if bad else ""
        return f"{value!r} is not a valid lot number.{which} {accepted}"
    reserved = [part for part in value.split("/") if part in RESERVED_PARTS]
    if reserved:
        return (f"A lot number cannot have a part named {reserved[0]!r}: it is the name of a "
                f"page of the batch. {accepted}")
    return None


def validate_lot_number(value: str) -> None:
    """Model-field validator (batches, 225Ac source lots): the admin's forms run it."""
    problem = lot_number_problem(value, max_length=10**6)  # the field checks its own length
    if problem:
        raise ValidationError(problem, code="invalid_lot_number")


def storage_name(lot_number: str) -> str:
    """The lot as one folder/file name: "/" becomes "_" so a file's folder is one level."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", lot_number).lstrip(".") or "_"


class LotNumberConverter:
    """URL part for a lot number. Matches any non-empty text without NUL (not only the
    accepted alphabet), so a row stored before the rule still gets a working link; reverse()
    percent-encodes what needs it and keeps "/" as the separator of the lot's parts."""

    regex = r"[^\x00]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class PrintableConverter:
    """URL part for a name such as an instrument or generator serial: like <str:...> but
    without control characters, which name nothing and which PostgreSQL refuses in a query
    (NUL) - a 404, not a 500."""

    regex = r"[^/\x00-\x1f\x7f]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def register_lot_converter() -> None:
    """Register <lot:...> and <printable:...> once, from whichever URL module loads first."""
    if "lot" not in get_converters():
        register_converter(LotNumberConverter, "lot")
    if "printable" not in get_converters():
        register_converter(PrintableConverter, "printable")
