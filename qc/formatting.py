"""How numbers, activities, durations, times and acceptance limits read: the one home for it.

Pure (no Django, no Pint): the pages, the PDF, the evaluation messages and the `decay` command
all call these, so a value reads the same wherever it is shown. Two registers:
- display (pages, PDF, command): significant figures kept so the precision shows
  ("8.00 MBq"), limits with ≥/≤ and ranges ("400 kBq – 2.80 MBq").
- messages (evaluation verdicts, expiry reasons): compact ("8.21 MBq", "0.4 MBq/mL"),
  limits in plain ASCII (">= 95 % and <= 105 %").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

# --- numbers --------------------------------------------------------------------------------


def significant(value: float, digits: int = 3, *, trim: bool = False) -> str:
    """`value` to `digits` significant figures in fixed point: '8.00', '412', '0.0200'.

    Trailing zeros are kept so the precision shows, unless `trim` is set ('8', '0.02').
    """
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def number(value: float, digits: int = 3) -> str:
    """`digits` significant figures without trailing zeros; large and tiny values in e-form."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    exponent = math.floor(math.log10(abs(value)))
    if exponent >= 6 or exponent < -4:
        return f"{value:.{digits - 1}e}"
    return significant(value, digits, trim=True)


def _rounded(value: float, digits: int) -> float:
    # round before choosing a prefix, so 999.7 kBq reads 1.00 MBq rather than 1000 kBq
    return float(f"{value:.{digits}g}") if math.isfinite(value) else value


def nice_step(span: float, ticks: int) -> float:
    """A readable axis step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` ticks."""
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if raw <= m * power)


# --- SI prefixes and activities -------------------------------------------------------------

SI_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""))


def si_prefix(value: float) -> tuple[float, str]:
    """(factor, prefix) that brings `value` below 1000, e.g. (1e6, "M"); (1.0, "") below 1 k."""
    return next(((f, p) for f, p in SI_PREFIXES if abs(value) >= f), SI_PREFIXES[-1])


def format_activity(value: float, unit: str = "Bq", digits: int = 3) -> str:
    """1.234e6 -> '1.23 MBq': `digits` significant figures with an SI prefix, zeros kept.

    Below a millibecquerel an activity is nothing a dose calibrator could see: shown as 0.
    """
    if not math.isfinite(value):
        return f"{value:g} {unit}"
    rounded = _rounded(value, digits)
    if abs(rounded) < 1e-3:
        return f"0 {unit}"
    factor, prefix = si_prefix(rounded)
    return f"{significant(rounded / factor, digits)} {prefix}{unit}"


def is_activity_unit(unit: str) -> bool:
    """Bq and Bq/mL: the canonical units whose values read best with an SI prefix."""
    return unit in ("Bq", "Bq/mL")


def value_text(value: float, unit: str, digits: int = 3) -> str:
    """A measured or judged value as a person reads it: activities SI-prefixed, pH before
    the number, other values to the significant figures they were given ('6.8 % v/v')."""
    if is_activity_unit(unit):
        return format_activity(value, unit, digits)
    if unit == "pH":
        return f"pH {value:g}"
    shown = f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3g}"
    return f"{shown} {unit}".strip()


def measured_text(value: float, unit: str, figures: int) -> str:
    """A measured value to the `figures` significant figures it was entered with
    (qc.entered): '1.20 GBq' typed reads '1.20 GBq' (and '1424 MBq' reads '1.424 GBq'),
    '0.95 %' reads '0.95 %' however the float came out. Derived values use value_text."""
    figures = max(1, figures)
    if is_activity_unit(unit):
        return format_activity(value, unit, figures)
    shown = significant(value, figures)
    return f"pH {shown}" if unit == "pH" else f"{shown} {unit}".strip()


def compact_value_text(value: float, unit: str, digits: int = 3) -> str:
    """A value in a message: '93.1 %', '1.02 GBq', '2.1 MBq/mL', '7.2' for pH.

    Units starting with Bq take an SI prefix; pH and dimensionless values stand bare.
    """
    if unit.startswith("Bq"):
        rounded = _rounded(value, digits)
        factor, prefix = si_prefix(rounded)
        return f"{number(rounded / factor, digits)} {prefix}{unit}"
    if unit in ("", "pH"):
        return number(value, digits)
    return f"{number(value, digits)} {unit}"


# --- acceptance limits ----------------------------------------------------------------------


class Limits(Protocol):
    """What limit text needs of a criterion (qc.evaluation's Rule has these fields)."""

    unit: str
    lower: float | None
    lower_inclusive: bool
    upper: float | None
    upper_inclusive: bool
    text_requirement: str


@dataclass(frozen=True)
class Notation:
    at_least: str
    above: str
    at_most: str
    below: str
    alternatives: str  # joins the accepted results of a text criterion
    unlimited: str  # a numeric criterion with neither limit
    ranges: bool  # both limits inclusive read as a range 'lo – hi'
    compact: bool  # message register: every bound carries its unit, trailing zeros dropped


DISPLAY = Notation("≥", ">", "≤", "<", " or ", "report", ranges=True, compact=False)
MESSAGE = Notation(">=", ">", "<=", "<", " | ", "(no limit)", ranges=False, compact=True)


LIMIT_DIGITS = 6  # a limit is written exactly as set, up to 6 figures


def _bound_value(value: float, unit: str, notation: Notation) -> str:
    if notation.compact:
        return compact_value_text(value, unit, LIMIT_DIGITS)
    if is_activity_unit(unit):
        return format_activity(value, unit)
    return f"{value:g}"


def _unit_suffix(unit: str, notation: Notation) -> str:
    # the display register names a non-activity unit once, at the end
    if notation.compact or is_activity_unit(unit) or unit in ("", "pH"):
        return ""
    return f" {unit}"


