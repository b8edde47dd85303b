"""Anchors of the audit chain outside the database (EU GMP Annex 11 cl. 7 and 9).

The hash chain shows any change made behind the application's back, except one: whoever
owns the tables can rewrite an event, recompute every later hash and the head, and the
chain is whole again. So the head (last event id, event count, hash) is checkpointed on a
schedule and at every release, signed with the site key (a detached CMS signature over the
checkpoint's canonical JSON, RFC 3161-timestamped when SIGNING_TSA_URL is set) and written
as one file per checkpoint, never overwritten, to AUDIT_CHECKPOINT_DIR: a place the
database owner cannot rewrite (another host's mount, WORM or object-lock storage; see
deploy/README.md). verify_audit checks the chain against every checkpoint.

Each checkpoint written is also recorded in the trail (an `audit.checkpoint` event with the
file's name and SHA-256), so a checkpoint deleted or replaced in the store is found too:
verify_audit reports every recorded checkpoint that is missing or changed."""

import asyncio
import base64
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from asn1crypto import cms
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import site_identity
from .audit import Anchor, audit_record
from .canonical import canonical_json
from .models import AuditChainHead, AuditEvent

FORMAT = "alpharelease-audit-checkpoint/1"
RECORDED_ACTION = "audit.checkpoint"
log = logging.getLogger(__name__)


class CheckpointError(RuntimeError):
    pass


@dataclass(frozen=True)
class CheckpointProblem:
    name: str
    problem: str


def checkpoint_dir() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


# ---------------------------------------------------------------- the site key


def _site_signer():
    """The site key's signer, the same one certificates are signed with (qc.signing_key)."""
    from .signing_key import signer_for  # pyHanko loads when a key is needed

    try:
        data = site_identity.pkcs12_bytes()
    except site_identity.SigningIdentityMissing as exc:
        raise CheckpointError(f"{exc} The audit checkpoint cannot be signed.") from None
    try:
        return signer_for(data, settings.SIGNING_P12_PASSPHRASE.encode())
    except ValueError:
        raise CheckpointError(f"The signing identity at {site_identity.source()} cannot be "
                              "opened (wrong SIGNING_P12_PASSPHRASE?).") from None


def _site_certificate():
    """The certificate checkpoints are verified against: the PEM published beside the
    PKCS#12 file (what verifiers get), else the certificate inside it."""
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    published = site_identity.published_certificate_path()
    if published is not None and published.exists():
        _, _, der = pem.unarmor(published.read_bytes())
        return asn1_x509.Certificate.load(der)
    return _site_signer().signing_cert


def _sign(data: bytes) -> bytes:
    timestamper = None
    if settings.SIGNING_TSA_URL:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        timestamper = HTTPTimeStamper(settings.SIGNING_TSA_URL, timeout=10)
    signed = asyncio.run(_site_signer().async_sign_general_data(
        data, "sha256", detached=True, timestamper=timestamper))
    return signed.dump()


def _signature_problem(data: bytes, signature: bytes) -> str:
    """'' when `signature` is the site key's valid detached signature over `data`."""
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
    from pyhanko_certvalidator import ValidationContext

    try:
        content = cms.ContentInfo.load(signature)
        signed_data = content["content"]
        # Only the signature is judged here; a timestamp token stays as evidence of when.
        context = ValidationContext(trust_roots=[_site_certificate()], allow_fetching=False)
        status = asyncio.run(async_validate_detached_cms(
            data, signed_data, signer_validation_context=context,
            ts_validation_context=context))
    except Exception as exc:  # noqa: BLE001 - a damaged signature is a finding, not a crash
        return f"its signature cannot be checked ({exc})"
    if not (status.intact and status.valid):
        return "its signature does not match its content (the file was changed)"
    if not status.trusted:
        return "it is not signed with the site key"
    return ""


# ---------------------------------------------------------------- writing


def _head() -> dict | None:
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None or head.count == 0:
        return None
    # The head and its last event were committed together, so the event is there.
    event_id = AuditEvent.objects.filter(hash=head.last_hash).values_list("id", flat=True).first()
    if event_id is None:
        raise CheckpointError(f"The audit chain head names hash {head.last_hash}, which no "
                              "event has: run manage.py verify_audit.")
    return {"event_id": event_id, "count": head.count, "hash": head.last_hash}


