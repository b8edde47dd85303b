"""Numbers as they were entered: their digits are their precision.

A person types "1.20 GBq" and a dose calibrator reports "96.10 %"; the float the physics
computes with has forgotten the trailing zero, and one computed (a decay correction, a unit
conversion) carries binary noise ("0.95000000001"). So a value keeps the decimal text it was
entered with beside its float, and every page shows it to the figures that text has.

Pure (no Django): the forms, the API, the demo and the result model all use it.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

# A plain decimal as typed after the decimal mark is normalised to a point: '1.20', '-0.5',
# '.5', '3.7e7'. No thousands separators, no signs other than a leading one, and only the
# digits 0-9 (float() also reads '١٢' and '1_000', which no certificate should print).
_DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$", re.ASCII)

# A float without entered digits (an older row, a value computed by a script) is shown to
# at most this many significant figures: what a dose calibrator or balance shows, and
# short enough to drop binary noise (1424.4374932728838 -> 1424).
DERIVED_FIGURES = 4
# A float's shortest repr with at most this many figures is taken as typed ("96.1", "0.95").
PLAIN_FIGURES = 6


# Any decimal of at most 15 significant figures survives a double unchanged (DBL_DIG), so a
# JSON number with that many is taken as sent ("1.2345678", "96.10"); one with 16 or 17 is a
# computed float's shortest text (7.1000000000000005), binary noise, shown as derived_text.
EXACT_FIGURES = 15

# A double's shortest text has at most 17 significant figures, so a number with more says
# digits its value cannot hold (and no instrument measures); it is refused, not rounded.
MAX_SIGNIFICANT_FIGURES = 17


def is_decimal(text: str) -> bool:
    """Whether `text` is a plain decimal number ('1.20', '-0.5', '3.7e7'), however large."""
    return bool(_DECIMAL.match(str(text).strip()))


def underflows(text: str, number: float) -> bool:
    """Whether the decimal `text` names a number other than zero that its float `number`
    cannot hold (1e-400 reads as 0.0)."""
    return number == 0 and any(ch in "123456789" for ch in text.lower().split("e")[0])


def precision_problem(text: str) -> str:
    """'' when the decimal `text` has at most MAX_SIGNIFICANT_FIGURES, else why it is refused."""
    figures = significant_figures(text)
    if figures <= MAX_SIGNIFICANT_FIGURES:
        return ""
    shown = text if len(text) <= 40 else f"{text[:40]}…"
    return (f"{shown} has {figures} significant figures; a value is recorded with at most "
            f"{MAX_SIGNIFICANT_FIGURES} (more than any instrument measures). Send it as the "
            "instrument shows it.")


class EnteredNumber(float):
    """A float that remembers the decimal text it was entered with ('1.20' keeps its zero).

    It computes as the float it is; `text` is what the person or instrument gave."""

    text: str

    def __new__(cls, text: str) -> EnteredNumber:
        cleaned = str(text).strip()
        if not _DECIMAL.match(cleaned):
            raise ValueError(f"{text!r} is not a decimal number")
        number = super().__new__(cls, cleaned)
        if not math.isfinite(number):
            raise ValueError(f"{text!r} is not a finite number")
        number.text = cleaned.lstrip("+")
        return number

    # It prints as entered (f"{value} {unit}" reads '1.20 GBq'); a format spec formats the
    # float as usual.
    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return self.text if not spec else super().__format__(spec)


def derived_text(value: float) -> str:
    """The decimal text of a float that was not entered as text: its shortest form when that
    is short (96.1, 0.95, 300.0 -> '300'), else DERIVED_FIGURES significant figures."""
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    exact = Decimal(repr(float(value)))
    if len(exact.normalize().as_tuple().digits) > PLAIN_FIGURES:
        exact = Decimal(f"{value:.{DERIVED_FIGURES}g}")
    if not Decimal("1e-6") <= abs(exact) < Decimal("1e15"):
        return f"{exact.normalize():e}" if exact else "0"
    text = f"{exact:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def entered_number_text(entered_value: str) -> str:
    """The number of a result's entered text as written there ('< 2.5 EU/mL' -> '2.5');
    '' if it has none."""
    parts = entered_value.replace("<", " ").replace(">", " ").split()
    return parts[0] if parts else ""


def number_of_entered_text(entered_value: str) -> str:
    """The number of a result's entered text ('1.20 GBq', '< 2.5 EU/mL'), in its entered unit,
    as written when that is plain, else to a reasonable precision (derived_text: a float's
    text such as '1424.4374932728838 MBq', stored before the entered digits were kept, reads
    '1424'); '' if it has none."""
    number = entered_number_text(entered_value)
    try:
        value = float(number)
    except ValueError:
        return ""
    if not math.isfinite(value):
        return ""
    return number if significant_figures(number) <= PLAIN_FIGURES else derived_text(value)


def entered_text(value: float) -> str:
    """The digits `value` was entered with: an EnteredNumber's own text, or a plain float's
    derived_text."""
    if isinstance(value, EnteredNumber):
        return value.text
    return derived_text(value)


def significant_figures(text: str) -> int:
    """How many significant figures a decimal text gives: '1.20' 3, '0.95' 2, '300' 3,
    '3.7e7' 2, '0.0' 1. Trailing zeros of a whole number do not count ('300' 1,
    '1424000000' 4: a float's derived text has no others); at least 1."""
    mantissa = str(text).strip().lower().split("e")[0].lstrip("+-")
    if not mantissa.replace(".", "", 1).isdigit():
        return DERIVED_FIGURES
    digits = mantissa.replace(".", "").lstrip("0")
    if "." not in mantissa:
        digits = digits.rstrip("0")
    return max(1, len(digits))
