"""The checks a result passes before it is stored: field validation (nothing locked yet)
and the GMP rules that need the locked batch. Each check says what is wrong and how to fix it."""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from qc.entered import entered_text
from qc.errors import RuleViolation
from qc.formatting import format_duration, utc_text
from qc.instruments import require_qualified
from qc.models import Criterion, Instrument, Validity
from qc.roles import Role, has_role
from qc.text import text_problem
from qc.time_range import time_range_problem
from qc.units import UnitError, check_physical_range, input_unit_for, to_canonical

from ..lifecycle import RESULT_ACCEPTING_STATUSES
from ..models import Batch, BatchStatus, Channel, CountingWindow, Result


def require_aware(errors: dict[str, list[str]], field: str, value: datetime | None) -> None:
    if value is None:
        errors.setdefault(field, []).append("This time is required.")
    elif timezone.is_naive(value):
        errors.setdefault(field, []).append(
            "This time has no time zone; give it with its offset, e.g. 2026-11-22T09:30:00+01:00."
        )
    elif problem := time_range_problem(value):
        errors.setdefault(field, []).append(problem)


def validate_value(errors, criterion: Criterion, value, unit: str, value_text: str):
    """Return the value in the canonical unit, or record what is wrong."""
    if criterion.is_text:
        if not (value_text or "").strip():
            errors["value_text"] = [f"{criterion.name} takes a text result: one of "
                                    f"{criterion.text_requirement.replace('|', ', ')}, "
                                    "or what was observed."]
        elif problem := text_problem(value_text, label="text result"):
            errors["value_text"] = [problem]
        return None
    if (value_text or "").strip():
        # The pages and the signing page show a result's text before its number: a text
        # beside a number would show as the result while the number is what is judged.
        errors["value_text"] = [f"{criterion.name} takes a number, not a text result; send "
                                "the number in value and leave value_text empty."]
    if value is None or isinstance(value, bool):
        errors["value"] = [f"{criterion.name} takes a number."]
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors["value"] = [f"{value!r} is not a number."]
        return None
    canonical = input_unit_for(criterion.unit, criterion.quantity)
    try:
        converted = to_canonical(number, unit or canonical, canonical)
        entered = entered_text(value if isinstance(value, float) else number)
        check_physical_range(converted, canonical, f"{entered} {unit or canonical}")
    except UnitError as exc:
        field = "unit" if "unit" in str(exc) and "accepted" in str(exc) else "value"
        errors[field] = [str(exc)[0].upper() + str(exc)[1:] + "."]
        return None
    return converted


CENSOR_PATTERN = re.compile(r"^\s*([<>])\s*(\S.*)$")


def split_censored(text: str) -> tuple[str, str]:
    """'< 2.5' -> ('<', '2.5'); '97.4' -> ('', '97.4'). '<=' and '>=' are not censors (a
    quantitation limit is a strict bound) and stay in the number, which then is refused."""
    match = CENSOR_PATTERN.match(text or "")
    if match and not match.group(2).startswith("="):
        return match.group(1), match.group(2).strip()
    return "", (text or "").strip()


def censor_errors(criterion: Criterion, censor: str) -> dict[str, list[str]]:
    if not censor:
        return {}
    if censor not in ("<", ">"):
        return {"value": [f"{censor!r} is not a censor; use '<' (below a quantitation "
                          "limit) or '>' (above), e.g. '< 2.5'."]}
    if criterion.is_text:
        return {"value_text": [f"{criterion.name} takes a text result, not '{censor} value'."]}
    return {}


def window_errors(criterion: Criterion, counting_window: str,
                  method_times: dict[str, datetime]) -> dict[str, list[str]]:
    """The counting window a strip count records: required where the criterion's validity
    depends on it, and a wide window needs the development time its wait counts from."""
    choices = dict(CountingWindow.choices)
    if counting_window and counting_window not in choices:
        return {"counting_window": [f"{counting_window!r} is not a counting window; use "
                                    + " or ".join(f"{k!r} ({v})" for k, v in choices.items())
                                    + "."]}
    if criterion.validity != Validity.COUNTING_WINDOW:
        return {}
    product = criterion.specification.product.nuclide
    if not counting_window:
        return {"counting_window": [
            f"{criterion.name} is valid only with its counting window recorded: "
            f"'product_line' ({product}'s own line, valid at once) or 'wide' (valid once the "
            f"{criterion.validity_nuclide} on the strip has renewed after development)."]}
    if counting_window == CountingWindow.WIDE and "developed_at" not in method_times:
        return {"developed_at": [
            "A count in a wide window is valid only some time after the strip was developed; "
            "record when it was developed (developed_at)."]}
    return {}


