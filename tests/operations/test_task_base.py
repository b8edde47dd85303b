"""The base of every task: a database error is retried while the database answers, and the
task is put back on the queue (rejected with requeue) when it does not. The real worker and
database outage: test_worker_database_outage.py (services)."""

import pytest
from celery.exceptions import Reject, Retry
from django.db import InterfaceError, OperationalError

from config import task_base
from config.celery import app


@app.task(name="tests.operations.database_task", bind=True, max_retries=5)
def database_task(self):
    raise OperationalError("connection failed")


def the_task():
    """The registered task itself (the decorator gives a proxy until the app is finalized)."""
    return app.tasks["tests.operations.database_task"]


@pytest.fixture
def as_worker(settings):
    """The task runs as a worker runs it (not in process), with a short outage pause."""
    settings.DATABASE_OUTAGE_PAUSE_S = 0.01
    task = the_task()
    task.push_request(is_eager=False, id="t-1", retries=0, called_directly=False)
    yield task
    task.pop_request()


def test_every_task_retries_database_errors_by_default():
    assert isinstance(the_task(), task_base.DatabaseTask)
    assert set(task_base.DATABASE_ERRORS) == {OperationalError, InterfaceError}
    from batches.operations.tasks import purge_login_records

    assert purge_login_records.autoretry_for == task_base.DATABASE_ERRORS


def test_with_the_database_unreachable_the_task_is_put_back_not_retried(as_worker,
                                                                       monkeypatch, caplog):
    monkeypatch.setattr(task_base, "database_answers", lambda: False)
    with pytest.raises(Reject) as rejected:
        as_worker.retry(exc=OperationalError("connection refused"), countdown=1)
    assert rejected.value.requeue is True
    assert "database unreachable: tests.operations.database_task[t-1] goes back" in caplog.text


def test_with_the_database_answering_a_database_error_is_retried(as_worker, monkeypatch):
    monkeypatch.setattr(task_base, "database_answers", lambda: True)
    sent = []
    monkeypatch.setattr(as_worker, "apply_async", lambda *args, **kwargs: sent.append(kwargs))
    with pytest.raises(Retry):
        as_worker.retry(exc=OperationalError("deadlock detected"), countdown=1)
    assert len(sent) == 1 and sent[0]["countdown"] == 1  # the retry message, as before


def test_in_process_nothing_is_put_back(monkeypatch):
    """Without a worker (the embedded site) there is no queue to put a task back on: the
    retry goes on as before, without asking the database."""
    def must_not_ask():
        raise AssertionError("asked the database in process")

    monkeypatch.setattr(task_base, "database_answers", must_not_ask)
    task = the_task()
    task.push_request(is_eager=True, id="t-2", retries=0, called_directly=False)
    try:
        with pytest.raises(Retry):
            task.retry(exc=OperationalError("connection refused"), countdown=1)
    finally:
        task.pop_request()


@pytest.mark.django_db
def test_the_database_answers_when_it_is_there():
    assert task_base.database_answers() is True
