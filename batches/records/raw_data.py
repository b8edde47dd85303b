"""Raw instrument data, stored once per content under its SHA-256."""

import hashlib

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from qc.audit import audit_record

from ..models import RawDataFile


def file_sha256(upload) -> str:
    """The SHA-256 of an uploaded file's content (worked out once per upload)."""
    cached = getattr(upload, "_sha256", None)
    if cached:
        return cached
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    upload._sha256 = digest.hexdigest()
    return upload._sha256


def _holds(name: str, sha256: str) -> bool:
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as stored:
        for chunk in iter(lambda: stored.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest() == sha256


def raw_data_store(*, upload, actor, batch_lot: str, actor_name: str = "") -> RawDataFile:
    """The stored file for this content, creating it if new. result_record calls it inside
    the transaction of the result that cites it, after the batch lock: if that result is
    refused, the row goes with it; the file stays in storage under its hash and is reused by
    the next upload of the same content."""
    sha256 = file_sha256(upload)
    existing = RawDataFile.objects.filter(sha256=sha256).first()
    if existing is not None:
        return existing
    name = f"raw-data/{sha256[:2]}/{sha256}"
    if default_storage.exists(name) and not _holds(name, sha256):
        # A write cut short (crash, full disk) left a partial file under the name.
        default_storage.delete(name)
    if not default_storage.exists(name):
        saved = default_storage.save(name, upload)
        if saved != name:
            # A concurrent upload of the same content won the name; ours is a duplicate.
            default_storage.delete(saved)
    original_name = (upload.name or "").replace("\x00", "")[:255]
    try:
        with transaction.atomic():
            raw = RawDataFile.objects.create(sha256=sha256, size=upload.size, file=name,
                                             original_name=original_name)
            audit_record(actor=actor, actor_name=actor_name, action="raw_data.store", obj=raw,
                         after={"sha256": sha256, "size": upload.size,
                                "original_name": raw.original_name},
                         batch_lot=batch_lot)
    except IntegrityError:
        return RawDataFile.objects.get(sha256=sha256)
    return raw
