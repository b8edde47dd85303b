"""Template filters of the lab pages: every time with its zone, every activity with its unit,
every status in words and a symbol as well as a colour."""

from datetime import datetime

from django import template
from django.utils.html import format_html

from batches import texts
from batches.web import formatting
from qc.formatting import significant, utc_iso
from qc.rules import limit_text

register = template.Library()

# symbol, css class; the word comes from the model's choices so it reads the same everywhere
BATCH_STATUS = {
    "registered": ("○", "neutral"),
    "in_qc": ("◔", "info"),
    "reviewed": ("◑", "info"),
    "conditionally_released": ("◕", "warn"),
    "released": ("✔", "ok"),
    "rejected": ("✖", "bad"),
    "post_release_oos": ("⚠", "bad"),
}
VERDICT = {
    "pass": ("✔", "ok", "Pass"),
    "fail": ("✖", "bad", "Fail"),
    "invalid": ("⚠", "warn", "Invalid"),
    "pending": ("…", "neutral", "Pending"),
    "evaluating": ("◷", "info", "Evaluating"),
    "superseded": ("↺", "neutral", "Superseded"),
    "invalidated": ("⊘", "neutral", "Invalidated"),
    "earlier": ("↺", "neutral", "Earlier result"),
}
QC_STATUS = {
    "pending": ("…", "neutral"),
    "passing": ("✔", "ok"),
    "failing": ("✖", "bad"),
    "invalid": ("⚠", "warn"),
}
CERTIFICATE = {
    "pending": ("◷", "info"),
    "issued": ("✔", "ok"),
    "superseded": ("↺", "neutral"),
    "failed": ("✖", "bad"),
}


def _time_html(moment: datetime, seconds: bool) -> str:
    """The one time format (site zone, UTC in brackets), the UTC part quieter on screen."""
    local, _, utc_part = formatting.when(moment, seconds=seconds).partition(" (")
    if not utc_part:
        return format_html('<time datetime="{}">{}</time>', utc_iso(moment), local)
    return format_html('<time datetime="{}"><span class="local">{}</span> '
                       '<span class="utc">({}</span></time>',
                       utc_iso(moment), local, utc_part)


@register.filter
def when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return _time_html(moment, seconds=False)


@register.filter
def when_s(moment: datetime | None) -> str:
    """With seconds, for measurement times."""
    if moment is None:
        return "—"
    return _time_html(moment, seconds=True)


@register.filter
def message(text: str | None) -> str:
    """A stored message with its times read the one way (batches.texts.message)."""
    return texts.message(text or "")


@register.filter
def utc(moment: datetime | None) -> str:
    return utc_iso(moment) if moment else ""


@register.filter
def activity(bq: float | None) -> str:
    return formatting.si_prefixed(bq, "Bq")


@register.filter
def concentration(bq_per_ml: float | None) -> str:
    return formatting.si_prefixed(bq_per_ml, "Bq/mL")


@register.filter
def with_unit(value: float | None, unit: str) -> str:
    return formatting.value_with_unit(value, unit)


@register.filter
def duration(value) -> str:
    return formatting.duration(value)


@register.filter
def duration_s(value) -> str:
    """With seconds under an hour, for countdowns people wait on."""
    return formatting.duration(value, seconds=True)


@register.filter
def seconds_from(moment: datetime | None, now: datetime) -> float | None:
    """Seconds from `now` to `moment` (negative once it has passed), for duration."""
    return (moment - now).total_seconds() if moment is not None else None


@register.filter
def percent(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    return f"{significant(value, digits)} %"


def _badge(symbol: str, css: str, word: str):
    return format_html('<span class="badge {}"><span aria-hidden="true">{}</span> {}</span>',
                       css, symbol, word)


@register.filter
def batch_status(batch) -> str:
    symbol, css = BATCH_STATUS.get(batch.status, ("?", "neutral"))
    return _badge(symbol, css, batch.get_status_display())


@register.simple_tag
def status_badge(status: str, label: str):
    symbol, css = BATCH_STATUS.get(status, ("?", "neutral"))
    return _badge(symbol, css, label)


@register.filter
def qc_status(batch) -> str:
    symbol, css = QC_STATUS.get(batch.qc_status, ("?", "neutral"))
    return _badge(symbol, css, batch.get_qc_status_display())


@register.filter
def verdict(value: str) -> str:
    symbol, css, word = VERDICT.get(value, ("?", "neutral", value))
    return _badge(symbol, css, word)


@register.filter
def certificate_status(certificate) -> str:
    symbol, css = CERTIFICATE.get(certificate.status, ("?", "neutral"))
    return _badge(symbol, css, certificate.get_status_display())


@register.filter
def yesno_badge(value: bool, words: str = "yes,no") -> str:
    yes, no = words.split(",")
    return _badge("✔", "ok", yes) if value else _badge("✖", "bad", no)


@register.filter
def may(user, area: str) -> bool:
    from batches.web.common import may as _may

    return _may(user, area)


@register.simple_tag
def user_roles(user) -> str:
    from qc.roles import role_names

    return ", ".join(role_names(user)) or "no role"


@register.filter
def limit(criterion) -> str:
    return limit_text(criterion)


@register.filter
def json_compact(value) -> str:
    import json

    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


@register.filter
def changes(event) -> list:
    """The event's change, field by field, as the pages show values (web.audit_changes)."""
    from ..web.audit_changes import change_rows

    return change_rows(event.before, event.after)


@register.filter
def person(event) -> str:
    """Who did it: the person's name, with the username or key name that signed in."""
    actor = getattr(event, "actor", None)
    full = actor.get_full_name() if actor is not None else ""
    return f"{full} ({event.actor_name})" if full and full != event.actor_name else (
        event.actor_name)
