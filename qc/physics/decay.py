"""Radioactive decay engine: full ICRP-107 chains, evaluated for many times at once.

The nuclear data (half-lives, progeny, branching fractions) come from the ICRP-107 set that
the ``radioactivedecay`` package ships. A site may override individual half-lives (ICRP-107
gives Ac-225 10.0 d where current evaluations give 9.920 d); the engine names its data and
every override in ``data_source`` so certificates can state it.

The chain solution is qc.physics.bateman's, the data qc.physics.nuclides', the root finding
qc.physics.crossing's.

Importing ``radioactivedecay`` costs more than a second, so its data file is read directly.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib.metadata import version
from typing import Literal

import numpy as np

from qc.formatting import format_duration

from .bateman import Chain, build_chain, reachability, right_eigenvector
from .crossing import first_crossing, search_grid
from .nuclides import DATASET_LABEL, normalise_nuclide, nuclear_data, unknown_nuclide

LN2 = math.log(2.0)

Direction = Literal["falls_below", "rises_above"]
Projection = dict[str, np.ndarray]


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
        self._chains: dict[frozenset[str], Chain] = {}
        self._lock = threading.Lock()
        if self._overrides:
            # a misspelt or stable nuclide in a site's configuration should fail at start-up
            constants = nuclear_data().decay_constants
            for name in self._overrides:
                if name not in constants:
                    raise unknown_nuclide(name)
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
        data = nuclear_data()
        if name not in data.decay_constants:
            raise unknown_nuclide(name)
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
        A correction back so far that the factor exceeds the largest float (Bi-213 over a few
        years) is inf: no finite activity then could have decayed to any activity now, which
        callers test with isfinite. A stable nuclide's factor is 1 at any time.
        """
        lam = self.decay_constant(nuclide)
        dt = np.asarray(dt_s, dtype=float)
        if lam == 0.0:
            factor = np.ones_like(dt)
        else:
            # overflow here is the physics' own limit (inf), not an error: say so to numpy
            with np.errstate(over="ignore"):
                factor = np.exp(-lam * dt)
        return float(factor) if factor.ndim == 0 else factor

    # chains -----------------------------------------------------------------------------

    def _chain_of(self, roots: frozenset[str]) -> Chain:
        chain = self._chains.get(roots)
        if chain is None:
            data = nuclear_data()
            lam_of = dict(data.decay_constants)
            lam_of.update({name: LN2 / t for name, t in self._overrides.items()})
            chain = build_chain(sorted(roots), lam_of, data)
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
        # The chain is linear: solve for the inventory scaled to its largest activity and
        # scale back, so a huge activity of a long-lived nuclide (1e308 Bq of Ac-227 is more
        # atoms than a float holds) does not overflow on the way. A member whose activity
        # itself exceeds the largest float is inf, the limit the physics gives.
        scale = max(activities.values()) or 1.0
        atoms0 = np.zeros(len(chain.nuclides))
        for name, bq in activities.items():
            i = chain.index[name]
            atoms0[i] = (bq / scale) / chain.lam[i]
        result = chain.activities(atoms0, times)
        with np.errstate(over="ignore"):
            result = result * scale
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
        reach = reachability(chain)
        path = [k for k in range(len(chain.nuclides)) if reach[ip, k] and reach[k, id_] and k != ip]
        slow = min(chain.lam[k] - chain.lam[ip] for k in path)
        if slow <= 0.0:
            raise ValueError(
                f"{d} never reaches equilibrium with {p}: the chain between them holds a "
                f"nuclide that lives as long as or longer than {p}"
            )
        # once the faster modes have died out every member follows the parent's eigenvector
        # (computed alone: it exists even where ties elsewhere make the chain defective)
        eigenvector = right_eigenvector(chain.matrix, chain.lam, ip)
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

        return first_crossing(crossed, search_grid(horizon_s))



@lru_cache(maxsize=32)
def _engine_for(overrides: tuple[tuple[str, float], ...]) -> DecayEngine:
    return DecayEngine(dict(overrides))


def get_engine(half_life_overrides_s: Mapping[str, float] | None = None) -> DecayEngine:
    """A shared engine per set of overrides, so chain matrices are built once per process."""
    overrides = {
        normalise_nuclide(name): float(t) for name, t in (half_life_overrides_s or {}).items()
    }
    return _engine_for(tuple(sorted(overrides.items())))
