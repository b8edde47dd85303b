"""The span of time a record may claim. Python's calendar ends at years 1 and 9999, so a time
near either end with an offset has no UTC value at all (an OverflowError, not a time), and a
time that has one may still overflow in the physics (EOS + shelf life, a decay over millennia).
A record of this site is made between these limits; anything outside is a typing or clock
error, refused with these limits named."""

from datetime import UTC, date, datetime

# The longest duration a record takes (a shelf life, a stability time point, a criterion's
# earliest result): ten years, far beyond any radiopharmaceutical, and far inside what EOS +
# it can be computed for.
MAX_DURATION_H = 10 * 8766

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # exclusive
RANGE_TEXT = "from 1900-01-01 to 2199-12-31 (UTC)"


def time_range_problem(value: datetime, shown: str = "") -> str:
    """'' when the aware `value` is within the limits; else a sentence that names the time as
    given (`shown`, e.g. the text that was typed) and the limits."""
    try:
        within = EARLIEST <= value.astimezone(UTC) < LATEST
    except OverflowError:
        within = False
    if within:
        return ""
    return f"{shown or value.isoformat()} is out of range: a time must be {RANGE_TEXT}."


def date_range_problem(day: date, shown: str = "") -> str:
    """The same for a date (a filter's 'from' or 'to' day)."""
    if EARLIEST.date() <= day < LATEST.date():
        return ""
    return f"{shown or day.isoformat()} is out of range: a date must be {RANGE_TEXT}."


def clamped(value: datetime) -> datetime:
    """`value` in UTC, or the nearer limit when it is out of range: for a query bound, where
    'from year 183' asks for everything and is answered truly by the earliest limit."""
    if not time_range_problem(value):
        return value.astimezone(UTC)
    # Out of range: a year-1 time with an offset has no UTC value to compare with.
    return EARLIEST if value.year < EARLIEST.year + 100 else LATEST
