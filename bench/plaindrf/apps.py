from django.apps import AppConfig


class PlainDrfConfig(AppConfig):
    name = "bench.plaindrf"
    label = "bench_plaindrf"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Bench: plain DRF create"
