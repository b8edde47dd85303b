"""Root finding on vectorised functions of time: the first time a projected quantity crosses
a limit, found by evaluating whole grids of times in one call."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def first_crossing(crossed: Callable[[np.ndarray], np.ndarray], grid: np.ndarray) -> float | None:
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


def search_grid(horizon_s: float, points: int = 2049) -> np.ndarray:
    # linear for the bulk, logarithmic for fast early ingrowth of short-lived daughters
    linear = np.linspace(0.0, horizon_s, points)
    logarithmic = np.geomspace(horizon_s * 1e-9, horizon_s, points)
    return np.unique(np.concatenate([linear, logarithmic]))
