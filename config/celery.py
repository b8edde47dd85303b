import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("alpharelease")
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
        "evaluate-unjudged-results": {
            "task": "batches.tasks.sweep_unevaluated",
            "schedule": 60.0,
        },
        "requeue-stuck-certificates": {
            "task": "batches.tasks.sweep_certificates",
            "schedule": 60.0,
        },
        "audit-checkpoint": {"task": "qc.tasks.audit_checkpoint_task", "schedule": 3600.0},
        "purge-idempotency-records": {
            "task": "batches.api.tasks.purge_idempotency_records",
            "schedule": 3600.0,
        },
    },
)
app.autodiscover_tasks()
app.autodiscover_tasks(["batches.api"])


@worker_init.connect
@worker_process_init.connect
def _warm_up(**kwargs) -> None:
    """Nuclear data, fonts and the signing key, loaded once per worker process rather than
    by the first task (a 213Bi dose loses 1.5 % a minute)."""
    from batches.certificates.identity import warm_up as warm_certificates
    from qc.engine import warm_up as warm_engine

    warm_engine()
    warm_certificates()
