"""The plain values the evaluation takes and gives, and the checks on them.

A criterion says when its value is judged (as measured, at calibration or at expiry) and may
say when a measurement is valid at all. Every datetime is timezone-aware.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INVALID = "invalid"
    PENDING = "pending"


# "expiry": a decay-physics quantity is projected to expiry; a plain (or text) result is a
# statement about the product at expiry and must be measured at or after it
JUDGED_AT = ("measured", "calibration", "expiry")
QUANTITIES = ("plain", "activity", "activity_concentration", "breakthrough", "impurity_ratio")
VALIDITIES = ("none", "daughter_equilibrium", "product_half_lives", "recount_line",
              "daughter_ratio", "daughter_correction", "counting_window")
RECOUNT_TOLERANCE = 0.1  # default: the product's own activity on the line below 10 % of it
DAUGHTER_RATIO_TOLERANCE = 0.02  # default: the daughter within 2 % of equilibrium
WINDOW_TOLERANCE = 0.1  # default: misplaced counts below 10 % of the impurity at the limit
DEVELOPED_AT = "developed_at"
# the counting window a result records (counting_window validity): the product's own gamma
# line (e.g. Pb-212 238.6 keV) counts the product alone; a wide window counts its daughters
PRODUCT_LINE, WIDE_WINDOW = "product_line", "wide"
COUNTING_WINDOWS = (PRODUCT_LINE, WIDE_WINDOW)


@dataclass(frozen=True)
class Rule:
    """One acceptance criterion, as the Criterion model stores it.

    quantity:
      plain: the value as given, in ``unit``.
      activity: measured Bq, decay-corrected with the product nuclide and judged as % of the
        batch's activity at calibration (so ``unit`` is "%").
      activity_concentration: measured concentration in ``unit`` (e.g. Bq/mL), corrected with
        the product nuclide to the judged time.
      breakthrough: impurity activity in Bq at the recount, corrected with the impurity
        nuclide back to the judged time, as % of the product activity then.
      impurity_ratio: activity ratio impurity/product in % at a reference time, projected
        with the chain physics to the judged time (e.g. Ac-227/Ac-225 at expiry). With
        ``impurity_with_progeny`` the impurity's share counts every radioactive member of its
        chain grown in since the reference (Ac-227 with Th-227, Ra-223, ...), not the parent
        alone.
    validity:
      daughter_equilibrium: the count is valid only once ``validity_nuclide`` has regrown to
        ``validity_value`` (default 0.99) of equilibrium with the product nuclide, counted
        from the method time "developed_at".
      product_half_lives: valid only ``validity_value`` half-lives of the product after EOS;
        for a breakthrough also not before the recount can see its limit (recount_line,
        counted on ``validity_nuclide``'s line, or the product's own when empty).
      recount_line (breakthrough only): the recount counts ``validity_nuclide``'s gamma line
        and is valid once it reads the impurity at the upper limit within ``validity_value``
        (default 0.1): the product's own activity on that line has decayed below 10 % of
        what the impurity at its limit supports (qc.physics.recount).
      daughter_ratio (a reading in a dose calibrator's equilibrium setting): valid once
        ``validity_nuclide`` is within ``validity_value`` (default 0.02) of its equilibrium
        ratio with the product at the reading, from the daughters' state the batch records
        at EOS (qc.physics.daughters).
      daughter_correction (activity quantities, equilibrium setting): always valid; the
        reading is corrected to the product's activity by 1 / (s + (1 - s) q), with s =
        ``validity_value`` the product's own share of the setting's equilibrium reading and
        q the fraction of equilibrium of ``validity_nuclide`` at the reading; the verdict
        states the factor.
      counting_window (a plain % result counted on a strip, e.g. radio-TLC RCP): the result
        records its counting window. On the product's own line it is valid at once; in a
        wide window it is valid once the ``validity_nuclide`` that was on the strip when it
        was developed is at most ``validity_value`` (default 0.1) x the impurity at the
        limit / the product at the limit of the daughter on the strip (worst case: all of
        the old daughter on the wrong spot and the window counting the daughter alone).
    """

    test_code: str
    name: str
    unit: str
    lower: float | None = None
    lower_inclusive: bool = True
    upper: float | None = None
    upper_inclusive: bool = True
    text_requirement: str = ""
    judged_at: str = "measured"
    quantity: str = "plain"
    impurity_nuclide: str = ""
    impurity_with_progeny: bool = False
    release_before_result: bool = False
    validity: str = "none"
    validity_nuclide: str = ""
    validity_value: float | None = None


@dataclass(frozen=True)
class Measurement:
    value: float | None
    text: str
    measured_at: datetime
    method_times: Mapping[str, datetime] = field(default_factory=dict)
    # impurity_ratio only: when the ratio holds (source lot certificate); default measured_at
    reference_time: datetime | None = None
    # "<" or ">": the value is only known to lie below/above `value` (a quantitation limit)
    censor: str = ""
    # the significant figures it was entered with (qc.entered): the message says the measured
    # value with them; None: the message register's own
    figures: int | None = None
    # the counting window the result records (COUNTING_WINDOWS), or "" when none is stated
    counting_window: str = ""


@dataclass(frozen=True)
class BatchTimes:
    product_nuclide: str
    eos: datetime
    calibration_time: datetime
    expiry: datetime | None
    activity_at_calibration_bq: float
    volume_ml: float
    # the daughters' state at EOS, as recorded on the batch: last separated at this time
    # (None: at EOS), or not separated at all (in equilibrium with the product)
    daughters_separated_at: datetime | None = None
    daughters_in_equilibrium: bool = False

    def separated_before_eos_s(self) -> float | None:
        """For qc.physics.inventory.eos_inventory: None when not separated."""
        if self.daughters_in_equilibrium:
            return None
        if self.daughters_separated_at is None:
            return 0.0
        return max((self.eos - self.daughters_separated_at).total_seconds(), 0.0)


@dataclass(frozen=True)
class Outcome:
    """``projected_value`` is the value compared with the limits, in the rule's unit (for a
    plain quantity it equals ``measured_value``); None when nothing was judged."""

    verdict: Verdict
    measured_value: float | None
    projected_value: float | None
    judged_at_time: datetime
    message: str
    valid_from: datetime | None = None


@dataclass(frozen=True)
class ExpiryConstraint:
    expiry: datetime
    reason: str


# --- checks ---------------------------------------------------------------------------------


def check_rule(rule: Rule) -> None:
    """A misconfigured criterion is a programming or data error, not a result verdict."""
    if rule.judged_at not in JUDGED_AT:
        raise ValueError(f"{rule.test_code}: judged_at must be one of {', '.join(JUDGED_AT)}")
    if rule.quantity not in QUANTITIES:
        raise ValueError(f"{rule.test_code}: quantity must be one of {', '.join(QUANTITIES)}")
    if rule.validity not in VALIDITIES:
        raise ValueError(f"{rule.test_code}: validity must be one of {', '.join(VALIDITIES)}")
    if rule.quantity in ("breakthrough", "impurity_ratio") and not rule.impurity_nuclide:
        raise ValueError(f"{rule.test_code}: a {rule.quantity} rule names its impurity nuclide")
    if rule.validity == "daughter_equilibrium" and not rule.validity_nuclide:
        raise ValueError(f"{rule.test_code}: daughter_equilibrium needs the daughter nuclide")
    if rule.validity == "product_half_lives" and not rule.validity_value:
        raise ValueError(f"{rule.test_code}: product_half_lives needs the number of half-lives")
    if rule.validity == "recount_line":
        if rule.quantity != "breakthrough" or rule.upper is None or not rule.validity_nuclide:
            raise ValueError(f"{rule.test_code}: recount_line is for a breakthrough with an "
                             "upper limit and names the nuclide whose line is counted")
        if rule.validity_value is not None and not 0.0 < rule.validity_value < 1.0:
            raise ValueError(f"{rule.test_code}: recount_line tolerance must be between 0 "
                             "and 1, e.g. 0.1")
    check_daughter_rule(rule)


def check_daughter_rule(rule: Rule) -> None:
    """The validities that follow the product's daughters (qc.evaluation.daughters)."""
    if rule.validity not in ("daughter_ratio", "daughter_correction", "counting_window"):
        return
    if not rule.validity_nuclide:
        raise ValueError(f"{rule.test_code}: {rule.validity} names the daughter it follows, "
                         "e.g. Bi-212")
    value = rule.validity_value
    if rule.validity == "daughter_correction":
        if rule.quantity not in ("activity", "activity_concentration"):
            raise ValueError(f"{rule.test_code}: daughter_correction corrects an activity "
                             "reading; use it with the activity or activity_concentration "
                             "quantity")
        if value is None or not 0.0 < value < 1.0:
            raise ValueError(f"{rule.test_code}: daughter_correction needs the product's own "
                             "share of the setting's equilibrium reading, between 0 and 1 "
                             "(e.g. 0.1; a setting that reads nothing of the product itself "
                             "cannot be corrected at separation)")
        return
    if value is not None and not 0.0 < value < 1.0:
        raise ValueError(f"{rule.test_code}: the {rule.validity} tolerance must be between 0 "
                         "and 1, e.g. " + ("0.02" if rule.validity == "daughter_ratio"
                                            else "0.1"))
    if rule.validity == "counting_window":
        limit = rule.lower if rule.lower is not None else rule.upper
        if (rule.quantity != "plain" or rule.unit != "%" or rule.text_requirement
                or limit is None or not 0.0 < limit < 100.0):
            raise ValueError(f"{rule.test_code}: counting_window is for a % result counted "
                             "on a strip (e.g. radiochemical purity) with a limit between 0 "
                             "and 100 %")


def check_aware(*moments: datetime | None) -> None:
    for moment in moments:
        if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
            raise ValueError(f"Datetime {moment.isoformat()} has no time zone")


# --- whole seconds --------------------------------------------------------------------------


def seconds(delta: timedelta) -> float:
    return delta.total_seconds()


def ceil_second(moment: datetime) -> datetime:
    floored = floor_second(moment)
    return floored if floored == moment else floored + timedelta(seconds=1)


def floor_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)
