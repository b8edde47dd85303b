"""The application runs as a PostgreSQL role that owns no table (deploy/README.md): the whole
flow works under it, and it cannot switch the append-only guards off, truncate, or update or
delete an append-only record."""

import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from qc.audit import verify_chain
from qc.audit_checkpoints import checkpoint_write
from qc.models import AuditEvent
from tests.conftest import PASSWORD
from tests.gmp.flows import conditionally_released

pytestmark = [pytest.mark.django_db, pytest.mark.services]


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))


@pytest.fixture
def in_process(settings):
    """The flow's tasks run here, in this transaction and so under the role (the services
    marker would otherwise send them to a worker)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def as_app_role():
    """A fresh role granted by grant_app_role, taken for the rest of the test's transaction
    (CREATE ROLE and GRANT roll back with it)."""
    assert connection.vendor == "postgresql"
    role = f"alpharelease_app_{uuid.uuid4().hex[:10]}"
    raw(f"CREATE ROLE {role} NOLOGIN")
    call_command("grant_app_role", role)
    raw("SET CONSTRAINTS ALL IMMEDIATE")
    raw(f"SET LOCAL ROLE {role}")
    return role


def test_the_application_works_as_a_role_that_owns_no_table(
        in_process, as_app_role, signing_identity, pb212_batch, analyst, reviewer, qp,
        committed, client):
    released = conditionally_released(pb212_batch, analyst=analyst, reviewer=reviewer, qp=qp,
                                      committed=committed)
    assert released.certificates.get().status == "issued"
    assert client.post(reverse("login"), {"username": "ana", "password": PASSWORD}
                       ).status_code == 302
    assert verify_chain().ok and AuditEvent.objects.filter(action="auth.login").exists()
    assert checkpoint_write(reason="release").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == as_app_role


@pytest.mark.parametrize("sql, refusal", [
    ("ALTER TABLE qc_auditevent DISABLE TRIGGER USER", "must be owner"),
    ("DROP TRIGGER qc_auditevent_append_only ON qc_auditevent", "must be owner"),
    ("TRUNCATE qc_auditevent", "permission denied"),
    ("TRUNCATE batches_result CASCADE", "permission denied"),
    ("UPDATE qc_auditevent SET reason = 'x'", "permission denied"),
    ("DELETE FROM qc_signature", "permission denied"),
    ("DELETE FROM batches_evaluation", "permission denied"),
    ("DELETE FROM qc_auditchainhead", "permission denied"),
    ("SET session_replication_role = replica", "permission denied"),
    ("DELETE FROM django_migrations", "permission denied"),
])
def test_the_application_role_cannot_get_past_the_guards(as_app_role, sql, refusal):
    with pytest.raises(DatabaseError, match=refusal), transaction.atomic():
        raw(sql)


def test_grant_app_role_refuses_the_owner_itself():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    with pytest.raises(CommandError, match="superuser|owner of the tables"):
        call_command("grant_app_role", owner)
