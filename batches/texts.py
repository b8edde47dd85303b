"""How times read in messages people get (refusals, blockers, mails): the one format of
qc.formatting.person_time, in the site's zone."""

from datetime import datetime

from django.utils import timezone

from qc.formatting import person_time, person_times_in


def when(moment: datetime | None, *, seconds: bool = False) -> str:
    """'2026-11-22 09:30 CET (08:30 UTC)'."""
    if moment is None:
        return "an unknown time"
    return person_time(moment, timezone.get_current_timezone(), seconds=seconds)


def message(text: str) -> str:
    """A stored message (an evaluation's verdict, an alert) with its times read the one way:
    the messages keep UTC or ISO 8601 times, rewritten here for the site's zone."""
    return person_times_in(text or "", timezone.get_current_timezone())
