from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "batches"
    verbose_name = "Batches: records and release"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the tasks in every process, so that batches.jobs can queue them by name
        # and, without a broker, run them in process at once.
        from . import tasks  # noqa: F401
        from .api import tasks as api_tasks  # noqa: F401
