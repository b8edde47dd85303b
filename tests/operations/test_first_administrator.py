"""The first administrator comes from a command, and the audit trail records it."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from qc.models import AuditEvent
from qc.roles import Role, has_role

pytestmark = pytest.mark.django_db


def test_it_creates_an_administrator_and_records_who_ran_it(monkeypatch):
    monkeypatch.setenv("ALPHARELEASE_ADMIN_PASSWORD", "a-long-unusual-passphrase-42")
    call_command("create_administrator", "ada", email="ada@example.org", full_name="Ada Admin")
    user = get_user_model().objects.get(username="ada")
    assert user.is_superuser and user.check_password("a-long-unusual-passphrase-42")
    assert has_role(user, Role.ADMIN) and user.get_full_name() == "Ada Admin"
    event = AuditEvent.objects.get(action="user.create_administrator")
    assert event.object_id == str(user.pk)
    assert event.actor_name.startswith("manage.py create_administrator (OS user ")


def test_it_refuses_a_weak_password_and_creates_nothing(monkeypatch):
    monkeypatch.setenv("ALPHARELEASE_ADMIN_PASSWORD", "password")
    with pytest.raises(CommandError, match="Password refused"):
        call_command("create_administrator", "ada", email="a@example.org", full_name="Ada A")
    assert not get_user_model().objects.exists()
    assert not AuditEvent.objects.filter(action="user.create_administrator").exists()


def test_it_refuses_a_username_that_exists(monkeypatch, analyst):
    monkeypatch.setenv("ALPHARELEASE_ADMIN_PASSWORD", "a-long-unusual-passphrase-42")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_administrator", analyst.username, email="a@example.org",
                     full_name="Ana Again")
