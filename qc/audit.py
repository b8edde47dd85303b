"""The audit trail: every write that matters leaves a hash-chained event in the same
transaction (21 CFR 11.10(e), EU GMP Annex 11 cl. 9)."""

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.sql import bulk_insert, fetch_one, insert_chained

from .canonical import CanonicalValueError, canonical_json, check_text, jsonable, sha256_hex
from .models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64


def _event_content(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "batch_lot": event.batch_lot,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
    }


_TEXT_FIELDS = ("actor_name", "action", "object_type", "object_id", "batch_lot", "reason")


def _checked(event: AuditEvent) -> AuditEvent:
    """Refuse, before anything is stored, text a database would refuse or cut: what is hashed
    must be what reads back."""
    for name in _TEXT_FIELDS:
        value = getattr(event, name)
        check_text(value, f"the audit event's {name}")
        limit = AuditEvent._meta.get_field(name).max_length
        if limit is not None and len(value) > limit:
            raise CanonicalValueError(f"the audit event's {name} is {len(value)} characters "
                                      f"long; at most {limit} can be stored.")
    return event


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    return sha256_hex(prev_hash + canonical_json(_event_content(event)))


@dataclass(frozen=True)
class AuditEntry:
    """What one event says, before it is chained: see audit_record for the fields."""

    action: str
    object_type: str
    object_id: str | int
    before: Any = None
    after: Any = None
    reason: str = ""
    batch_lot: str = ""


def audit_entry(*, action: str, obj=None, object_type: str = "", object_id: str | int = "",
                before: Any = None, after: Any = None, reason: str = "",
                batch_lot: str = "") -> AuditEntry:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    return AuditEntry(action=action, object_type=object_type, object_id=object_id,
                      before=before, after=after, reason=reason, batch_lot=batch_lot)


def audit_record(
    *,
    actor,
    action: str,
    obj=None,
    object_type: str = "",
    object_id: str | int = "",
    before: Any = None,
    after: Any = None,
    reason: str = "",
    batch_lot: str = "",
    actor_name: str = "",
) -> AuditEvent:
    """Append one event to the chain. Must run inside the transaction of the change.

    It locks the single chain-head row until the transaction ends, so every row lock a
    transaction needs must be taken before its first audit_record (or audit_record_many)
    call: a lock taken after it (batch after head, while another writer holds batch then
    waits for head) deadlocks. For the same reason, do every other write and query of the
    transaction that can come first before it: the head is held, and every other writer
    waits, from this call until the commit."""
    entry = audit_entry(action=action, obj=obj, object_type=object_type, object_id=object_id,
                        before=before, after=after, reason=reason, batch_lot=batch_lot)
    return audit_record_many(actor=actor, actor_name=actor_name, entries=[entry])[0]


def audit_record_many(*, actor, entries: Sequence[AuditEntry], actor_name: str = ""
                      ) -> list[AuditEvent]:
    """Append `entries`, in order, as consecutive events of the chain: one head lock and one
    insert however many there are. The same transaction and lock-order rules as audit_record."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    if not entries:
        return []
    user = actor if getattr(actor, "is_authenticated", False) else None
    name = actor_name or (user.get_username() if user else "system")
    at = timezone.now()
    # Everything that does not need the head is prepared before the head is locked.
    events = [_checked(AuditEvent(at=at, actor=user, actor_name=name, action=entry.action,
                                  object_type=entry.object_type, object_id=str(entry.object_id),
                                  batch_lot=entry.batch_lot,
                                  before=jsonable(entry.before, "the audit event's before"),
                                  after=jsonable(entry.after, "the audit event's after"),
                                  reason=entry.reason))
              for entry in entries]
    contents = [canonical_json(_event_content(event)) for event in events]
    # One event (most writes): on PostgreSQL one statement locks the head, hashes on from it,
    # moves it and inserts the event, instead of three that each hold the head for a round
    # trip before the commit.
    if len(events) == 1 and insert_chained(events[0], contents[0], head_model=AuditChainHead,
                                           head_id=1) is not None:
        return events
    head = fetch_one(AuditChainHead, id=1, for_update=True)
    if head is None:
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"last_hash": GENESIS_HASH})
    prev = head.last_hash
    for event, content in zip(events, contents, strict=True):
        event.prev_hash = prev
        event.hash = prev = sha256_hex(prev + content)
    # Ids are drawn in list order under the head lock, so the order by id is the chain's.
    bulk_insert(AuditEvent, events)
    AuditChainHead.objects.filter(pk=head.pk).update(last_hash=prev,
                                                     count=F("count") + len(events))
    return events


@dataclass(frozen=True)
class ChainBreak:
    """One place where the chain does not hold. event_id None: at the chain's end."""

    event_id: int | None
    problem: str


