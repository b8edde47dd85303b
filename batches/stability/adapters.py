"""The few functions of the result machinery that stability results reuse, imported in one
place: value checks and instrument checks of result recording, batch registration (the
demo's study lots), the pure evaluation (validity waits) and the site's decay engine. When
those move, only this module follows them."""

from batches.services import _check_instrument as check_instrument  # noqa: F401
from batches.services import _validate_value as validate_value  # noqa: F401
from batches.services import batch_register  # noqa: F401
from qc.engine import site_engine  # noqa: F401
from qc.evaluation import BatchTimes, Measurement, Verdict, evaluate  # noqa: F401
from qc.rules import limit_text, rule_for  # noqa: F401
