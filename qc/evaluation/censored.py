"""Judging a censored result: one only known to lie below ("< 2.5" EU/mL, under a method's
quantitation limit) or above ("> 99 %") a number.

A censored result passes only when every value it could be meets the criterion: "< 2.5"
meets "< 5" and "<= 5"; "> 99 %" meets ">= 95 %". Otherwise it fails, with a message saying
so: "< 10" against "< 5" cannot show conformity, and a result that does not show conformity
is not a pass. It is a fail rather than an "invalid" because the measurement itself is
sound; what it shows is not enough to release on, and a fail blocks release until QA
investigates (e.g. a dilution that raised the quantitation limit) and invalidates it with an
assignable cause, or the batch is rejected. Pure: plain values in, plain values out.
"""

from __future__ import annotations

from qc.formatting import MESSAGE, bound_text, compact_value_text, limit_text

from .values import Rule, Verdict

CENSORS = {"<": "below", ">": "above"}


def censored_text(censor: str, value: float, unit: str, digits: int = 3) -> str:
    """'< 2.5 EU/mL', '> 99 %'."""
    return f"{censor} {compact_value_text(value, unit, digits)}"


def compare_censored(rule: Rule, value: float, censor: str) -> tuple[Verdict, str]:
    """The verdict for a result known only to be `censor` `value` (projected to the judged
    time like any value: the projections are increasing, so a bound stays a bound)."""
    if censor not in CENSORS:
        raise ValueError(f"censor must be '<' or '>', not {censor!r}")
    shown = censored_text(censor, value, rule.unit)
    if censor == "<":
        if rule.lower is not None:
            if value < rule.lower or (value == rule.lower and not rule.lower_inclusive):
                return Verdict.FAIL, (f"is below the lower limit "
                                      f"{bound_text(rule, 'lower', MESSAGE)}")
            return Verdict.FAIL, (f"cannot show conformity to {limit_text(rule, MESSAGE)}: it "
                                  f"is only known to be {shown}, which may be below the lower "
                                  "limit; measure the value itself")
        if rule.upper is not None and value > rule.upper:
            return Verdict.FAIL, (f"cannot show conformity to {limit_text(rule, MESSAGE)}: it "
                                  f"is only known to be {shown}, and the quantitation limit is "
                                  "above the specification limit; measure with a method whose "
                                  "quantitation limit is below it")
        return Verdict.PASS, f"meets {limit_text(rule, MESSAGE)}"
    if rule.upper is not None:
        if value > rule.upper or (value == rule.upper and not rule.upper_inclusive):
            return Verdict.FAIL, f"is above the upper limit {bound_text(rule, 'upper', MESSAGE)}"
        return Verdict.FAIL, (f"cannot show conformity to {limit_text(rule, MESSAGE)}: it is "
                              f"only known to be {shown}, which may be above the upper limit; "
                              "measure the value itself")
    if rule.lower is not None and value < rule.lower:
        return Verdict.FAIL, (f"cannot show conformity to {limit_text(rule, MESSAGE)}: it is "
                              f"only known to be {shown}, and that bound is below the "
                              "specification limit")
    return Verdict.PASS, f"meets {limit_text(rule, MESSAGE)}"
