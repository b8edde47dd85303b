"""The decay table of a batch: activities of the product and its key daughters at readable
steps from a reference time to expiry, for the batch page and the certificate."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta

import numpy as np

from qc.formatting import format_duration, utc_iso
from qc.physics.decay import DecayEngine
from qc.physics.nuclides import normalise_nuclide

from .values import check_aware, seconds

_READABLE_STEPS_S = tuple(step.total_seconds() for step in (
    [timedelta(minutes=m) for m in (1, 2, 5, 10, 15, 20, 30)]
    + [timedelta(hours=h) for h in (1, 2, 3, 4, 6, 8, 12)]
    + [timedelta(days=d) for d in (1, 2, 3, 7, 14, 30, 60, 90)]
))

# A daughter this short-lived (Po-213 3.7 us, Po-212 0.3 us, At-217 32 ms) is in equilibrium
# with its parent within a second of separation, long before anyone could measure the vial;
# the table shows it so from the first row rather than drawing a jump from zero.
SHORT_LIVED_S = 1.0


def decay_table(
    *,
    product_nuclide: str,
    activity_bq: float,
    reference_time: datetime,
    until: datetime,
    step: timedelta | None,
    engine: DecayEngine,
    max_rows: int = 25,
    daughters: Mapping[str, float] | None = None,
) -> dict:
    """Activities of the product and its key daughters from ``reference_time`` to ``until``.

    ``daughters`` gives the inventory at ``reference_time`` per 1 Bq of the product (qc.
    physics.inventory.eos_inventory: the state the batch record states); without it the
    product is taken as pure at ``reference_time`` (as at separation). Key daughters are
    those whose activity exceeds 1 % of the product's at some time in the span. Daughters with
    a half-life below SHORT_LIVED_S follow their parent from the first instant. Rows fall at
    regular steps (a readable one is chosen when ``step`` is None), plus ``until`` itself.
    """
    check_aware(reference_time, until)
    span = seconds(until - reference_time)
    if span < 0:
        raise ValueError("'until' must not be before the reference time")
    step_s = seconds(step) if step is not None else _readable_step(span, max_rows)
    if step_s <= 0:
        raise ValueError("The step must be positive")
    steps = math.ceil(span / step_s - 1e-9)  # tolerate round-off when span is a multiple
    offsets = [i * step_s for i in range(steps)] + [span]
    if len(offsets) > max_rows:
        raise ValueError(
            f"A step of {format_duration(step_s)} gives {len(offsets)} rows; "
            f"at most {max_rows} are allowed"
        )
    if not activity_bq > 0:
        raise ValueError("The activity must be positive")
    product = normalise_nuclide(product_nuclide)
    inventory = {normalise_nuclide(name): activity_bq * share
                 for name, share in (daughters or {}).items()}
    inventory[product] = activity_bq

    dense = engine.project(inventory, np.linspace(0.0, span, 513))
    with np.errstate(divide="ignore", invalid="ignore"):
        keys = [
            name
            for name, activity in dense.items()
            if name == product or np.nanmax(activity / dense[product]) > 0.01
        ]
    rows = engine.project(inventory, np.array(offsets))
    _short_lived_in_equilibrium(rows, keys, product, inventory, engine)
    return {
        "data_source": engine.data_source,
        "step_s": step_s,
        "times": [utc_iso(reference_time + timedelta(seconds=float(t))) for t in offsets],
        "activities_Bq": {name: [float(a) for a in rows[name]] for name in keys},
    }


def _short_lived_in_equilibrium(rows: dict, keys: list[str], product: str, inventory: dict,
                                engine: DecayEngine) -> None:
    """Row 0 of each short-lived daughter as it stands once it has caught up with its parent:
    after 30 of its half-lives (at most 30 s, when the product has barely decayed)."""
    short = [name for name in keys
             if name != product and engine.half_life_s(name) < SHORT_LIVED_S]
    if not short:
        return
    settled = 30 * max(engine.half_life_s(name) for name in short)
    caught_up = engine.project(inventory, np.array([settled]))
    for name in short:
        rows[name][0] = caught_up[name][0]


def _readable_step(span_s: float, max_rows: int) -> float:
    if span_s == 0:
        return 60.0  # a single row; any step will do
    for step in _READABLE_STEPS_S:
        if math.ceil(span_s / step) + 1 <= max_rows:
            return float(step)
    return span_s / (max_rows - 1)
