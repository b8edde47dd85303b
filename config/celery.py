import os

from celery import Celery
from celery.signals import (
    before_task_publish,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Every task: a database error retries, an unreachable database puts the task back (task_base).
app = Celery("alpharelease", task_cls="config.task_base:DatabaseTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_time_limit=120,
    task_soft_time_limit=100,
    broker_connection_retry_on_startup=True,
    timezone="UTC",
    beat_schedule={
        "audit-checkpoint": {"task": "qc.tasks.audit_checkpoint_task", "schedule": 3600.0},
        "purge-idempotency-records": {
            "task": "batches.api.tasks.purge_idempotency_records",
            "schedule": 3600.0,
        },
        "purge-login-records": {
            "task": "batches.operations.tasks.purge_login_records",
            "schedule": 24 * 3600.0,
        },
    },
)
app.autodiscover_tasks()


@app.on_after_configure.connect
def _sweeps(sender, **kwargs) -> None:
    """Beat's sweeps for work a lost message left behind, every SWEEP_INTERVAL_S (read once
    Django's settings are loaded)."""
    from django.conf import settings

    sender.add_periodic_task(float(settings.SWEEP_INTERVAL_S),
                             sender.signature("batches.tasks.sweep_unevaluated"),
                             name="evaluate-unjudged-results")
    sender.add_periodic_task(float(settings.SWEEP_INTERVAL_S),
                             sender.signature("batches.tasks.sweep_certificates"),
                             name="requeue-stuck-certificates")


app.autodiscover_tasks(["batches.api", "batches.operations"])


@worker_init.connect
@worker_process_init.connect
def _warm_up(**kwargs) -> None:
    """Nuclear data, fonts and the signing key, loaded once per worker process rather than
    by the first task (a 213Bi dose loses 1.5 % a minute)."""
    from batches.certificates.identity import warm_up as warm_certificates
    from qc.engine import warm_up as warm_engine

    warm_engine()
    warm_certificates()


@setup_logging.connect
def _django_logging(**kwargs) -> None:
    """Worker and beat log through settings.LOGGING (JSON lines in UTC), not Celery's own
    format: connecting this signal is what stops Celery configuring logging itself."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


def _connect_request_ids() -> None:
    from batches.operations.requests import enter_task, leave_task, stamp_published_task

    before_task_publish.connect(stamp_published_task, weak=False)
    task_prerun.connect(enter_task, weak=False)
    task_postrun.connect(leave_task, weak=False)


_connect_request_ids()
