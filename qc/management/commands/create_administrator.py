"""manage.py create_administrator USERNAME: the first administrator, with an audit event."""

import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from qc.accounts import administrator_create


class Command(BaseCommand):
    help = ("Create an administrator (superuser with the Administrator role) and record it in "
            "the audit trail. The password is asked twice, or read from "
            "ALPHARELEASE_ADMIN_PASSWORD for unattended set-up.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument("--full-name", required=True)

    def handle(self, *args, username: str, email: str, full_name: str, **options):
        password = os.environ.get("ALPHARELEASE_ADMIN_PASSWORD")
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ.")
        try:
            user = administrator_create(
                username=username, email=email, full_name=full_name, password=password,
                created_by=f"manage.py create_administrator (OS user {getpass.getuser()})")
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from None
        except ValueError as exc:
            raise CommandError(str(exc).capitalize() + ".") from None
        self.stdout.write(self.style.SUCCESS(f"Administrator {user.username} created."))
