"""Nuclide names and the ICRP-107 nuclear data (half-lives, progeny, branching fractions)
that the ``radioactivedecay`` package ships, read without importing the package."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

DATASET_LABEL = "ICRP-107"
DATASET = "icrp107_ame2020_nubase2020"  # the data folder inside the radioactivedecay package


# --- nuclide names ------------------------------------------------------------------------

_SYMBOL_FIRST = re.compile(r"^([A-Za-z]{1,2})[-\s]?(\d{1,3})(m\d?|n)?$")  # Ac-225, ac225, Tc-99m
_MASS_FIRST = re.compile(r"^(\d{1,3})(m\d?|n)?[-\s]?([A-Za-z]{1,2})$")  # 225Ac, 99mTc


def unknown_nuclide(text: str) -> ValueError:
    return ValueError(
        f"Unknown nuclide {text!r}; give a nuclide of the {DATASET_LABEL} set such as "
        "Ac-225, Pb-212, Bi-213 (written Ac-225, ac225 or 225Ac)"
    )


def normalise_nuclide(text: str) -> str:
    """Spell a nuclide the way the data set does: 'ac225', '225Ac', 'AC-225' -> 'Ac-225'.

    Only the spelling is checked here; whether the nuclide exists is checked against the data.
    """
    cleaned = str(text).strip()
    match = _SYMBOL_FIRST.match(cleaned)
    if match:
        symbol, mass, state = match.groups()
    else:
        match = _MASS_FIRST.match(cleaned)
        if not match:
            raise unknown_nuclide(text)
        mass, state, symbol = match.groups()
    return f"{symbol.capitalize()}-{int(mass)}{state or ''}"


# --- nuclear data -------------------------------------------------------------------------


@dataclass(frozen=True)
class NuclearData:
    decay_constants: dict[str, float]  # s^-1; 0.0 for stable nuclides
    # direct radioactive progeny with branching fractions; stable and SF branches are sinks
    progeny: dict[str, tuple[tuple[str, float], ...]]


_TIME_UNIT_S = {"ps": 1e-12, "ns": 1e-9, "μs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0,
                "m": 60.0, "h": 3600.0, "d": 86400.0}


@cache
def nuclear_data() -> NuclearData:
    """The ICRP-107 data file that radioactivedecay ships, read with numpy alone.

    Importing radioactivedecay itself costs over a second (sympy, pandas, matplotlib);
    reading its data file costs a few ms. The decay constants equal the package's own
    (ln 2 over the half-life in seconds, its year being year_conv days); a test checks it.
    """
    from importlib.util import find_spec

    locations = find_spec("radioactivedecay").submodule_search_locations
    data = np.load(Path(locations[0]) / DATASET / "decay_data.npz", allow_pickle=True)
    year_s = float(data["year_conv"]) * 86400.0
    constants = {}
    for name, (value, unit, _text) in zip(data["nuclides"], data["hldata"], strict=True):
        half_life = float(value) * (year_s if unit == "y" else _TIME_UNIT_S[str(unit)])
        constants[str(name)] = math.log(2) / half_life if math.isfinite(half_life) else 0.0
    progeny = {}
    for name, daughters, fractions in zip(data["nuclides"], data["progeny"], data["bfs"],
                                          strict=True):
        progeny[str(name)] = tuple(
            (str(d), float(f))
            for d, f in zip(daughters, fractions, strict=True)
            if constants.get(str(d), 0.0) > 0.0 and f > 0.0
        )
    return NuclearData(constants, progeny)
