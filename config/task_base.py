"""The base of every Celery task: a worker that cannot reach the database puts the task back.

Tasks are acknowledged late (after they ran), so a message is only gone once its task
finished. A task that hits a database error retries with back-off as before, but first asks
whether the database answers at all: when it does not (the database is down, or this
worker's network to it is), the task is not retried, which would spend its retries within a
minute and then drop it, nor held by this worker: it sleeps DATABASE_OUTAGE_PAUSE_S, so this
worker takes no other task meanwhile, and rejects its message with requeue, which returns it
to the broker for whichever worker can reach the database, this one included once it can
again. Nothing is lost and a cut-off worker does not drain the queue."""

import logging
import time

from celery import Task
from celery.exceptions import Reject
from django.db import InterfaceError, OperationalError

log = logging.getLogger("alpharelease.tasks")

DATABASE_ERRORS = (OperationalError, InterfaceError)


def database_answers() -> bool:
    """Whether this process can open a connection to the database and run a query now (a
    connection of its own: the task's may be broken or inside a transaction)."""
    from django.db import connections

    probe = connections.create_connection("default")
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DATABASE_ERRORS:
        return False
    finally:
        try:
            probe.close()
        except DATABASE_ERRORS:
            pass


class DatabaseTask(Task):
    # Every task retries a database error with back-off unless it says otherwise.
    autoretry_for = DATABASE_ERRORS
    retry_backoff = True
    max_retries = 5

    def retry(self, args=None, kwargs=None, exc=None, throw=True, eta=None, countdown=None,
              max_retries=None, **options):
        if (isinstance(exc, DATABASE_ERRORS) and not self.request.is_eager
                and not database_answers()):
            self._put_back(exc)
        return super().retry(args=args, kwargs=kwargs, exc=exc, throw=throw, eta=eta,
                             countdown=countdown, max_retries=max_retries, **options)

    def _put_back(self, exc: BaseException):
        from django.conf import settings

        pause = settings.DATABASE_OUTAGE_PAUSE_S
        log.warning("database unreachable: %s[%s] goes back to the queue in %g s (%s: %s)",
                    self.name, self.request.id, pause, type(exc).__name__,
                    str(exc).strip()[:200], extra={"task_name": self.name,
                                                    "task_id": self.request.id})
        time.sleep(pause)
        raise Reject(f"database unreachable: {type(exc).__name__}", requeue=True) from exc
