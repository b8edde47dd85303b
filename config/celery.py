import os

from celery import Celery

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
    },
)
app.autodiscover_tasks()
