"""Signed checkpoints of the audit chain head, outside the database: a table owner who
rewrites an event and recomputes every later hash and the head fools the chain, not the
checkpoints."""

import base64
import hashlib
import json
import os
import stat

import pytest
from asn1crypto import cms
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from qc.audit import audit_record, event_hash, verify_chain
from qc.audit_checkpoints import (
    FORMAT,
    audit_checkpoint,
    checkpoint_anchors,
    checkpoint_write,
)
from qc.models import AuditChainHead, AuditEvent
from qc.tasks import audit_checkpoint_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site_key(signing_identity):
    return signing_identity


def write_events(n=6):
    with transaction.atomic():
        return [audit_record(actor=None, action="test.event", object_type="test", object_id=i,
                             after={"i": i}) for i in range(n)]


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))


def as_the_table_owner(sql, params=()):
    """Raw SQL as the owner of the tables can run it: triggers switched off first."""
    if connection.vendor != "postgresql":
        raw(sql, params)
        return
    raw("SET CONSTRAINTS ALL IMMEDIATE")
    raw("ALTER TABLE qc_auditevent DISABLE TRIGGER USER")
    try:
        raw(sql, params)
    finally:
        raw("ALTER TABLE qc_auditevent ENABLE TRIGGER USER")


def recompute_every_hash_and_the_head():
    """What an owner does to hide a rewrite: every hash again from the first, and the head."""
    prev, count = "0" * 64, 0
    for event in AuditEvent.objects.order_by("id"):
        event.prev_hash = prev
        new = event_hash(prev, event)
        as_the_table_owner("UPDATE qc_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
                           [prev, new, event.id])
        prev, count = new, count + 1
    AuditChainHead.objects.filter(pk=1).update(last_hash=prev, count=count)


def verify_audit(capsys):
    try:
        call_command("verify_audit")
    except CommandError as broken:
        assert broken.returncode == 1
        return False, capsys.readouterr().out + str(broken)
    return True, capsys.readouterr().out


def test_a_checkpoint_records_the_head_signed_in_a_read_only_file_of_its_own(settings):
    events = write_events()
    path = checkpoint_write(reason="scheduled")
    assert path.parent == settings.AUDIT_CHECKPOINT_DIR
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    document = json.loads(path.read_bytes())
    checkpoint = document["checkpoint"]
    assert checkpoint["format"] == FORMAT and checkpoint["reason"] == "scheduled"
    assert (checkpoint["event_id"], checkpoint["count"], checkpoint["hash"]) == (
        events[-1].id, 6, events[-1].hash)
    signature = cms.ContentInfo.load(base64.b64decode(document["signature"]))
    assert signature["content_type"].native == "signed_data"
    assert signature["content"]["encap_content_info"]["content"].native is None  # detached
    anchors, problems = checkpoint_anchors()
    assert problems == [] and [a.event_id for a in anchors] == [events[-1].id]


def test_verify_audit_checks_the_chain_against_every_checkpoint(capsys):
    write_events(3)
    checkpoint_write(reason="scheduled")
    write_events(2)
    checkpoint_write(reason="release AC-00001")
    intact, out = verify_audit(capsys)
    assert intact, out
    # 3 + 2 events, and each checkpoint's own record in the trail.
    assert out.strip() == "Audit trail intact: 7 events checked against 2 checkpoints."


def test_an_owner_rewrite_with_every_hash_recomputed_is_caught_by_the_checkpoint(capsys):
    events = write_events()
    checkpoint_write(reason="scheduled")
    as_the_table_owner("UPDATE qc_auditevent SET reason = 'never happened' WHERE id = %s",
                       [events[2].id])
    recompute_every_hash_and_the_head()
    assert verify_chain().ok  # the chain alone is fooled
    intact, out = verify_audit(capsys)
    assert not intact
    assert (f"BROKEN at event #{events[-1].id}: its hash differs from the one checkpoint "
            in out)
    assert "rewritten and the hashes recomputed" in out


def test_an_owner_deletion_with_every_hash_recomputed_is_caught_by_the_checkpoint(capsys):
    events = write_events()
    checkpoint_write(reason="scheduled")
    as_the_table_owner("DELETE FROM qc_auditevent WHERE id = %s", [events[1].id])
    recompute_every_hash_and_the_head()
    assert verify_chain().ok
    intact, out = verify_audit(capsys)
    assert not intact and f"BROKEN at event #{events[-1].id}: its hash differs" in out


def test_cutting_the_trail_back_to_before_a_checkpoint_is_caught(capsys):
    events = write_events()
    checkpoint_write(reason="scheduled")
    as_the_table_owner("DELETE FROM qc_auditevent WHERE id >= %s", [events[4].id])
    recompute_every_hash_and_the_head()
    intact, out = verify_audit(capsys)
    assert not intact
    assert f"names event #{events[-1].id}, but the trail ends at event #{events[3].id}" in out


def test_a_changed_checkpoint_file_is_reported(capsys):
    events = write_events()
    path = checkpoint_write(reason="scheduled")
    document = json.loads(path.read_bytes())
    document["checkpoint"]["count"] = 5
    os.chmod(path, 0o644)
    path.write_text(json.dumps(document))
    intact, out = verify_audit(capsys)
    assert not intact
    assert (f"BROKEN checkpoint {path.name}: its signature does not match its content (the "
            "file was changed).") in out
    assert events  # the chain itself is intact: only the checkpoint is reported


