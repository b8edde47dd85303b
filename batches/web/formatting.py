"""How values read on screen: times with their zone, activities with an SI prefix, durations
in the largest readable unit. Plain functions, used by the template filters and the charts."""

import math
from datetime import UTC, datetime, timedelta

from django.utils import timezone

_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""))


def significant(value: float, digits: int = 3) -> str:
    """A number to `digits` significant figures, trailing zeros kept (8.00, 412, 0.0200)."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def si_prefixed(value: float | None, unit: str, digits: int = 3) -> str:
    """412e6, 'Bq' -> '412 MBq'; 2.0e6, 'Bq/mL' -> '2.00 MBq/mL'."""
    if value is None:
        return "—"
    # round first, so 999.7 kBq reads 1.00 MBq rather than 1000 kBq
    rounded = float(f"{value:.{digits}g}") if math.isfinite(value) else value
    magnitude = abs(rounded)
    size, prefix = 1.0, ""
    for candidate, candidate_prefix in _PREFIXES:
        if magnitude >= candidate:
            size, prefix = candidate, candidate_prefix
            break
    return f"{significant(rounded / size, digits)} {prefix}{unit}"


def value_with_unit(value: float | None, unit: str, digits: int = 3) -> str:
    """A measured or judged value as a person reads it: activities SI-prefixed, pH without
    a unit after the number, percentages to the significant figures they were given."""
    if value is None:
        return "—"
    if unit in ("Bq", "Bq/mL"):
        return si_prefixed(value, unit, digits)
    if unit == "pH":
        return f"pH {value:g}"
    shown = f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3g}"
    return f"{shown} {unit}".strip()


def local(moment: datetime) -> datetime:
    return timezone.localtime(moment)


def when(moment: datetime | None, seconds: bool = False) -> str:
    """'2026-11-22 09:30 CET': the site's zone, always named."""
    if moment is None:
        return "—"
    moment = local(moment)
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def duration(value: timedelta | float | None, *, seconds: bool = False) -> str:
    """'2 h 05 min', '3 d 4 h', '45 s': two units at most, the largest first."""
    if value is None:
        return "—"
    total = value.total_seconds() if isinstance(value, timedelta) else float(value)
    total = abs(total)
    if total < 60:
        return f"{int(round(total))} s"
    minutes, secs = divmod(int(round(total)), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if seconds:
        return f"{minutes} min {secs:02d} s"
    return f"{minutes} min"


def time_left(until: datetime | None, now: datetime) -> str:
    """'2 h 05 min left' or 'expired 3 h 10 min ago'."""
    if until is None:
        return "not yet computed"
    delta = until - now
    if delta.total_seconds() >= 0:
        return f"{duration(delta)} left"
    return f"expired {duration(delta)} ago"


def limit_text(criterion) -> str:
    """The acceptance criterion as a person reads it ('≥ 95 %', '400 kBq/mL – 2.80 MBq/mL');
    activity limits SI-prefixed, everything else as qc.rules words it."""
    from qc.rules import limit_text as plain

    if criterion.unit not in ("Bq", "Bq/mL") or criterion.text_requirement:
        return plain(criterion)
    lo, hi = criterion.lower_limit, criterion.upper_limit
    lo_op = "≥" if criterion.lower_inclusive else ">"
    hi_op = "≤" if criterion.upper_inclusive else "<"
    if lo is not None and hi is not None:
        if criterion.lower_inclusive and criterion.upper_inclusive:
            return f"{si_prefixed(lo, criterion.unit)} – {si_prefixed(hi, criterion.unit)}"
        return (f"{lo_op} {si_prefixed(lo, criterion.unit)} and "
                f"{hi_op} {si_prefixed(hi, criterion.unit)}")
    if lo is not None:
        return f"{lo_op} {si_prefixed(lo, criterion.unit)}"
    if hi is not None:
        return f"{hi_op} {si_prefixed(hi, criterion.unit)}"
    return plain(criterion)
