from datetime import timedelta

import pytest
from django.utils import timezone

from batches.api.tasks import purge_idempotency_records
from batches.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def record(key: str, age: timedelta) -> IdempotencyRecord:
    made = IdempotencyRecord.objects.create(principal="key:ark_test", key=key,
                                            request_sha256="0" * 64, response_status=201,
                                            response_body={"id": 1})
    IdempotencyRecord.objects.filter(pk=made.pk).update(created_at=timezone.now() - age)
    return made


def test_keys_are_kept_24_hours_and_then_purged():
    record("fresh", timedelta(hours=1))
    record("day-old", timedelta(hours=23, minutes=50))
    record("stale", timedelta(hours=24, minutes=10))
    assert purge_idempotency_records.delay().get() == 1
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"fresh", "day-old"}


def test_a_purged_key_may_be_used_again(api, ac225_batch, now):
    body = {"lot_number": ac225_batch.lot_number, "test_code": "ph", "value": 7.0,
            "unit": "pH", "measured_at": (now - timedelta(minutes=1)).isoformat()}
    assert api.post("/api/v1/results/", body, key="k-1").status_code == 201
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))
    purge_idempotency_records()
    again = api.post("/api/v1/results/", {**body, "value": 7.2}, key="k-1")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