def test_each_checkpoint_is_recorded_in_the_trail_with_its_file_and_digest():
    write_events(2)
    path = checkpoint_write(reason="scheduled")
    event = AuditEvent.objects.get(action="audit.checkpoint")
    assert event.object_id == path.name and event.reason == "scheduled"
    assert event.after["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_deleted_checkpoint_is_reported(capsys):
    write_events(2)
    gone = checkpoint_write(reason="scheduled")
    write_events(2)
    checkpoint_write(reason="scheduled")
    os.chmod(gone, 0o644)
    gone.unlink()
    intact, out = verify_audit(capsys)
    assert not intact
    assert f"BROKEN checkpoint {gone.name}: the trail records it" in out
    assert "it was deleted or moved" in out


def test_a_checkpoint_replaced_by_another_signed_one_is_reported(capsys):
    write_events(2)
    first = checkpoint_write(reason="scheduled")
    write_events(2)
    second = checkpoint_write(reason="scheduled")
    os.chmod(first, 0o644)
    first.write_bytes(second.read_bytes())  # a valid signature, but not the file written
    intact, out = verify_audit(capsys)
    assert not intact
    assert f"BROKEN checkpoint {first.name}: it is not the file the trail records" in out


def test_a_checkpoint_signed_with_another_key_is_not_trusted(settings, tmp_path, capsys):
    from batches.pdf.signing import create_signing_identity

    write_events()
    site = settings.SIGNING_P12_PATH
    create_signing_identity(tmp_path / "other.p12", b"other-passphrase",
                            common_name="Someone else", organisation="Elsewhere")
    settings.SIGNING_P12_PATH, settings.SIGNING_P12_PASSPHRASE = (
        str(tmp_path / "other.p12"), "other-passphrase")
    forged = checkpoint_write(reason="forged")
    settings.SIGNING_P12_PATH, settings.SIGNING_P12_PASSPHRASE = site, "test-passphrase"
    intact, out = verify_audit(capsys)
    assert not intact
    assert f"BROKEN checkpoint {forged.name}: it is not signed with the site key." in out


def test_a_checkpoint_is_never_overwritten(monkeypatch):
    from django.utils import timezone

    events = write_events()
    frozen = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: frozen)
    first = checkpoint_write(reason="one")
    head_event = AuditEvent.objects.latest("id").id  # the first checkpoint's own record
    taken = first.parent / first.name.replace(f"-event-{events[-1].id}.",
                                              f"-event-{head_event}.")
    taken.write_bytes(b"a file already there")
    second = checkpoint_write(reason="two")
    assert second.name == taken.name.replace(".json", "-1.json")
    assert taken.read_bytes() == b"a file already there"
    assert {a.name for a in checkpoint_anchors()[0]} == {first.name, second.name}


def test_a_checkpoint_asked_for_inside_a_transaction_is_written_only_when_it_commits(
        settings, django_capture_on_commit_callbacks):
    write_events()
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        audit_record(actor=None, action="test.release", object_type="test", object_id=1)
        assert audit_checkpoint(reason="release") is None
    assert not settings.AUDIT_CHECKPOINT_DIR.exists()  # rolled back: no callback ran
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            released = audit_record(actor=None, action="test.release", object_type="test",
                                    object_id=2)
            audit_checkpoint(reason="release")
    [anchor] = checkpoint_anchors()[0]
    assert anchor.event_id == released.id and anchor.hash == released.hash


def test_the_scheduled_task_writes_a_checkpoint_and_beat_runs_it_hourly():
    from config.celery import app

    write_events()
    name = audit_checkpoint_task.delay().get()
    assert [a.name for a in checkpoint_anchors()[0]] == [name]
    assert app.conf.beat_schedule["audit-checkpoint"] == {
        "task": "qc.tasks.audit_checkpoint_task", "schedule": 3600.0}


def test_without_a_signing_identity_the_task_says_so_and_writes_nothing(settings, tmp_path,
                                                                         caplog):
    write_events()
    settings.SIGNING_P12_PATH = str(tmp_path / "missing.p12")
    assert audit_checkpoint_task.delay().get().startswith("not written: No signing identity")
    assert "audit checkpoint not written" in caplog.text
    assert not settings.AUDIT_CHECKPOINT_DIR.exists()


def test_an_empty_trail_has_nothing_to_checkpoint(settings):
    assert checkpoint_write(reason="scheduled") is None
    assert not settings.AUDIT_CHECKPOINT_DIR.exists()


def test_with_a_tsa_configured_the_checkpoint_signature_carries_a_timestamp(settings, tsa,
                                                                            capsys):
    url, _, requests = tsa
    settings.SIGNING_TSA_URL = url
    write_events()
    path = checkpoint_write(reason="scheduled")
    assert requests[-1] == "application/timestamp-query"
    signature = cms.ContentInfo.load(base64.b64decode(json.loads(path.read_bytes())[
        "signature"]))
    [signer_info] = signature["content"]["signer_infos"]
    assert "signature_time_stamp_token" in [
        attr["type"].native for attr in signer_info["unsigned_attrs"]]
    assert verify_audit(capsys)[0]


@pytest.fixture(scope="module")
def tsa():
    from tests.batches.test_certificate_timestamp import tsa as loopback_tsa

    yield from loopback_tsa.__wrapped__()
