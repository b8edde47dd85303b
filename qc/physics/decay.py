"""Radioactive decay engine: full ICRP-107 chains, evaluated for many times at once.

The nuclear data (half-lives, progeny, branching fractions) come from the ICRP-107 set that
the ``radioactivedecay`` package ships. A site may override individual half-lives (ICRP-107
gives Ac-225 10.0 d where current evaluations give 9.920 d); the engine names its data and
every override in ``data_source`` so certificates can state it.

The Bateman equations dN/dt = M N are solved by eigen-decomposition of the decay matrix M of
each chain: M = C diag(-lambda) C^-1, so N(t) = C exp(-lambda t) C^-1 N0. C and C^-1 are
built once per chain (the same formulation radioactivedecay uses, but per chain and for a
whole array of times in one matrix product).

Importing ``radioactivedecay`` costs more than a second, and Pint a quarter of one, so both
are imported on first use only.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Literal

import numpy as np

LN2 = math.log(2.0)
DATASET_LABEL = "ICRP-107"
DATASET = "icrp107_ame2020_nubase2020"  # the data folder inside the radioactivedecay package

ACCEPTED_ACTIVITY_UNITS = "Bq, kBq, MBq, GBq, uCi/µCi, mCi, Ci"
ACCEPTED_DURATION_FORMS = (
    "a number and a unit, e.g. '90s', '30min', '6h', '1.5 h', '10d', '2w', '2y' "
    "or a sum such as '1 h 30 min' (units: s, min, h, d, w, y)"
)

Direction = Literal["falls_below", "rises_above"]
Projection = dict[str, np.ndarray]


# --- nuclide names ------------------------------------------------------------------------

_SYMBOL_FIRST = re.compile(r"^([A-Za-z]{1,2})[-\s]?(\d{1,3})(m\d?|n)?$")  # Ac-225, ac225, Tc-99m
_MASS_FIRST = re.compile(r"^(\d{1,3})(m\d?|n)?[-\s]?([A-Za-z]{1,2})$")  # 225Ac, 99mTc


def _unknown_nuclide(text: str) -> ValueError:
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
            raise _unknown_nuclide(text)
        mass, state, symbol = match.groups()
    return f"{symbol.capitalize()}-{int(mass)}{state or ''}"


# --- nuclear data -------------------------------------------------------------------------


@dataclass(frozen=True)
class _NuclearData:
    decay_constants: dict[str, float]  # s^-1; 0.0 for stable nuclides
    # direct radioactive progeny with branching fractions; stable and SF branches are sinks
    progeny: dict[str, tuple[tuple[str, float], ...]]


_TIME_UNIT_S = {"ps": 1e-12, "ns": 1e-9, "μs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0,
                "m": 60.0, "h": 3600.0, "d": 86400.0}


@cache
def _nuclear_data() -> _NuclearData:
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
    return _NuclearData(constants, progeny)


# --- one chain's solution -----------------------------------------------------------------


_EXP_FLOOR = 700.0
_BLOCK = 8192


@dataclass(frozen=True, eq=False)
class _Chain:
    """The decay system reachable from a set of nuclides, with its eigen-decomposition."""

    nuclides: tuple[str, ...]  # topological order: every parent before its progeny
    index: dict[str, int]
    lam: np.ndarray  # decay constants, s^-1
    matrix: np.ndarray  # decay matrix M (dN/dt = M N)
    lam_c: np.ndarray  # diag(lambda) @ C: eigen-amplitudes -> activities
    c_inv: np.ndarray | None  # None when M is defective (two linked equal half-lives)

    def activities(self, atoms0: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Activities (Bq), shape (nuclides, times), from atom numbers at t=0."""
        if times.size == 0:
            return np.zeros((len(self.lam), 0))
        if self.c_inv is None:
            return self._activities_by_expm(atoms0, times)
        amplitudes = self.c_inv @ atoms0
        live = amplitudes != 0.0  # skip modes the inventory does not excite
        lam, lam_c, amplitudes = self.lam[live], self.lam_c[:, live], amplitudes[live, None]
        result = np.empty((len(self.lam), times.size))
        # in cache-sized blocks: exp over (modes x times) dominates, and a small matmul stays
        # on one BLAS thread instead of contending for the cores
        for start in range(0, times.size, _BLOCK):
            weights = np.multiply.outer(-lam, times[start : start + _BLOCK])
            # exp is several times slower on arguments that (nearly) underflow, so terms
            # below exp(-_EXP_FLOOR) ~ 1e-304 are set to the 0 they would round to anyway
            negligible = weights < -_EXP_FLOOR
            np.maximum(weights, -_EXP_FLOOR, out=weights)
            np.exp(weights, out=weights)
            np.copyto(weights, 0.0, where=negligible)
            weights *= amplitudes
            np.matmul(lam_c, weights, out=result[:, start : start + _BLOCK])
        # the sum of exponentials can dip below zero by round-off; activity cannot
        np.maximum(result, 0.0, out=result)
        return result

    def _activities_by_expm(self, atoms0: np.ndarray, times: np.ndarray) -> np.ndarray:
        from scipy.linalg import expm

        # expm is exact on the diagonal of an upper-triangular matrix, so work with M^T
        stacked = np.multiply.outer(times, self.matrix.T)
        atoms = atoms0 @ expm(stacked)  # (times, nuclides)
        result = (atoms * self.lam).T.copy()
        np.maximum(result, 0.0, out=result)
        return result


