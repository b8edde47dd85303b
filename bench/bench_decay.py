"""Time the decay engine against a loop of radioactivedecay calls.

Run as `python bench/bench_decay.py`. Projects a pure Ac-225 inventory over its full chain
at 1, 1 000 and 100 000 times (median of several repeats, chain matrices built first) and
the same 1 000 times as a loop of radioactivedecay `Inventory.decay` calls.
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qc.physics.decay import DecayEngine  # noqa: E402

INVENTORY = {"Ac-225": 1.0e9}
HORIZON_S = 30 * 86400.0


def median_seconds(function, repeats):
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main():
    import radioactivedecay

    engine = DecayEngine()  # ICRP-107 as shipped, like radioactivedecay
    engine.project(INVENTORY, [0.0])  # load the data and build the chain once

    one = np.array([3600.0])
    thousand = np.linspace(0.0, HORIZON_S, 1_000)
    hundred_thousand = np.linspace(0.0, HORIZON_S, 100_000)

    inventory = radioactivedecay.Inventory(INVENTORY, "Bq")
    inventory.decay(1.0)  # warm radioactivedecay too

    def radioactivedecay_loop():
        for t in thousand:
            inventory.decay(float(t), "s").activities()

    decay_1 = median_seconds(lambda: engine.project(INVENTORY, one), 201)
    decay_1000 = median_seconds(lambda: engine.project(INVENTORY, thousand), 101)
    loop_1000 = median_seconds(radioactivedecay_loop, 5)
    decay_100000 = median_seconds(lambda: engine.project(INVENTORY, hundred_thousand), 21)

    print(f"decay_1_point_s: {decay_1:.3e}")
    print(f"decay_1000_points_s: {decay_1000:.3e}")
    print(f"radioactivedecay_loop_1000_points_s: {loop_1000:.3e}")
    print(f"speedup_1000: {loop_1000 / decay_1000:.0f}")
    print(f"decay_100000_points_s: {decay_100000:.3e}")


if __name__ == "__main__":
    main()
