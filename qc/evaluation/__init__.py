"""Pure evaluation of QC results against acceptance criteria, expiry, and decay tables.

Plain values in, plain values out: no Django, no database. values (what goes in and out),
verdicts (evaluate), validity (when a measurement counts), expiry, decay_table.

The names below are for batches/services.py, which imports them from here; new code imports
from the module that holds them.
"""

from .decay_table import decay_table
from .expiry import compute_expiry
from .values import BatchTimes, ExpiryConstraint, Measurement, Outcome, Rule, Verdict
from .verdicts import evaluate

__all__ = [
    "BatchTimes",
    "ExpiryConstraint",
    "Measurement",
    "Outcome",
    "Rule",
    "Verdict",
    "compute_expiry",
    "decay_table",
    "evaluate",
]
