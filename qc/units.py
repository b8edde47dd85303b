"""Unit conversion at the edges, by Pint. Inside, activities are Bq, concentrations Bq/mL,
shares %, endotoxin EU/mL, pH dimensionless, durations s. How values read is qc.formatting's.

Importing Pint costs a quarter of a second, so it is imported on first use only.
"""

import math
import re
from functools import cache

from .formatting import format_activity

ACTIVITY_UNITS = ("Bq", "kBq", "MBq", "GBq", "uCi", "mCi", "Ci")
CONCENTRATION_UNITS = tuple(f"{u}/mL" for u in ACTIVITY_UNITS)
CANONICAL = {
    "Bq": ACTIVITY_UNITS,
    "Bq/mL": CONCENTRATION_UNITS,
    "%": ("%",),
    "EU/mL": ("EU/mL",),
    "EU": ("EU",),  # per administered volume (K/M)
    "pH": ("pH",),
}
# An activity criterion's limits are a % of the nominal (labelled) activity, not a share of a
# whole: above 100 % is a batch stronger than its label (nominal +/- 10 % is 90-110 %). No
# specification allows ten times the label; a larger limit is a typing or unit error.
SHARE_OF_NOMINAL = "% of nominal"
# Physical range of each canonical unit: a value outside is a typo or a broken instrument.
# No radiopharmaceutical batch, source or solution holds more than 1 PBq (a whole 225Ac
# production campaign is a few TBq): a larger value is a typing or unit error.
MAX_ACTIVITY_BQ = 1e15
PHYSICAL_RANGE = {
    "Bq": (0.0, MAX_ACTIVITY_BQ),
    "Bq/mL": (0.0, MAX_ACTIVITY_BQ),
    "%": (0.0, 100.0),
    "EU/mL": (0.0, math.inf),
    "EU": (0.0, math.inf),
    "pH": (0.0, 14.0),
    SHARE_OF_NOMINAL: (0.0, 1000.0),
}


# No batch or eluate is more than 10 L (a batch is millilitres, a generator's eluate a few):
# a larger volume is a typing or unit error.
MAX_VOLUME_ML = 10_000.0


def volume_problem(volume_ml: float | None, what: str = "volume") -> str:
    """'' for a volume a batch or eluate can have, else what is wrong with it."""
    if volume_ml is None or not math.isfinite(volume_ml) or volume_ml <= 0:
        return f"The {what} must be a positive number of mL."
    if volume_ml > MAX_VOLUME_ML:
        return (f"{volume_ml:g} mL is above the largest {what} accepted, {MAX_VOLUME_ML:g} mL "
                "(10 L); check the number and that it is in mL.")
    return ""


ACCEPTED_ACTIVITY_UNITS = "Bq, kBq, MBq, GBq, uCi/µCi, mCi, Ci"
ACCEPTED_DURATION_FORMS = (
    "a number and a unit, e.g. '90s', '30min', '6h', '1.5 h', '10d', '2w', '2y' "
    "or a sum such as '1 h 30 min' (units: s, min, h, d, w, y)"
)


class UnitError(ValueError):
    pass


@cache
def unit_registry():
    import pint  # ~0.25 s: first use only

    return pint.UnitRegistry()


def _normalise(unit: str) -> str:
    return unit.strip().replace("µ", "u").replace("μ", "u").replace(" ", "")


def accepted_units(canonical: str) -> tuple[str, ...]:
    return CANONICAL.get(canonical, (canonical,))


def to_canonical(value: float, unit: str, canonical: str) -> float:
    """Convert `value unit` to the canonical unit, refusing a unit of another dimension."""
    if not math.isfinite(value):
        raise UnitError("the value must be a finite number (not NaN or infinity)")
    given = _normalise(unit)
    accepted = accepted_units(canonical)
    if given not in accepted:
        raise UnitError(
            f"unit {unit!r} is not accepted here; use one of: {', '.join(accepted)}"
        )
    if canonical in ("Bq", "Bq/mL"):
        return convert(value, given, canonical)
    return float(value)


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """`value` in `from_unit` expressed in `to_unit` ('Bq/mL' -> 'MBq/mL'), by Pint."""
    if from_unit == to_unit:
        return float(value)
    ureg = unit_registry()
    try:
        quantity = ureg.Quantity(value, from_unit.replace("/mL", "/milliliter"))
        return float(quantity.to(to_unit.replace("/mL", "/milliliter")).magnitude)
    except Exception as exc:  # pint raises several error types for bad units
        raise UnitError(f"Cannot express {from_unit} in {to_unit!r}") from exc


RANGE_NOUNS = {"Bq": "activity", "Bq/mL": "activity concentration", "%": "percentage",
               "EU/mL": "endotoxin concentration", "EU": "endotoxin content", "pH": "pH",
               SHARE_OF_NOMINAL: "activity (% of nominal)"}


def _limit_text(limit: float, canonical: str) -> str:
    if canonical.startswith("Bq") and limit:
        return f"{format_activity(limit, canonical)} ({limit:g} {canonical})"
    return f"{limit:g} {canonical}"