def check_instrument(instrument: Instrument | None, measured_at: datetime,
                     criterion: Criterion | None = None) -> None:
    if instrument is None:
        return
    if criterion is not None:
        require_qualified(instrument, [criterion.test_code])
    if not instrument.in_service:
        raise RuleViolation(f"Instrument {instrument.serial} is out of service; results from it "
                            "are refused until it is returned to service.",
                            code="instrument_unusable")
    if measured_at.date() > instrument.calibration_due:
        raise RuleViolation(f"Instrument {instrument.serial} was past its calibration due date "
                            f"({instrument.calibration_due}) at the time of measurement; "
                            "recalibrate it and measure again.", code="instrument_unusable")


def check_recorder(*, actor, batch: Batch, supersedes: Result | None, channel: str) -> None:
    """Results are a QC analyst's (or an instrument's, whose key scopes what it may post).
    Once a batch is released, rejected or flagged, its record is closed: only QA records a
    correction there, as a superseding result with a reason (a failing correction on a
    released batch then flags it as post-release OOS)."""
    if batch.status not in RESULT_ACCEPTING_STATUSES:
        if supersedes is None or not has_role(actor, Role.REVIEWER):
            raise RuleViolation(
                f"Lot {batch.lot_number} is {batch.get_status_display().lower()}: new results "
                "are refused. A correction of a recorded result goes through QA: a QA reviewer "
                "records it as a superseding result with a reason.", code="batch_closed")
        return
    if channel == Channel.WEB and not has_role(actor, Role.ANALYST):
        raise RuleViolation("Only a QC analyst records results and their corrections.",
                            code="forbidden")


def result_errors(*, batch: Batch, criterion: Criterion, measured_at: datetime, value,
                   unit: str, value_text: str, method_times: dict[str, datetime],
                   supersedes: Result | None, reason: str, now: datetime
                   ) -> tuple[dict[str, list[str]], float | None]:
    """What is wrong with a result before any lock is taken, and its canonical value."""
    errors: dict[str, list[str]] = {}
    if criterion.specification_id != batch.specification_id:
        errors["test_code"] = [f"Test {criterion.test_code} is not in the specification of lot "
                               f"{batch.lot_number} ({batch.product.code} "
                               f"v{batch.specification.version})."]
    require_aware(errors, "measured_at", measured_at)
    if "measured_at" not in errors:
        if measured_at < batch.eos:
            errors["measured_at"] = [f"Measured before the end of synthesis "
                                     f"({batch.eos.isoformat()}); check the instrument clock."]
        elif criterion.earliest_after and measured_at < batch.eos + criterion.earliest_after:
            errors["measured_at"] = [_too_early(criterion, batch, measured_at)]
        skew = timedelta(seconds=settings.MEASURED_AT_CLOCK_SKEW_S)
        if measured_at > now + skew:
            errors["measured_at"] = ["This time is in the future; check the instrument clock."]
    for name, at in method_times.items():
        require_aware(errors, name, at)
        if name not in errors:
            _check_method_time(errors, name, at, batch=batch, measured_at=measured_at)
    canonical_value = validate_value(errors, criterion, value, unit, value_text)
    if supersedes is not None:
        if supersedes.batch_id != batch.id or supersedes.criterion_id != criterion.id:
            errors["supersedes"] = ["A correction must supersede a result of the same batch "
                                    "and test."]
        if not reason.strip():
            errors["reason"] = ["Say why the result is corrected."]
    if problem := text_problem(reason, label="reason", multiline=True):
        errors["reason"] = [problem]
    return errors, canonical_value


def _too_early(criterion: Criterion, batch: Batch, measured_at: datetime) -> str:
    wait = criterion.earliest_after
    possible = batch.eos + wait
    return (f"{criterion.name} cannot have a result before {utc_text(possible)}: its method "
            f"needs {format_duration(wait.total_seconds(), trim=True)} after the end of "
            f"synthesis ({utc_text(batch.eos)}), and this result claims {utc_text(measured_at)}, "
            f"{format_duration((possible - measured_at).total_seconds())} too early. Record it "
            "when the method has run its course.")


def _check_method_time(errors: dict[str, list[str]], name: str, at: datetime, *, batch: Batch,
                       measured_at: datetime | None) -> None:
    """A method time (e.g. when a TLC strip was developed) lies between the end of synthesis
    and the measurement it led to: the validity waits count from it."""
    if at < batch.eos:
        errors[name] = [f"{name} is before the end of synthesis ({batch.eos.isoformat()}); "
                        "a step of the method cannot come before the product existed. Check "
                        "the instrument clock."]
    elif measured_at is not None and timezone.is_aware(measured_at) and at > measured_at:
        errors[name] = [f"{name} is after the measurement ({measured_at.isoformat()}); it is a "
                        "step before the measurement. Check the order of the times."]


def check_open_for(locked: Batch, measured_at: datetime) -> None:
    if locked.expiry and measured_at > locked.expiry and locked.status in (
            BatchStatus.REGISTERED, BatchStatus.IN_QC):
        raise RuleViolation(f"Lot {locked.lot_number} expired at {locked.expiry.isoformat()}; "
                            "results measured after expiry are refused.", code="batch_closed")
