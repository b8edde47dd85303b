"""An audit event's change as a person reads it: one row per field with its value before and
after, in the formats of the pages (activities with an SI prefix, times in the site's zone
with UTC in brackets). The raw record stays one click away and in the CSV export."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qc import formatting as qc_formatting
from qc.entered import entered_number_text, number_of_entered_text, significant_figures
from qc.units import CANONICAL

from .. import texts
from . import formatting

# Suffixes that name the stored unit: the value reads with its unit, the label without it.
UNIT_SUFFIXES = {"_bq": "Bq", "_bq_per_ml": "Bq/mL", "_ml": "mL", "_percent": "%", "_s": "s"}


@dataclass(frozen=True)
class ChangeRow:
    field: str
    before: str
    after: str
    changed: bool


def _label_and_unit(key: str) -> tuple[str, str]:
    for suffix, unit in sorted(UNIT_SUFFIXES.items(), key=lambda item: -len(item[0])):
        if key.endswith(suffix):
            return key[: -len(suffix)].replace("_", " "), unit
    return key.replace("_", " "), ""


def _time(text: str) -> datetime | None:
    if len(text) < 19 or text[4:5] != "-" or text[10:11] not in ("T", " "):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def shown(value: Any, unit: str = "") -> str:
    """One stored value as the pages show it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if unit in ("Bq", "Bq/mL"):
            return formatting.si_prefixed(float(value), unit)
        if unit == "s":
            return formatting.duration(float(value))
        number = qc_formatting.significant(float(value), 4, trim=True)
        return f"{number} {unit}".strip()
    if isinstance(value, str):
        moment = _time(value)
        return formatting.when(moment, seconds=True) if moment else texts.message(value)
    if isinstance(value, list):
        return ", ".join(shown(item, unit) for item in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{_label_and_unit(k)[0]}: {shown(v, _label_and_unit(k)[1])}"
                         for k, v in value.items())
    return str(value)


def _canonical_unit(entered: str) -> str:
    """The canonical unit a result's entered unit converts to ('MBq' -> 'Bq')."""
    unit = entered.rpartition(" ")[2].replace("µ", "u") if " " in entered else ""
    return next((canonical for canonical, units in CANONICAL.items() if unit in units), unit)


def _result_field(key: str, side: dict) -> str | None:
    """A result event's value and entered text to the figures it was entered with; events
    from before the digits were kept hold the float's text ('1424.4374932728838 MBq' reads
    '1424 MBq', qc.entered.derived_text). None for other fields."""
    entered = side.get("entered")
    if key not in ("value", "entered") or not isinstance(entered, str):
        return None
    number = number_of_entered_text(entered)
    if not number:
        return None
    entered = entered.replace(entered_number_text(entered), number, 1)
    if key == "entered":
        return entered
    value = side.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    unit = side.get("unit") or _canonical_unit(entered)
    return qc_formatting.measured_text(float(value), unit, significant_figures(number))


def change_rows(before: Any, after: Any) -> list[ChangeRow]:
    """Field, before and after, for the fields either side holds (a non-dict side reads as
    one 'value' field)."""
    before = before if isinstance(before, dict) else ({} if before is None else {"value": before})
    after = after if isinstance(after, dict) else ({} if after is None else {"value": after})
    rows = []
    for key in dict.fromkeys([*before, *after]):
        label, unit = _label_and_unit(key)
        old, new = before.get(key), after.get(key)
        rows.append(ChangeRow(label, _shown_in(key, before, unit) if key in before else "",
                              _shown_in(key, after, unit) if key in after else "",
                              key not in before or key not in after or old != new))
    return rows


def _shown_in(key: str, side: dict, unit: str) -> str:
    special = _result_field(key, side)
    return shown(side[key], unit) if special is None else special