def check_physical_range(value: float, canonical: str, entered: str = "") -> None:
    """Refuse a value (in the canonical unit) outside what the quantity can physically be,
    naming it as it was `entered` ('1e308 GBq') and the limit it passes; a value that
    overflowed to infinity on conversion is above the largest."""
    low, high = PHYSICAL_RANGE.get(canonical, (-math.inf, math.inf))
    if math.isfinite(value) and low <= value <= high:
        return
    noun = RANGE_NOUNS.get(canonical, "value")
    shown = entered or f"{value:g} {canonical}"
    side = (f"below the smallest {noun} accepted, {_limit_text(low, canonical)}" if value < low
            else f"above the largest {noun} accepted, {_limit_text(high, canonical)}")
    raise UnitError(f"{shown} is outside the physical range: {side}")


def input_unit_for(canonical_limit_unit: str, quantity: str) -> str:
    """The canonical unit a result is measured in, which can differ from the limit's unit:
    activity and breakthrough are measured in Bq and judged as a % share."""
    if quantity in ("activity", "breakthrough"):
        return "Bq"
    if quantity == "activity_concentration":
        return "Bq/mL"
    return canonical_limit_unit


# --- activities and durations typed by a person ------------------------------------------

# The digits 0-9 only: \d (and float()) would also take '١٢'.
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_ACTIVITY = re.compile(rf"^\s*({_NUMBER})\s*([^\d\s].*?)\s*$")


_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+")


def decimal_text(text: str, *, decimal_comma: bool) -> str:
    """'1,2 GBq' -> '1.2 GBq' where the site writes a decimal comma. Elsewhere a comma in the
    number is refused with what to type instead (a thousands separator is ambiguous)."""
    text = str(text)
    match = _DECIMAL_COMMA.match(text)
    if match is None:
        return text
    if not decimal_comma:
        fixed = match.group(0).replace(",", ".").strip()
        raise ValueError(f"Cannot read {text.strip()!r}: this site writes numbers with a "
                         f"decimal point, e.g. {fixed!r}")
    return match.group(0).replace(",", ".") + text[match.end():]


def parse_activity(text: str, *, decimal_comma: bool = False) -> float:
    """'1 GBq', '27 mCi', '500 kBq', '3.7e7 Bq' (and '1,2 GBq' with `decimal_comma`) -> Bq."""
    text = decimal_text(text, decimal_comma=decimal_comma)
    match = _ACTIVITY.match(str(text))
    if not match:
        raise ValueError(
            f"Cannot read an activity from {text!r}; give a number and a unit "
            f"({ACCEPTED_ACTIVITY_UNITS}), e.g. '1 GBq'"
        )
    number, unit = float(match.group(1)), match.group(2)
    ureg = unit_registry()
    try:
        units = ureg.Unit(unit)
    except Exception as exc:  # pint raises several error types for unknown units
        raise ValueError(
            f"Unknown activity unit {unit!r}; accepted units are {ACCEPTED_ACTIVITY_UNITS}"
        ) from exc
    name = str(units)
    is_activity = name.endswith("becquerel") or name.endswith("curie")
    if not is_activity or units.dimensionality != ureg.becquerel.dimensionality:
        raise ValueError(
            f"{unit!r} is not a unit of activity; accepted units are {ACCEPTED_ACTIVITY_UNITS}"
        )
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"Activity must be a finite number >= 0, got {text!r}")
    bq = float(ureg.Quantity(number, units).to("becquerel").magnitude)
    check_physical_range(bq, "Bq", entered=text.strip())
    return bq


_DURATION_UNITS = {
    "s": "second", "sec": "second", "secs": "second", "second": "second", "seconds": "second",
    "min": "minute", "mins": "minute", "minute": "minute", "minutes": "minute",
    "h": "hour", "hr": "hour", "hrs": "hour", "hour": "hour", "hours": "hour",
    "d": "day", "day": "day", "days": "day",
    "w": "week", "wk": "week", "week": "week", "weeks": "week",
    "y": "year", "yr": "year", "year": "year", "years": "year",
}  # fmt: skip
_DURATION_TERM = re.compile(rf"\s*({_NUMBER})\s*([A-Za-z]+)\s*")


def parse_duration(text: str) -> float:
    """'30min', '6h', '10d', '90s', '1.5 h', '2y', '1 h 30 min' -> seconds (year = 365.25 d)."""
    source = str(text)
    terms = []
    position = 0
    while position < len(source):
        match = _DURATION_TERM.match(source, position)
        if not match or match.group(2).lower() not in _DURATION_UNITS:
            break
        terms.append((float(match.group(1)), _DURATION_UNITS[match.group(2).lower()]))
        position = match.end()
    if not terms or position < len(source):
        raise ValueError(f"Cannot read a duration from {text!r}; give {ACCEPTED_DURATION_FORMS}")
    if any(number < 0 or not math.isfinite(number) for number, _ in terms):
        raise ValueError(f"A duration cannot be negative, got {text!r}")
    ureg = unit_registry()
    return float(sum(ureg.Quantity(n, unit).to("second").magnitude for n, unit in terms))