@dataclass(frozen=True)
class Anchor:
    """What the chain head was at a moment, kept outside the database (a checkpoint):
    `count` events, the last with id `event_id` and hash `hash`."""

    name: str
    event_id: int
    count: int
    hash: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    break_count: int = 0
    first_break: ChainBreak | None = None
    intact_before_first_break: int = 0

    @property
    def ok(self) -> bool:
        return self.break_count == 0

    @property
    def broken_event_id(self) -> int | None:
        return self.first_break.event_id if self.first_break else None

    @property
    def problem(self) -> str:
        return self.first_break.problem if self.first_break else ""


CHANGED = "its content no longer matches its hash (the event was changed)"
UNLINKED = ("its link to the previous event is broken (an event before it was changed or "
            "deleted)")


def _events() -> Iterator[AuditEvent]:
    # A server-side cursor on PostgreSQL, fetchmany on SQLite: memory stays flat however
    # long the chain is.
    return AuditEvent.objects.order_by("id").iterator(chunk_size=2000)


def _anchor_problem(anchor: Anchor, event: AuditEvent, position: int) -> str:
    if event.hash != anchor.hash:
        return (f"its hash differs from the one checkpoint {anchor.name} recorded (the event "
                "or one before it was rewritten and the hashes recomputed)")
    if position != anchor.count:
        return (f"it is event number {position} of the chain, but checkpoint {anchor.name} "
                f"recorded it as number {anchor.count} (events before it were added or "
                "removed)")
    return ""


def verify_chain(*, anchors: Iterable[Anchor] = (),
                 on_break: Callable[[ChainBreak], None] | None = None) -> ChainReport:
    """Recompute every hash from the first event to the last and check the chain against
    the head row and against each anchor (checkpoint). Every break is passed to `on_break`
    as it is found, so a caller can list them all while memory stays flat; the report
    counts them and keeps the first."""
    pending = sorted(anchors, key=lambda a: a.event_id)
    breaks = 0
    first: ChainBreak | None = None
    intact_before = 0

    def broken(event_id: int | None, problem: str) -> None:
        nonlocal breaks, first
        breaks += 1
        found = ChainBreak(event_id, problem)
        if first is None:
            first = found
        if on_break is not None:
            on_break(found)

    prev = GENESIS_HASH
    checked = 0
    last_id = 0
    for event in _events():
        checked += 1
        if event.prev_hash != prev:
            broken(event.id, UNLINKED)
        # After a broken link, the event is still checked against its own predecessor
        # hash, so one deletion is one break and later changes are still found.
        if event_hash(event.prev_hash, event) != event.hash:
            broken(event.id, CHANGED)
        while pending and pending[0].event_id < event.id:
            anchor = pending.pop(0)
            broken(anchor.event_id, f"checkpoint {anchor.name} names event #{anchor.event_id}"
                   ", which is no longer in the trail (it was deleted)")
        if pending and pending[0].event_id == event.id:
            problem = _anchor_problem(pending.pop(0), event, checked)
            if problem:
                broken(event.id, problem)
        if first is None:
            intact_before = checked
        prev = event.hash
        last_id = event.id
    for anchor in pending:
        broken(anchor.event_id, f"checkpoint {anchor.name} names event #{anchor.event_id}, "
               f"but the trail ends at event #{last_id} (events at the end were deleted)")
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and (head.last_hash != prev or head.count != checked):
        broken(None, f"the chain head records {head.count} events ending in hash "
               f"{head.last_hash[:12]}..., but the trail holds {checked} ending at event "
               f"#{last_id}: events were deleted (or the head row was changed)")
    return ChainReport(checked, breaks, first, intact_before)
