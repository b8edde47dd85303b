from django.apps import AppConfig
from django.conf import settings
from django.core import checks


def site_url_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if settings.SITE_URL:
        return []
    return [checks.Warning(
        "SITE_URL is not set, so release certificates carry no QR code to their verify page.",
        hint="Set SITE_URL to the address people open this site at, e.g. "
             "https://release.example-radiopharmacy.nl.",
        id="batches.W001")]


class BatchesConfig(AppConfig):
    name = "batches"
    verbose_name = "Batches: records and release"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the tasks in every process, so that batches.jobs can queue them by name
        # and, without a broker, run them in process at once.
        checks.register(site_url_check, checks.Tags.compatibility)
        from . import tasks  # noqa: F401
        from .api import tasks as api_tasks  # noqa: F401
