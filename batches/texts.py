"""How times read in messages people get (refusals, blockers, mails)."""

from datetime import datetime

from django.utils import timezone


def when(moment: datetime | None) -> str:
    if moment is None:
        return "an unknown time"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")
