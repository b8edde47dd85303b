"""seed_demo never mixes demo users (with published passwords) into a real site."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def test_it_refuses_to_seed_with_debug_off_unless_told(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")


def test_it_refuses_a_database_with_accounts_of_its_own(settings, analyst):
    settings.DEBUG = True
    with pytest.raises(CommandError, match=r"accounts the demo did not make \(ana\)"):
        call_command("seed_demo")
    with pytest.raises(CommandError, match="accounts the demo did not make"):
        call_command("seed_demo", not_production=True)


def test_the_demos_own_accounts_do_not_stop_a_second_run():
    from django.contrib.auth import get_user_model

    from batches.demo import demo_instrument_serials, demo_logins
    from batches.management.commands.seed_demo import _foreign_users

    User = get_user_model()
    User.objects.create_user(username=demo_logins()[0][0])
    User.objects.create_user(username=f"instrument.{demo_instrument_serials()[0]}")
    assert _foreign_users() == []
    User.objects.create_user(username="instrument.REAL-HPGE-1")
    assert _foreign_users() == ["instrument.REAL-HPGE-1"]
