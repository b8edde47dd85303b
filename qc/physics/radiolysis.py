"""Radiolysis measure: absorbed dose in the solution accumulated since EOS (pure, no Django).

D(t) = sum over chain members i of (E_alpha,i + E_beta,i) x integral_0^t a_i(tau) dtau / m,
with a_i the activity concentration (Bq/mL) the decay engine projects for member i, E the
mean alpha and beta energies per decay (ICRP-107, qc.physics.decay_energies) and m the mass
of 1 mL of solution (water density by default). Every alpha and beta is taken as absorbed
in the solution: alpha ranges in water are ~40-90 um, betas of these chains a few mm, so the
figure is an upper bound for small vials and a comparison measure between concentrations:
two studies at different activity concentrations are compared at equal dose, not equal time.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from qc.physics.decay_energies import MEAN_ENERGY_MEV, SOURCE

J_PER_MEV = 1.602176634e-13
GRID_POINTS = 4001


def _energies(members) -> tuple[np.ndarray, np.ndarray]:
    unknown = [m for m in members if m not in MEAN_ENERGY_MEV]
    if unknown:
        raise ValueError(f"No ICRP-107 alpha/beta energies on file for {', '.join(unknown)}; "
                         "add them to qc.physics.decay_energies with their source.")
    alpha = np.array([MEAN_ENERGY_MEV[m][0] for m in members])
    beta = np.array([MEAN_ENERGY_MEV[m][1] for m in members])
    return alpha, beta


def _grid(end_s: float, times: np.ndarray) -> np.ndarray:
    """Dense where daughters grow in (log-spaced from 1 ms) and even over the whole span."""
    geometric = np.geomspace(1e-3, end_s, GRID_POINTS // 2) if end_s > 1e-3 else np.array([])
    even = np.linspace(0.0, end_s, GRID_POINTS // 2)
    return np.unique(np.concatenate(([0.0], geometric, even, times)))


def absorbed_dose_gy(engine, inventory_bq_per_ml: Mapping[str, float], times_s,
                     *, density_g_per_ml: float = 1.0) -> dict[str, np.ndarray]:
    """Dose (Gy) accumulated from t=0 (EOS) to each time, split by alpha and beta.

    ``engine`` is a qc.physics.decay.DecayEngine; ``inventory_bq_per_ml`` the activity
    concentration of each nuclide at EOS (the product nuclide, and its daughters where
    they were present). Returns {"alpha", "beta", "total"} arrays in Gy, one value a time.
    """
    from scipy.integrate import cumulative_simpson

    times = np.atleast_1d(np.asarray(times_s, dtype=float))
    if times.ndim != 1 or not np.all(np.isfinite(times)) or (times.size and times.min() < 0):
        raise ValueError("Times must be finite numbers of seconds after EOS, >= 0.")
    if not (density_g_per_ml > 0):
        raise ValueError("The density must be a positive number of g/mL.")
    if times.size == 0:
        empty = np.zeros(0)
        return {"alpha": empty, "beta": empty, "total": empty}
    grid = _grid(float(times.max()), times)
    projection = engine.project(inventory_bq_per_ml, grid)
    members = list(projection)
    alpha_mev, beta_mev = _energies(members)
    activities = np.vstack([projection[m] for m in members])  # Bq/mL, (members, grid)
    decays = cumulative_simpson(activities, x=grid, axis=1, initial=0.0)  # decays per mL
    at = np.searchsorted(grid, times)
    kg_per_ml = density_g_per_ml * 1e-3
    alpha = alpha_mev @ decays[:, at] * J_PER_MEV / kg_per_ml
    beta = beta_mev @ decays[:, at] * J_PER_MEV / kg_per_ml
    return {"alpha": alpha, "beta": beta, "total": alpha + beta}


def product_dose_gy(engine, nuclide: str, concentration_bq_per_ml: float, times_s,
                    **kwargs) -> dict[str, np.ndarray]:
    """Dose from a product nuclide alone at EOS, its daughters growing in from zero."""
    return absorbed_dose_gy(engine, {nuclide: concentration_bq_per_ml}, times_s, **kwargs)


__all__ = ["SOURCE", "absorbed_dose_gy", "product_dose_gy"]
