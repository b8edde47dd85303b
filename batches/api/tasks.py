"""Periodic upkeep of the API's idempotency records."""

from datetime import timedelta

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from ..models import IdempotencyRecord

# Clients may retry for a day (e.g. an instrument PC that was off overnight); after that a
# key is forgotten and the same key may be used again.
RETENTION = timedelta(hours=24)


@shared_task(name="batches.api.tasks.purge_idempotency_records", autoretry_for=(OperationalError,),
             retry_backoff=True, max_retries=5, time_limit=300)
def purge_idempotency_records() -> int:
    cutoff = timezone.now() - RETENTION
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
