"""Logins, logouts, failed logins and lockouts are audit events too (EU GMP Annex 11
cl. 12; 21 CFR 11.300(d))."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from .audit import audit_record
from .client_address import client_ip


def _client(request) -> dict[str, str]:
    if request is None:
        return {}
    return {"ip_address": client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200]}


@receiver(user_logged_in)
def _on_login(sender, request, user, **kwargs):
    with transaction.atomic():
        audit_record(actor=user, action="auth.login", obj=user, object_type="auth.user",
                     after=_client(request))


@receiver(user_logged_out)
def _on_logout(sender, request, user, **kwargs):
    if user is not None:
        idle = bool(getattr(request, "idle_logged_out", False))
        with transaction.atomic():
            audit_record(actor=user, action="auth.logout", obj=user, object_type="auth.user",
                         after=_client(request),
                         reason="idle session timeout" if idle else "")


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    with transaction.atomic():
        audit_record(
            actor=None, actor_name=username or "anonymous", action="auth.login_failed",
            object_type="auth.user", object_id=username, after=_client(request),
        )


@receiver(user_locked_out)
def _on_locked_out(sender, request, username, ip_address, **kwargs):
    username = str(username or "")[:150]
    with transaction.atomic():
        audit_record(
            actor=None, actor_name=username or "anonymous", action="auth.lockout",
            object_type="auth.user", object_id=username,
            after={"ip_address": ip_address or ""},
            reason="too many failed logins; an administrator must reset the lockout",
        )
