"""Unit conversion at the edges, by Pint. Inside, activities are Bq, concentrations Bq/mL,
shares %, endotoxin EU/mL, pH dimensionless."""

import math

ACTIVITY_UNITS = ("Bq", "kBq", "MBq", "GBq", "uCi", "mCi", "Ci")
CONCENTRATION_UNITS = tuple(f"{u}/mL" for u in ACTIVITY_UNITS)
CANONICAL = {
    "Bq": ACTIVITY_UNITS,
    "Bq/mL": CONCENTRATION_UNITS,
    "%": ("%",),
    "EU/mL": ("EU/mL",),
    "pH": ("pH",),
}
# Physical range of each canonical unit: a value outside is a typo or a broken instrument.
PHYSICAL_RANGE = {
    "Bq": (0.0, math.inf),
    "Bq/mL": (0.0, math.inf),
    "%": (0.0, 100.0),
    "EU/mL": (0.0, math.inf),
    "pH": (0.0, 14.0),
}


class UnitError(ValueError):
    pass


def _registry():
    from .physics.decay import unit_registry

    return unit_registry()


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
        ureg = _registry()
        quantity = ureg.Quantity(value, given.replace("/mL", "/milliliter"))
        target = canonical.replace("/mL", "/milliliter")
        return float(quantity.to(target).magnitude)
    return float(value)


def check_physical_range(value: float, canonical: str) -> None:
    low, high = PHYSICAL_RANGE.get(canonical, (-math.inf, math.inf))
    if not low <= value <= high:
        shown = f"{low:g} to {high:g}" if math.isfinite(high) else f"at least {low:g}"
        raise UnitError(
            f"{value:g} {canonical} is outside the physical range ({shown} {canonical})")


def input_unit_for(canonical_limit_unit: str, quantity: str) -> str:
    """The canonical unit a result is measured in, which can differ from the limit's unit:
    activity and breakthrough are measured in Bq and judged as a % share."""
    if quantity in ("activity", "breakthrough"):
        return "Bq"
    if quantity == "activity_concentration":
        return "Bq/mL"
    return canonical_limit_unit


_SI_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"))


def format_activity(bq: float, unit: str = "Bq", digits: int = 3) -> str:
    """1.234e6 -> '1.23 MBq': three significant figures with an SI prefix. Below a
    millibecquerel an activity is nothing a dose calibrator could see: shown as 0."""
    if not math.isfinite(bq) or abs(bq) < 1e-3:
        return f"{0 if math.isfinite(bq) else bq:g} {unit}"
    factor, prefix = si_prefix(bq)
    value = bq / factor
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(value)))))
    return f"{value:.{decimals}f} {prefix}{unit}"


def si_prefix(value: float) -> tuple[float, str]:
    """(factor, prefix) that brings `value` between 1 and 1000, e.g. (1e6, "M")."""
    return next(((f, p) for f, p in _SI_PREFIXES if abs(value) >= f), _SI_PREFIXES[-1])
