"""Create an administrator (the site's first, or another on an administrator's behalf)
with an audit event: who may grant every role is GMP-relevant from the first account on."""

import getpass
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from qc.accounts import user_create
from qc.errors import RuleViolation
from qc.roles import Role, has_role


class Command(BaseCommand):
    help = ("Create an administrator account (staff, superuser, Administrator role) and record "
            "it in the audit trail. Once an active administrator exists, --by must name one.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--password-stdin", action="store_true",
                            help="Read the password from the first line of standard input "
                                 "(for scripts) instead of prompting twice.")
        parser.add_argument("--by", metavar="USERNAME",
                            help="The administrator on whose behalf this is done (required "
                                 "once an administrator exists).")

    def _password(self, password_stdin: bool) -> str:
        if password_stdin:
            return sys.stdin.readline().rstrip("\n")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        return first

    def handle(self, *args, username, email, first_name, last_name, password_stdin, by,
               **options):
        User = get_user_model()
        actor = None
        if by:
            actor = User.objects.filter(username=by).first()
            if actor is None or not (has_role(actor, Role.ADMIN) or (
                    actor.is_active and actor.is_superuser)):
                raise CommandError(f"{by} is not an active administrator.")
        elif User.objects.filter(is_superuser=True, is_active=True).exists():
            raise CommandError("An administrator exists already: give --by USERNAME of an "
                               "administrator on whose behalf this one is created.")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user {username} exists already.")
        password = self._password(password_stdin)
        candidate = User(username=username, email=email, first_name=first_name,
                         last_name=last_name)
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        try:
            user = user_create(
                actor=actor, actor_name="" if actor else "command line (manage.py create_admin)",
                username=username, password=password, email=email, first_name=first_name,
                last_name=last_name, roles=[Role.ADMIN], is_staff=True, is_superuser=True,
                reason="first administrator" if actor is None else "administrator created "
                "from the command line")
        except RuleViolation as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Administrator {user.get_username()} created and recorded in the "
                          "audit trail.")
