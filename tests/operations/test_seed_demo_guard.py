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
