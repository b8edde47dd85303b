from django.apps import AppConfig


class QcConfig(AppConfig):
    name = "qc"
    verbose_name = "Quality control: products, specifications, audit trail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import auth_events  # noqa: F401  (login / failed-login audit events)
        from .api_keys import forget_verified_keys
        from .models import Instrument, InstrumentApiKey

        # A remembered key must not outlive a change to it or its instrument in this process.
        for model in (Instrument, InstrumentApiKey):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                signal.connect(forget_verified_keys, sender=model,
                               dispatch_uid=f"forget_verified_keys.{name}.{model.__name__}")
