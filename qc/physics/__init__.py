"""Pure decay physics (no Django). Importing this package does not load the nuclear data."""

from qc.physics.decay import (
    DecayEngine,
    format_duration,
    get_engine,
    normalise_nuclide,
    parse_activity,
    parse_duration,
)

__all__ = [
    "DecayEngine",
    "format_duration",
    "get_engine",
    "normalise_nuclide",
    "parse_activity",
    "parse_duration",
]
