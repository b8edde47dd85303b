"""Login security: lockout after repeated failures, idle timeout, password rules, CSRF and
secure cookies; and logins as audit events."""

import time

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from qc.middleware import IDLE_LOGOUT_SESSION_KEY
from qc.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_a_login_and_a_failed_login_are_audit_events(client, analyst):
    assert login(client, "ana", "wrong").status_code == 200
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.actor is None and failed.actor_name == "ana"
    assert failed.after["ip_address"] == "127.0.0.1"
    assert login(client, "ana", PASSWORD).status_code == 302
    assert AuditEvent.objects.get(action="auth.login").actor == analyst
    client.post(reverse("logout"))
    assert AuditEvent.objects.get(action="auth.logout").reason == ""


def test_five_failed_logins_lock_the_account_even_against_the_right_password(
        client, settings, analyst):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(5):
        login(client, "ana", "wrong")
    locked = login(client, "ana", PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    # (axes hears of the fifth failure, and locks, before the audit trail records it)
    assert actions[:6] == ["auth.login_failed"] * 4 + ["auth.lockout", "auth.login_failed"]
    # the attempt with the right password was refused and recorded as a failure too
    assert actions[6:].count("auth.login_failed") == 1
    lockout = AuditEvent.objects.filter(action="auth.lockout").first()
    assert lockout.actor_name == "ana" and "administrator" in lockout.reason
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_the_lockout_is_lifted_by_an_administrator_reset(client, analyst):
    from axes.utils import reset

    for _ in range(5):
        login(client, "ana", "wrong")
    reset(username="ana")
    assert login(client, "ana", PASSWORD).status_code == 302


def test_an_idle_session_is_logged_out_and_says_why(client, settings, analyst):
    assert settings.SESSION_IDLE_TIMEOUT_S == 15 * 60
    client.force_login(analyst)
    assert client.get(reverse("dashboard")).status_code == 200
    session = client.session
    session["last_activity"] = time.time() - settings.SESSION_IDLE_TIMEOUT_S - 5
    session.save()
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    assert client.session.get(IDLE_LOGOUT_SESSION_KEY) is True
    event = AuditEvent.objects.get(action="auth.logout")
    assert event.actor == analyst and event.reason == "idle session timeout"


def test_an_active_session_stays_logged_in(client, settings, analyst):
    client.force_login(analyst)
    session = client.session
    session["last_activity"] = time.time() - settings.SESSION_IDLE_TIMEOUT_S + 60
    session.save()
    assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.parametrize("password, problem", [
    ("short9", "too short"),
    ("password1234", "too common"),
    ("8205717394625", "entirely numeric"),
    ("ana.lyst.example", "too similar"),
])
def test_djangos_password_validators_refuse_weak_passwords(analyst, password, problem):
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user=analyst)
    assert problem in " ".join(refused.value.messages)


def test_a_good_password_passes_the_validators(analyst):
    validate_password("ochre-lantern-quietly-47", user=analyst)


def test_a_login_post_without_the_csrf_token_is_refused(analyst):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "ana", "password": PASSWORD})
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_cookies_are_secure_and_http_only_when_debug_is_off(client, settings, analyst):
    assert settings.DEBUG is False
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SESSION_COOKIE_HTTPONLY
    response = login(client, "ana", PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] is True and cookie["httponly"] is True


def test_cookies_are_not_marked_secure_on_a_debug_site(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import "
         "settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=60,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true",
             "ALPHARELEASE_VAR_DIR": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "False"]
