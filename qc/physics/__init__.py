"""Pure decay physics (no Django). Importing this package does not load the nuclear data."""

from qc.physics.decay import DecayEngine, get_engine
from qc.physics.nuclides import normalise_nuclide

__all__ = [
    "DecayEngine",
    "get_engine",
    "normalise_nuclide",
]
