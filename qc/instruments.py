"""Instrument qualification: which tests (test codes) an instrument is qualified to report.
A result or an API key outside the qualification is refused (EU GMP Annex 15; 21 CFR
211.160(b)). Qualification changes only through instrument_qualify, with an audit event."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from .audit import audit_record
from .errors import RuleViolation
from .models import Criterion, Instrument
from .roles import Role, has_role
from .text import require_printable


def _known_codes() -> set[str]:
    return set(Criterion.objects.values_list("test_code", flat=True).distinct())


def is_qualified(instrument: Instrument, test_code: str) -> bool:
    return test_code in (instrument.qualified_test_codes or [])


def qualification_text(instrument: Instrument) -> str:
    codes = instrument.qualified_test_codes or []
    return ", ".join(codes) if codes else "no test"


def not_qualified_message(instrument: Instrument, test_codes: Iterable[str]) -> str:
    codes = sorted(set(test_codes))
    return (f"Instrument {instrument.serial} ({instrument.get_kind_display()}) is not qualified "
            f"for {', '.join(codes)}; it is qualified for {qualification_text(instrument)}. "
            "Use a qualified instrument, or have QA qualify this one first.")


def require_qualified(instrument: Instrument, test_codes: Iterable[str]) -> None:
    outside = [code for code in test_codes if not is_qualified(instrument, code)]
    if outside:
        raise RuleViolation(not_qualified_message(instrument, outside),
                            code="instrument_not_qualified")


def instrument_qualify(*, actor, instrument: Instrument, test_codes: Iterable[str],
                       reason: str, actor_name: str = "") -> Instrument:
    """Set the tests an instrument is qualified for (the whole list), with the reason (e.g.
    the qualification report's number). QA or an administrator; None is the command line."""
    if actor is not None and not (has_role(actor, Role.REVIEWER) or has_role(actor, Role.ADMIN)):
        raise RuleViolation("Only QA or an administrator changes an instrument's qualification.",
                            code="forbidden")
    codes = sorted({code.strip() for code in test_codes if code and code.strip()})
    known = _known_codes()
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ValidationError({"test_codes": [
            f"Unknown test code{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; the "
            f"specifications use: {', '.join(sorted(known)) or 'none yet'}."]})
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why: e.g. the qualification report it rests on."]})
    require_printable(areas={"reason": reason})
    with transaction.atomic():
        locked = Instrument.objects.select_for_update().get(pk=instrument.pk)
        before = list(locked.qualified_test_codes or [])
        locked.qualified_test_codes = codes
        locked.save(update_fields=["qualified_test_codes"])
        audit_record(actor=actor, actor_name=actor_name, action="instrument.qualify", obj=locked,
                     before={"qualified_test_codes": before},
                     after={"qualified_test_codes": codes}, reason=reason)
    instrument.qualified_test_codes = codes
    return locked
