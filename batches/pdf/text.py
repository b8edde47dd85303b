"""How names and times read on the printed certificate: nuclides with a superscript mass
number, times in the site zone with UTC beside them, text escaped for reportlab markup."""

from datetime import UTC, datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

_SUPERSCRIPT = str.maketrans("0123456789+-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻")


def nuclide_label(name: str) -> str:
    """'Ac-225' -> '²²⁵Ac'; anything not in that form is returned unchanged."""
    symbol, _, mass = name.partition("-")
    if symbol.isalpha() and mass[:1].isdigit():
        return mass.translate(_SUPERSCRIPT) + symbol
    return name


def format_time(moment: datetime, zone: ZoneInfo) -> str:
    """Site-zone time with the UTC time beside it; the UTC date only when it differs."""
    if moment.tzinfo is None:
        raise ValueError("certificate times must be timezone-aware")
    local = moment.astimezone(zone)
    utc = moment.astimezone(UTC)
    if zone.key in ("UTC", "Etc/UTC"):
        return utc.strftime("%Y-%m-%d %H:%M UTC")
    utc_part = utc.strftime("%H:%M" if utc.date() == local.date() else "%Y-%m-%d %H:%M")
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({utc_part} UTC)"


def esc(text: str) -> str:
    return escape(text).replace("\n", "<br/>")



def plain_time(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    utc = moment.astimezone(UTC)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} / {utc:%H:%M} UTC"
