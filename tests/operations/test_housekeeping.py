"""Login records are purged after LOGIN_RECORDS_RETENTION_DAYS; GMP records never are."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessLog
from django.utils import timezone

from batches.operations.tasks import purge_login_records
from qc.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_login_logs_older_than_the_retention_are_purged_and_lockouts_and_audit_kept(
        client, analyst, settings):
    from tests.conftest import PASSWORD

    settings.LOGIN_RECORDS_RETENTION_DAYS = 30
    assert client.post("/login/", {"username": analyst.username, "password": PASSWORD}
                       ).status_code == 302
    client.post("/login/", {"username": "ghost", "password": "wrong-password-1"})
    old = AccessLog.objects.create(username="old", ip_address="10.0.0.1", user_agent="x",
                                   path_info="/login/")
    AccessLog.objects.filter(pk=old.pk).update(attempt_time=timezone.now() - timedelta(days=31))
    audit_before = AuditEvent.objects.count()
    attempts_before = AccessAttempt.objects.count()

    assert purge_login_records() == 1
    assert not AccessLog.objects.filter(pk=old.pk).exists()
    assert AccessLog.objects.filter(username=analyst.username).exists()  # recent: kept
    assert AccessAttempt.objects.count() == attempts_before  # lockout state: kept
    assert AuditEvent.objects.count() == audit_before


def test_the_purge_runs_daily_from_beat():
    from config.celery import app

    entry = app.conf.beat_schedule["purge-login-records"]
    assert entry["task"] == purge_login_records.name and entry["schedule"] == 86400
    assert purge_login_records.name in app.tasks
