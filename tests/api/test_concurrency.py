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
    monkeypatch.setattr("batches.services._enqueue", lambda *args: None)
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
