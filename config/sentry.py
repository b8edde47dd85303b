"""Optional error reporting to Sentry (or a Sentry-compatible server such as GlitchTip)."""

from django.core.exceptions import ImproperlyConfigured


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float, release: str) -> bool:
    """Start the SDK when a DSN is set; a DSN that does not parse stops start-up."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.utils import BadDsn, Dsn

    try:
        Dsn(dsn)
    except BadDsn as exc:
        raise ImproperlyConfigured(
            f"SENTRY_DSN is not a valid DSN ({exc}); copy it from the project's settings, e.g. "
            "https://PUBLIC_KEY@sentry.example.org/42, or leave it empty.") from None
    sentry_sdk.init(
        dsn=dsn, environment=environment, release=release,
        traces_sample_rate=traces_sample_rate,
        # Patient-adjacent GMP data: no user names, addresses, cookies or request bodies.
        send_default_pii=False, max_request_body_size="never",
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
    return True
