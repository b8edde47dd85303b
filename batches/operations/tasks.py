"""Periodic housekeeping that touches no GMP record."""

from celery import shared_task
from django.conf import settings


@shared_task(name="batches.operations.tasks.purge_login_records")
def purge_login_records() -> int:
    """django-axes' login and login-failure logs older than LOGIN_RECORDS_RETENTION_DAYS.
    Lockouts (access attempts) stay until an administrator resets them; the audit trail's
    own login events are GMP records and are never purged."""
    from axes.handlers.proxy import AxesProxyHandler

    days = settings.LOGIN_RECORDS_RETENTION_DAYS
    return (AxesProxyHandler.reset_logs(age_days=days)
            + AxesProxyHandler.reset_failure_logs(age_days=days))
