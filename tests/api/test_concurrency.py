"""Two requests with the same Idempotency-Key at the same instant: one result, and both
callers get its answer. Real threads on real connections, so the unique constraint (not a
Python check) decides."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient

from batches.models import IdempotencyRecord, Result

# Threads need a database that takes concurrent connections: PostgreSQL (the `services` pass
# of .ci/run); the in-memory SQLite test database locks whole tables instead.
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_concurrent_requests_with_the_same_key_store_one_result(tlc_key, ac225_batch, now,
                                                                monkeypatch):
    # Evaluation is not under test: queue it nowhere so only the recording requests race.
    monkeypatch.setattr("batches.jobs.send", lambda *args: None)
    body = {"lot_number": ac225_batch.lot_number, "test_code": "ph", "value": 7.0,
            "unit": "pH", "measured_at": (now - timedelta(minutes=1)).isoformat()}
    key = str(uuid.uuid4())
    start = threading.Barrier(4)
    answers = []

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tlc_key[1]}")
        start.wait()
        try:
            answers.append(client.post("/api/v1/results/", body, format="json",
                                       HTTP_IDEMPOTENCY_KEY=key))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["id"] for a in answers}) == 1
    assert Result.objects.filter(channel="api").count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_bulk_recordings_share_the_batch_lock_that_a_disposition_must_wait_for(
        ac225_batch, pb212_batch, now):
    from django.db import OperationalError, connections, transaction

    from batches.models import Batch, BatchStatus
    from batches.records.results import _lock_for_results

    Batch.objects.filter(pk__in=[ac225_batch.pk, pb212_batch.pk]).update(
        status=BatchStatus.IN_QC)
    batches = set(Batch.objects.filter(pk__in=[ac225_batch.pk, pb212_batch.pk]))
    held, outcome = threading.Event(), {}

    def other_connection():
        try:
            with transaction.atomic():
                held.wait(10)
                # A second recording takes the same lock at once ...
                outcome["shared"] = sorted(_lock_for_results(set(Batch.objects.filter(
                    pk__in=[ac225_batch.pk, pb212_batch.pk]))))
            with transaction.atomic():
                # ... while a disposition, which locks the batch for update, cannot.
                Batch.objects.select_for_update(nowait=True).get(pk=ac225_batch.pk)
        except OperationalError:
            outcome["update_refused"] = True
        finally:
            connections.close_all()

    with transaction.atomic():
        locked = _lock_for_results(batches)
        assert sorted(locked) == sorted([ac225_batch.pk, pb212_batch.pk])
        thread = threading.Thread(target=other_connection)
        thread.start()
        held.set()
        thread.join(20)
    assert outcome == {"shared": sorted(locked), "update_refused": True}


def test_a_batch_still_registered_is_locked_for_update(ac225_batch):
    from django.db import OperationalError, connections, transaction

    from batches.records.results import _lock_for_results

    outcome = {}

    def other_connection():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '200ms'")
            with transaction.atomic():
                _lock_for_results({ac225_batch})
        except OperationalError:
            outcome["waited"] = True
        finally:
            connections.close_all()

    with transaction.atomic():
        _lock_for_results({ac225_batch})
        thread = threading.Thread(target=other_connection)
        thread.start()
        thread.join(20)
    assert outcome == {"waited": True}

