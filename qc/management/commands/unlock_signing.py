"""Lift a user's electronic-signing lock (an administrator's action, audited)."""

import getpass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from qc.signatures import signing_unlock


class Command(BaseCommand):
    help = "Unlock electronic signing for USERNAME after repeated wrong signature passwords."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        try:
            operator = getpass.getuser()
        except (KeyError, OSError):
            operator = "unknown"
        if signing_unlock(actor=None, user=user,
                          actor_name=f"manage.py unlock_signing (os user {operator})"[:150]):
            self.stdout.write(f"Signing unlocked for {username}.")
        else:
            self.stdout.write(f"Signing was not locked for {username}; nothing changed.")
