"""Hand-written hot-path queries load the same instances as the ORM, and lock as it does."""

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from batches.models import Batch, IdempotencyRecord
from config.sql import fetch_one, planned_for_values
from qc.models import AuditChainHead
from tests.orm import assert_loaded_alike


@pytest.mark.django_db
def test_a_batch_is_loaded_with_every_field_as_the_orm_loads_it(ac225_batch):
    assert_loaded_alike(fetch_one(Batch, id=ac225_batch.pk), Batch.objects.get(pk=ac225_batch.pk))


@pytest.mark.django_db
def test_a_json_document_is_loaded_as_the_orm_loads_it():
    IdempotencyRecord.objects.create(
        principal="key:ark_00000000", key="k-1", request_sha256="0" * 64, response_status=201,
        response_body={"id": 7, "values": [1.5, None], "lot_number": "AC225-1"})
    found = fetch_one(IdempotencyRecord, principal="key:ark_00000000", key="k-1")
    assert_loaded_alike(found, IdempotencyRecord.objects.get(pk=found.pk))
    assert found.response_body == {"id": 7, "values": [1.5, None], "lot_number": "AC225-1"}


@pytest.mark.django_db
def test_no_matching_row_is_none():
    assert fetch_one(IdempotencyRecord, principal="key:ark_00000000", key="absent") is None
    assert fetch_one(AuditChainHead, id=999) is None


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_row_fetched_for_update_stays_locked_until_the_transaction_ends(ac225_batch):
    held, outcome = threading.Event(), {}

    def other_connection():
        held.wait(10)
        try:
            with transaction.atomic():
                Batch.objects.select_for_update(nowait=True).get(pk=ac225_batch.pk)
            outcome["locked"] = False
        except OperationalError:
            outcome["locked"] = True
        finally:
            connections.close_all()

    with transaction.atomic():
        fetch_one(Batch, id=ac225_batch.pk, for_update=True)
        thread = threading.Thread(target=other_connection)
        thread.start()
        held.set()
        thread.join(20)
    assert outcome == {"locked": True}


def _plan_cache_mode() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return cursor.fetchone()[0]


@pytest.mark.services  # plan_cache_mode is PostgreSQL's
@pytest.mark.django_db(transaction=True)
def test_a_planned_block_asks_for_custom_plans_for_its_own_transaction_only():
    assert _plan_cache_mode() == "auto"
    with planned_for_values():
        assert connection.in_atomic_block
        assert _plan_cache_mode() == "force_custom_plan"
    assert _plan_cache_mode() == "auto"


@pytest.mark.django_db(transaction=True)
def test_a_planned_block_opens_a_transaction_only_on_postgresql():
    # on SQLite a transaction would take the write lock (transaction_mode IMMEDIATE) to read
    with planned_for_values():
        assert connection.in_atomic_block == (connection.vendor == "postgresql")


@pytest.mark.django_db(transaction=True)
def test_a_planned_block_also_decorates_a_function():
    @planned_for_values()
    def inside() -> bool:
        return connection.in_atomic_block

    assert inside() == (connection.vendor == "postgresql")
    assert inside() == (connection.vendor == "postgresql")  # each call enters afresh
