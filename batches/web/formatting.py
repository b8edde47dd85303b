"""How values read on screen: times in the site's zone, and "—" where there is no value.
The numbers, activities and limits themselves read as qc.formatting writes them, the same
on the pages, the certificate and in the verdict messages."""

from datetime import datetime, timedelta

from django.utils import timezone

from qc import formatting

from .. import texts


def si_prefixed(value: float | None, unit: str, digits: int = 3) -> str:
    """412e6, 'Bq' -> '412 MBq'; 2.0e6, 'Bq/mL' -> '2.00 MBq/mL'."""
    if value is None:
        return "—"
    return formatting.format_activity(value, unit, digits)


def value_with_unit(value: float | None, unit: str, digits: int = 3) -> str:
    """A measured or judged value as a person reads it (qc.formatting.value_text)."""
    if value is None:
        return "—"
    return formatting.value_text(value, unit, digits)


def local(moment: datetime) -> datetime:
    return timezone.localtime(moment)


def when(moment: datetime | None, seconds: bool = False) -> str:
    """'2026-11-22 09:30 CET (08:30 UTC)': the one format (qc.formatting.person_time)."""
    if moment is None:
        return "—"
    return texts.when(moment, seconds=seconds)


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
