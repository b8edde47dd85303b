"""Reading the audit trail: filtered lists for the per-batch and site-wide pages, and CSV
export. QA and QPs see it (can_view_audit_trail)."""

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import AuditEvent
from .roles import Role, has_role

CSV_COLUMNS = ("id", "at_utc", "at_local", "actor", "action", "object_type", "object_id",
               "batch_lot", "before", "after", "reason", "prev_hash", "hash")


def can_view_audit_trail(user) -> bool:
    return has_role(user, Role.REVIEWER) or has_role(user, Role.QP)


def _start(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def audit_events(*, user=None, object_type: str | None = None, action: str | None = None,
                 since: dt.date | dt.datetime | None = None,
                 until: dt.date | dt.datetime | None = None,
                 batch_lot: str | None = None) -> QuerySet[AuditEvent]:
    """Events, newest first.

    user: a User (their events) or a name (matched against the recorded actor name, which
    also finds failed logins and instrument keys). action: an exact action such as
    "batch.release", or a family without a dot such as "signature". since/until: aware
    datetimes, or dates in the site's zone (until a date includes that whole day)."""
    events = AuditEvent.objects.select_related("actor")
    if user is not None and user != "":
        if isinstance(user, str):
            events = events.filter(actor_name=user)
        else:
            events = events.filter(actor=user)
    if object_type:
        events = events.filter(object_type=object_type)
    if action:
        events = events.filter(action=action) if "." in action else events.filter(
            Q(action=action) | Q(action__startswith=f"{action}."))
    if since is not None:
        events = events.filter(at__gte=_start(since))
    if until is not None:
        if isinstance(until, dt.datetime):
            events = events.filter(at__lte=until)
        else:
            events = events.filter(at__lt=_start(until + dt.timedelta(days=1)))
    if batch_lot:
        events = events.filter(batch_lot=batch_lot)
    return events.order_by("-id")


class _Line:
    def write(self, value: str) -> str:
        return value


def _cell(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet (CSV injection).
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _json(value) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


def audit_events_csv(queryset: Iterable[AuditEvent]) -> Iterator[str]:
    """The header and one line per event, for a StreamingHttpResponse. Times in UTC and in
    the site's zone; the hashes let a reader check the export against the chain."""
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_COLUMNS)
    rows = queryset.iterator(chunk_size=2000) if isinstance(queryset, QuerySet) else queryset
    for event in rows:
        yield writer.writerow([
            event.pk,
            event.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            timezone.localtime(event.at).isoformat(),
            _cell(event.actor_name), event.action, event.object_type, _cell(event.object_id),
            _cell(event.batch_lot), _json(event.before), _json(event.after),
            _cell(event.reason), event.prev_hash, event.hash,
        ])
