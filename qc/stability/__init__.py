"""Pure shelf-life statistics (ICH Q1E), no Django: plain values in, plain values out.

statsmodels (and with it pandas and patsy) is imported on first use only, so that importing
this package costs nothing for code that never estimates a shelf life."""

from qc.stability.shelf_life import (
    MODELS,
    Extrapolation,
    NotEnoughData,
    Point,
    ShelfLifeEstimate,
    estimate_shelf_life,
)

__all__ = [
    "MODELS",
    "Extrapolation",
    "NotEnoughData",
    "Point",
    "ShelfLifeEstimate",
    "estimate_shelf_life",
]
