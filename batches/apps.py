from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "batches"
    verbose_name = "Batches: records and release"
    default_auto_field = "django.db.models.BigAutoField"