def _write_new(directory: Path, stem: str, content: bytes) -> Path:
    """Write `content` to a new file that did not exist before (O_EXCL), read-only."""
    directory.mkdir(parents=True, exist_ok=True)
    for attempt in range(100):
        path = directory / (f"{stem}.json" if attempt == 0 else f"{stem}-{attempt}.json")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return path
    raise CheckpointError(f"Cannot find a free checkpoint file name {stem}.json in {directory}.")


def checkpoint_write(*, reason: str) -> Path | None:
    """Sign and write a checkpoint of the chain head now; None while the trail is empty."""
    head = _head()
    if head is None:
        return None
    taken_at = timezone.now().astimezone(UTC)
    payload = {"format": FORMAT, "site": settings.SITE_NAME, "reason": reason[:200],
               "taken_at": taken_at, **head}
    data = canonical_json(payload).encode()
    document = {"checkpoint": json.loads(data),
                "signature": base64.b64encode(_sign(data)).decode()}
    stem = f"{taken_at:%Y%m%dT%H%M%S%fZ}-event-{head['event_id']}"
    content = json.dumps(document, indent=1, ensure_ascii=False).encode()
    path = _write_new(checkpoint_dir(), stem, content)
    with transaction.atomic():
        audit_record(actor=None, action=RECORDED_ACTION, object_type="audit.checkpoint",
                     object_id=path.name, reason=reason[:200],
                     after={"file": path.name, "sha256": hashlib.sha256(content).hexdigest(),
                            "event_id": head["event_id"], "count": head["count"]})
    log.info("audit checkpoint %s: %s events, last #%s (%s)", path.name, head["count"],
             head["event_id"], reason)
    return path


def _write_logged(reason: str) -> None:
    try:
        checkpoint_write(reason=reason)
    except CheckpointError as exc:
        log.error("audit checkpoint not written: %s", exc)


def audit_checkpoint(*, reason: str) -> Path | None:
    """Checkpoint the chain head. Inside a transaction (a release) it is written once the
    transaction commits, so it never anchors events that were rolled back; a failure then
    is logged, never undoes the committed change. Outside one it is written now."""
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _write_logged(reason), robust=True)
        return None
    return checkpoint_write(reason=reason)


# ---------------------------------------------------------------- reading


def checkpoint_anchors(directory: Path | None = None
                       ) -> tuple[list[Anchor], list[CheckpointProblem]]:
    """Every checkpoint whose signature holds, as an anchor for verify_chain, and what is
    wrong with each one that does not."""
    directory = directory or checkpoint_dir()
    anchors, problems = [], []
    for name, found in _read_all(directory):
        if isinstance(found, str):
            problems.append(CheckpointProblem(name, found))
        else:
            anchors.append(found)
    return anchors, problems + _recorded_but_not_kept(directory)


def _recorded_but_not_kept(directory: Path) -> list[CheckpointProblem]:
    """Every checkpoint the trail records that the store no longer holds as written."""
    problems = []
    recorded = AuditEvent.objects.filter(action=RECORDED_ACTION).order_by("id").values_list(
        "id", "after")
    for event_id, after in recorded.iterator():
        name = str((after or {}).get("file", ""))
        path = directory / name
        if not name or path.name != name or not path.is_file():
            problems.append(CheckpointProblem(
                name, f"the trail records it (event #{event_id}) but the store does not hold "
                "it: it was deleted or moved; restore it from the store's snapshots"))
        elif hashlib.sha256(path.read_bytes()).hexdigest() != after.get("sha256"):
            problems.append(CheckpointProblem(
                name, f"it is not the file the trail records (event #{event_id}): it was "
                "replaced after it was written"))
    return problems


def _read_all(directory: Path) -> Iterator[tuple[str, Anchor | str]]:
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.json")):
        yield path.name, _read_one(path)


def _read_one(path: Path) -> Anchor | str:
    try:
        document = json.loads(path.read_bytes())
        payload, signature = document["checkpoint"], base64.b64decode(document["signature"])
        if payload.get("format") != FORMAT:
            return f"it is not an {FORMAT} file"
        anchor = Anchor(name=path.name, event_id=int(payload["event_id"]),
                        count=int(payload["count"]), hash=str(payload["hash"]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return f"it cannot be read as a checkpoint ({exc.__class__.__name__}: {exc})"
    problem = _signature_problem(canonical_json(payload).encode(), signature)
    return problem or anchor

