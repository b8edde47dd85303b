"""The production path for real: PostgreSQL, Redis and a Celery worker process.

Selected only when CELERY_BROKER_URL is set (the second pass of .ci/run)."""

import time
from datetime import timedelta

import pytest
from django.db import connection

from batches.models import Batch, Evaluation
from batches.records import results as records
from tests.factories import criterion

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout=60.0, what="the worker to do its work"):
    """The first true value of `predicate`, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout} s for {what}")


def test_the_suite_runs_on_postgresql_here():
    assert connection.vendor == "postgresql"


def test_a_real_worker_computes_expiry_and_judges_a_result_it_was_sent(celery_worker_process,
                                                                      products, operator,
                                                                      analyst, now):
    from tests.factories import make_ac225_batch

    batch = make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                             eos=now - timedelta(minutes=30))
    wait_for(lambda: Batch.objects.get(pk=batch.pk).expiry)
    result = records.result_record(actor=analyst, batch=batch,
                                    criterion=criterion(batch, "ph"),
                                    measured_at=now - timedelta(minutes=5), value=7.0, unit="pH")
    evaluation = wait_for(lambda: Evaluation.objects.filter(result=result).first())
    assert evaluation.verdict == "pass"
    # pH, and the Ac-227 share taken from the source-lot certificate at registration
    wait_for(lambda: Batch.objects.get(pk=batch.pk).criteria_passed == 2)