def _topological_order(roots: Sequence[str], progeny: Mapping[str, Sequence[tuple[str, float]]]):
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        seen.add(name)
        for daughter, _ in progeny[name]:
            if daughter not in seen:
                visit(daughter)
        order.append(name)

    for root in roots:
        if root not in seen:
            visit(root)
    return order[::-1]


def _build_chain(roots: Sequence[str], lam_of: Mapping[str, float], data: _NuclearData) -> _Chain:
    nuclides = _topological_order(roots, data.progeny)
    index = {name: i for i, name in enumerate(nuclides)}
    lam = np.array([lam_of[name] for name in nuclides])
    size = len(nuclides)

    matrix = np.diag(-lam)
    for j, parent in enumerate(nuclides):
        for daughter, fraction in data.progeny[parent]:
            matrix[index[daughter], j] += fraction * lam[j]

    vectors = _eigenvectors(matrix, lam)
    if vectors is None:
        return _Chain(tuple(nuclides), index, lam, matrix, np.zeros((size, size)), None)
    c, c_inv = vectors
    return _Chain(tuple(nuclides), index, lam, matrix, lam[:, None] * c, c_inv)


def _eigenvectors(matrix: np.ndarray, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Right (C) and left (C^-1) eigenvectors of the lower-triangular decay matrix M.

    Column j of C and row i of C^-1 belong to the eigenvalues -lambda_j and -lambda_i:
      C_ij    = sum_{j<=k<i} M_ik C_kj / (lambda_i - lambda_j),     C_jj = 1
      Cinv_ij = sum_{j<k<=i} Cinv_ik M_kj / (lambda_j - lambda_i),  Cinv_ii = 1
    Both come from the same recursion rather than a numerical inverse, which keeps the early
    ingrowth (where terms cancel) accurate to radioactivedecay's exact-arithmetic matrices.
    None if two linked nuclides share a decay constant (M is then defective).
    """
    size = len(lam)
    c, c_inv = np.eye(size), np.eye(size)
    for j in range(size):
        column = _right_eigenvector(matrix, lam, j)
        if column is None:
            return None
        c[:, j] = column
    for i in range(size):
        for j in reversed(range(i)):  # Cinv row i needs columns > j of the same row
            drain = c_inv[i, j + 1 : i + 1] @ matrix[j + 1 : i + 1, j]
            if drain != 0.0:
                if _tied(lam[i], lam[j]):
                    return None
                c_inv[i, j] = drain / (lam[j] - lam[i])
    return c, c_inv


def _right_eigenvector(matrix: np.ndarray, lam: np.ndarray, j: int) -> np.ndarray | None:
    """Column j of C (see _eigenvectors), or None if a descendant of j shares its lambda."""
    column = np.zeros(len(lam))
    column[j] = 1.0
    for i in range(j + 1, len(lam)):
        feed = matrix[i, j:i] @ column[j:i]
        if feed != 0.0:
            if _tied(lam[i], lam[j]):
                return None
            column[i] = feed / (lam[i] - lam[j])
    return column


def _tied(lam_a: float, lam_b: float) -> bool:
    return abs(lam_a - lam_b) <= 1e-9 * max(lam_a, lam_b)


# --- root finding on vectorised functions ---------------------------------------------------


def _first_crossing(crossed: Callable[[np.ndarray], np.ndarray], grid: np.ndarray) -> float | None:
    """First time on ``grid`` (ascending) where ``crossed`` turns true, refined to ~1 us.

    ``crossed`` maps an array of times to booleans. Each refinement evaluates a fine grid
    inside the bracket in one vectorised call, so it finds the first crossing, not just any.
    """
    flags = crossed(grid)
    if flags[0]:
        return float(grid[0])
    hits = np.flatnonzero(flags)
    if hits.size == 0:
        return None
    lo, hi = float(grid[hits[0] - 1]), float(grid[hits[0]])
    while hi - lo > max(1e-6, 1e-13 * hi):
        inner = np.linspace(lo, hi, 65)
        flags = crossed(inner)[1:]
        if not flags.any():
            # crossed(hi) held before: the function is noise at this scale, stop here
            break
        k = int(np.argmax(flags)) + 1
        lo, hi = float(inner[k - 1]), float(inner[k])
    return hi


def _search_grid(horizon_s: float, points: int = 2049) -> np.ndarray:
    # linear for the bulk, logarithmic for fast early ingrowth of short-lived daughters
    linear = np.linspace(0.0, horizon_s, points)
    logarithmic = np.geomspace(horizon_s * 1e-9, horizon_s, points)
    return np.unique(np.concatenate([linear, logarithmic]))


# --- the engine -----------------------------------------------------------------------------


class DecayEngine:
    """Decay chains of the ICRP-107 set, with optional half-life overrides per nuclide."""

    def __init__(self, half_life_overrides_s: Mapping[str, float] | None = None):
        overrides: dict[str, float] = {}
        for name, half_life in (half_life_overrides_s or {}).items():
            half_life = float(half_life)
            if not (math.isfinite(half_life) and half_life > 0.0):
                raise ValueError(
                    f"Half-life override for {name} must be a positive number of seconds"
                )
            overrides[normalise_nuclide(name)] = half_life
        self._overrides = dict(sorted(overrides.items()))
        self._chains: dict[frozenset[str], _Chain] = {}
        self._lock = threading.Lock()
        if self._overrides:
            # a misspelt or stable nuclide in a site's configuration should fail at start-up
            constants = _nuclear_data().decay_constants
            for name in self._overrides:
                if name not in constants:
                    raise _unknown_nuclide(name)
                if constants[name] == 0.0:
                    raise ValueError(
                        f"{name} is stable in {DATASET_LABEL}; "
                        "only radioactive half-lives can be overridden"
                    )

    # data -------------------------------------------------------------------------------

    @property
    def half_life_overrides_s(self) -> dict[str, float]:
        return dict(self._overrides)

    @property
    def data_source(self) -> str:
        text = f"{DATASET_LABEL} (radioactivedecay {version('radioactivedecay')})"
        for name, half_life in self._overrides.items():
            text += f"; {name} half-life {format_duration(half_life, digits=4)} (override)"
        return text

    def _decay_constant_of(self, name: str) -> float:
        data = _nuclear_data()
        if name not in data.decay_constants:
            raise _unknown_nuclide(name)
        if name in self._overrides:
            return LN2 / self._overrides[name]
        return data.decay_constants[name]

    def _require_radioactive(self, nuclide: str) -> str:
        name = normalise_nuclide(nuclide)
        if self._decay_constant_of(name) == 0.0:
            raise ValueError(f"{name} is stable; give a radioactive nuclide")
        return name

    def half_life_s(self, nuclide: str) -> float:
        lam = self._decay_constant_of(normalise_nuclide(nuclide))
        return math.inf if lam == 0.0 else LN2 / lam

    def decay_constant(self, nuclide: str) -> float:
        return self._decay_constant_of(normalise_nuclide(nuclide))

    def decay_factor(self, nuclide: str, dt_s):
        """exp(-lambda dt) of the nuclide alone: A(t + dt) = A(t) * factor.

        A negative ``dt_s`` corrects back in time (factor > 1). Accepts a number or an array.
        """
        lam = self.decay_constant(nuclide)
        factor = np.exp(-lam * np.asarray(dt_s, dtype=float))
        return float(factor) if factor.ndim == 0 else factor

    # chains -----------------------------------------------------------------------------

    def _chain_of(self, roots: frozenset[str]) -> _Chain:
        chain = self._chains.get(roots)
        if chain is None:
            data = _nuclear_data()
            lam_of = dict(data.decay_constants)
            lam_of.update({name: LN2 / t for name, t in self._overrides.items()})
            chain = _build_chain(sorted(roots), lam_of, data)
            with self._lock:
                self._chains[roots] = chain
        return chain

    def chain(self, nuclide: str) -> list[str]:
        """The nuclide and its radioactive progeny, parent first, each after its parents."""
        name = self._require_radioactive(nuclide)
        return list(self._chain_of(frozenset([name])).nuclides)

    # projection -------------------------------------------------------------------------

    def project(self, inventory: Mapping[str, float], times_s) -> Projection:
        """Activities (Bq) of every chain member at each time after t=0.

        ``inventory`` maps nuclide -> activity in Bq at t=0. ``times_s`` is a number or a
        1-D array of seconds >= 0; each result is a 1-D array of the same length.
        """
        times = np.atleast_1d(np.asarray(times_s, dtype=float))
        if times.ndim != 1:
            raise ValueError("times_s must be a number or a 1-D array of seconds")
        if not np.all(np.isfinite(times)) or (times.size and times.min() < 0.0):
            raise ValueError("times_s must be finite and >= 0 (the projection runs forward)")
        activities = self._normalise_inventory(inventory)
        if not activities:
            raise ValueError("The inventory is empty; give at least one nuclide and activity")
        chain = self._chain_of(frozenset(activities))
        atoms0 = np.zeros(len(chain.nuclides))
        for name, bq in activities.items():
            i = chain.index[name]
            atoms0[i] = bq / chain.lam[i]
        result = chain.activities(atoms0, times)
        return {name: result[i] for i, name in enumerate(chain.nuclides)}

    def _normalise_inventory(self, inventory: Mapping[str, float]) -> dict[str, float]:
        activities: dict[str, float] = {}
        for nuclide, bq in inventory.items():
            name = self._require_radioactive(nuclide)
            bq = float(bq)
            if not (math.isfinite(bq) and bq >= 0.0):
                raise ValueError(f"Activity of {name} must be a finite number of Bq >= 0")
            activities[name] = activities.get(name, 0.0) + bq
        return activities

    def activity_ratio(
        self, inventory: Mapping[str, float], numerator: str, denominator: str, times_s
    ) -> np.ndarray:
        """A(numerator) / A(denominator) at each time; NaN where the denominator is 0."""
        projection = self.project(inventory, times_s)
        top = projection.get(self._require_radioactive(numerator))
        bottom = projection.get(self._require_radioactive(denominator))
        if bottom is None:
            raise ValueError(f"{denominator} is neither in the inventory nor produced by it")
        if top is None:
            top = np.zeros_like(bottom)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(bottom > 0.0, top / bottom, np.nan)

    # equilibrium ------------------------------------------------------------------------

    def _equilibrium(self, parent: str, daughter: str) -> tuple[str, str, float, float]:
        """Parent, daughter, equilibrium ratio A_d/A_p, and the slowest approach rate (s^-1)."""
        p, d = self._require_radioactive(parent), self._require_radioactive(daughter)
        if p == d:
            raise ValueError("The daughter must differ from the parent")
        chain = self._chain_of(frozenset([p]))
        if d not in chain.index:
            raise ValueError(f"{d} is not in the decay chain of {p}")
        ip, id_ = chain.index[p], chain.index[d]
        # nuclides on a path from the parent to the daughter: reachable from p, reach d
        reach = _reachability(chain)
        path = [k for k in range(len(chain.nuclides)) if reach[ip, k] and reach[k, id_] and k != ip]
        slow = min(chain.lam[k] - chain.lam[ip] for k in path)
        if slow <= 0.0:
            raise ValueError(
                f"{d} never reaches equilibrium with {p}: the chain between them holds a "
                f"nuclide that lives as long as or longer than {p}"
            )
        # once the faster modes have died out every member follows the parent's eigenvector
        # (computed alone: it exists even where ties elsewhere make the chain defective)
        eigenvector = _right_eigenvector(chain.matrix, chain.lam, ip)
        if eigenvector is None:
            raise ValueError(f"A nuclide in the chain of {p} has the same half-life as {p}")
        ratio = chain.lam[id_] * eigenvector[id_] / chain.lam[ip]
        return p, d, float(ratio), float(slow)

    def equilibrium_fraction(self, parent: str, daughter: str, times_s) -> np.ndarray:
        """(A_d/A_p) / equilibrium ratio at times after separation (pure parent at t=0)."""
        p, d, ratio, _ = self._equilibrium(parent, daughter)
        return self.activity_ratio({p: 1.0}, d, p, times_s) / ratio

    def equilibrium_ratio(self, parent: str, daughter: str) -> float:
        """A_d/A_p once transient or secular equilibrium is established (with branching)."""
        return self._equilibrium(parent, daughter)[2]

    def equilibrium_wait_s(self, parent: str, daughter: str, fraction: float = 0.99) -> float:
        """Time after separation at which the daughter reaches ``fraction`` of equilibrium."""
        if not 0.0 < fraction < 1.0:
            raise ValueError("fraction must be between 0 and 1 (exclusive), e.g. 0.99")
        p, d, ratio, slow = self._equilibrium(parent, daughter)

        def fraction_of_equilibrium(projection: Projection) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return projection[d] / (projection[p] * ratio)

        # the deficit dies away at least as fast as exp(-slow t) times a chain factor; allow
        # e^10 for that factor and widen the horizon in the unlikely case it was not enough
        horizon = (math.log(1.0 / (1.0 - fraction)) + 10.0) / slow
        for _ in range(8):
            wait = self.crossing_time_s(
                {p: 1.0}, fraction_of_equilibrium, fraction, "rises_above", horizon
            )
            if wait is not None:
                return wait
            horizon *= 4.0
        raise ArithmeticError(f"{d} did not reach {fraction:.0%} of equilibrium with {p}")

    # crossings --------------------------------------------------------------------------

    def crossing_time_s(
        self,
        inventory: Mapping[str, float],
        quantity: str | Callable[[Projection], np.ndarray],
        limit: float,
        direction: Direction,
        horizon_s: float,
    ) -> float | None:
        """First time in [0, horizon_s] at which the projected quantity reaches ``limit``.

        ``quantity`` is a nuclide (its activity in Bq) or a function of the projection that
        returns an array. Returns 0.0 if the quantity is already across the limit at t=0, and
        None if it does not cross within the horizon.
        """
        if direction not in ("falls_below", "rises_above"):
            raise ValueError("direction must be 'falls_below' or 'rises_above'")
        if not (math.isfinite(horizon_s) and horizon_s > 0.0):
            raise ValueError("horizon_s must be a positive number of seconds")
        if callable(quantity):
            evaluate = quantity
        else:
            nuclide = self._require_radioactive(quantity)

            def evaluate(projection: Projection) -> np.ndarray:
                return projection[nuclide]

        def crossed(times: np.ndarray) -> np.ndarray:
            values = np.asarray(evaluate(self.project(inventory, times)), dtype=float)
            with np.errstate(invalid="ignore"):
                return values <= limit if direction == "falls_below" else values >= limit

        return _first_crossing(crossed, _search_grid(horizon_s))


def _reachability(chain: _Chain) -> np.ndarray:
    """reach[i, j]: j is i or a descendant of i."""
    size = len(chain.nuclides)
    reach = np.eye(size, dtype=bool)
    linked = (chain.matrix != 0.0).T  # linked[parent, daughter]
    for i in reversed(range(size)):  # topological order: descendants are already complete
        for j in np.flatnonzero(linked[i]):
            if j != i:
                reach[i] |= reach[j]
    return reach


@lru_cache(maxsize=32)
def _engine_for(overrides: tuple[tuple[str, float], ...]) -> DecayEngine:
    return DecayEngine(dict(overrides))


def get_engine(half_life_overrides_s: Mapping[str, float] | None = None) -> DecayEngine:
    """A shared engine per set of overrides, so chain matrices are built once per process."""
    overrides = {
        normalise_nuclide(name): float(t) for name, t in (half_life_overrides_s or {}).items()
    }
    return _engine_for(tuple(sorted(overrides.items())))


# --- units at the edges ---------------------------------------------------------------------


@cache
def unit_registry():
    import pint  # ~0.25 s: first use only

    return pint.UnitRegistry()


_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_ACTIVITY = re.compile(rf"^\s*({_NUMBER})\s*([^\d\s].*?)\s*$")


def parse_activity(text: str) -> float:
    """'1 GBq', '27 mCi', '500 kBq', '3.7e7 Bq' -> Bq."""
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
    return float(ureg.Quantity(number, units).to("becquerel").magnitude)


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


# --- display --------------------------------------------------------------------------------

_DURATION_STEPS = (("y", 365.25 * 86400.0), ("d", 86400.0), ("h", 3600.0), ("min", 60.0))


def format_duration(seconds: float, digits: int = 3, *, trim: bool = False) -> str:
    """A duration in the largest readable unit: '31.9 min', '4.90 h', '9.920 d'.

    ``digits`` significant figures, trailing zeros kept so the precision shows (9.920 d)
    unless ``trim`` is set, for durations that are exact by definition ('3 h' shelf life).
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
    text = _significant(seconds / size, digits)
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {unit}"


def _significant(value: float, digits: int) -> str:
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"