def _bound(limits: Limits, which: str, notation: Notation) -> str:
    if which == "lower":
        sign = notation.at_least if limits.lower_inclusive else notation.above
        value = limits.lower
    else:
        sign = notation.at_most if limits.upper_inclusive else notation.below
        value = limits.upper
    return f"{sign} {_bound_value(value, limits.unit, notation)}"  # type: ignore[arg-type]


def bound_text(limits: Limits, which: str, notation: Notation = DISPLAY) -> str:
    """One limit ('lower' or 'upper') with its sign: '>= 95 %', '≤ 0.7 %'."""
    return _bound(limits, which, notation) + _unit_suffix(limits.unit, notation)


def limit_text(limits: Limits, notation: Notation = DISPLAY) -> str:
    """The acceptance criterion as a person reads it: '≥ 95 %', '5.5 – 9',
    '400 kBq – 2.80 MBq' (DISPLAY); '>= 5.5 and <= 9', '>= 95 %' (MESSAGE)."""
    if limits.text_requirement:
        return notation.alternatives.join(
            part.strip() for part in limits.text_requirement.split("|"))
    suffix = _unit_suffix(limits.unit, notation)
    lower, upper = limits.lower is not None, limits.upper is not None
    if lower and upper:
        if notation.ranges and limits.lower_inclusive and limits.upper_inclusive:
            return (f"{_bound_value(limits.lower, limits.unit, notation)} – "  # type: ignore[arg-type]
                    f"{_bound_value(limits.upper, limits.unit, notation)}{suffix}")  # type: ignore[arg-type]
        return (f"{_bound(limits, 'lower', notation)} and "
                f"{_bound(limits, 'upper', notation)}{suffix}")
    if lower:
        return f"{_bound(limits, 'lower', notation)}{suffix}"
    if upper:
        return f"{_bound(limits, 'upper', notation)}{suffix}"
    return notation.unlimited


# --- durations and times --------------------------------------------------------------------

_DURATION_STEPS = tuple((label, size.total_seconds()) for label, size in (
    ("y", timedelta(days=365.25)), ("d", timedelta(days=1)), ("h", timedelta(hours=1)),
    ("min", timedelta(minutes=1))))


def format_duration(seconds: float, digits: int = 3, *, trim: bool = False) -> str:
    """A duration in the largest readable unit: '31.9 min', '4.90 h', '9.920 d'.

    ``digits`` significant figures, trailing zeros kept so the precision shows (9.920 d)
    unless ``trim`` is set, for durations that are exact by definition ('3 h' shelf life).
    A year is 365.25 d, as qc.units.parse_duration reads it.
    """
    if not math.isfinite(seconds):
        return "stable" if seconds > 0 else str(seconds)
    magnitude = abs(seconds)
    unit, size = "s", 1.0
    for candidate, candidate_size in _DURATION_STEPS:
        # switch at 2 of a unit, so 90 min stays minutes and 36 h stays hours
        if magnitude >= 2 * candidate_size:
            unit, size = candidate, candidate_size
            break
    return f"{significant(seconds / size, digits, trim=trim)} {unit}"


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC to the second: '2026-11-22T09:30:00Z'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_text(moment: datetime) -> str:
    """A time in a message a person reads: unambiguous, with its zone, not ISO 8601's T/Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def person_time(moment: datetime, zone: tzinfo, *, seconds: bool = False) -> str:
    """How a person reads a time, everywhere (pages, messages, audit trail, verify page,
    certificate): the site's local time with its zone, and UTC in brackets, its date only
    when it differs: '2026-11-22 09:30 CET (08:30 UTC)'. ISO 8601 is for machines (the API)."""
    if moment.tzinfo is None:
        raise ValueError("a time shown to a person must be timezone-aware")
    clock = "%H:%M:%S" if seconds else "%H:%M"
    local = moment.astimezone(zone)
    utc = moment.astimezone(UTC)
    if local.tzname() in ("UTC", "Etc/UTC"):
        return utc.strftime(f"%Y-%m-%d {clock} UTC")
    utc_part = utc.strftime(clock if utc.date() == local.date() else f"%Y-%m-%d {clock}")
    return f"{local.strftime(f'%Y-%m-%d {clock}')} {local.tzname()} ({utc_part} UTC)"


# A time already read the one way: '2026-11-22 09:30 CET (08:30 UTC)' (left as it is), or a
# time a stored message holds in UTC or ISO 8601: '2026-11-28 10:00:00 UTC',
# '2026-11-28T10:00:00+00:00', '2026-11-28T10:00:00Z'.
_MESSAGE_TIME = re.compile(
    r"(?P<person>\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)? (?!UTC\b)[^\s()]+ "
    r"\((?:\d{4}-\d\d-\d\d )?\d\d:\d\d(?::\d\d)? UTC\))"
    r"|(?P<stored>\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?"
    r"(?: ?UTC\b|Z\b|[+-]\d\d:?\d\d\b))")


def person_times_in(text: str, zone: tzinfo) -> str:
    """A message as a person reads it: each time it holds in UTC or ISO 8601 (messages stored
    before they were written the one way, the physics' own messages) rewritten as person_time
    in `zone`, to the second; times already in that form are left as they are."""

    def rewrite(match: re.Match) -> str:
        if match.group("person"):
            return match.group("person")
        stored = match.group("stored")
        try:
            moment = datetime.fromisoformat(
                stored.replace(" UTC", "+00:00").replace("UTC", "+00:00").replace("Z", "+00:00"))
        except ValueError:
            return stored
        if moment.tzinfo is None:
            return stored
        return person_time(moment, zone, seconds=True)

    return _MESSAGE_TIME.sub(rewrite, text)
