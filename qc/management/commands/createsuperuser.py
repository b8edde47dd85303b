"""Django's createsuperuser, refused: an administrator made behind the audit trail's back
could grant any role unseen. create_admin does the same with an audit event."""

import sys

from django.core.management.base import BaseCommand, CommandError

REFUSAL = ("createsuperuser is disabled on this site because it leaves no audit event; use "
           "`python manage.py create_admin USERNAME --email ADDRESS`, which creates the "
           "administrator and records it in the audit trail.")


class Command(BaseCommand):
    help = "Refused: use create_admin, which records the new administrator in the audit trail."

    def add_arguments(self, parser):
        parser.add_argument("--username")
        parser.add_argument("--email")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")
        parser.add_argument("--database")

    def run_from_argv(self, argv):
        # Whatever options were given, the answer is the same (and exit status 1).
        self.stderr.write(f"CommandError: {REFUSAL}")
        sys.exit(1)

    def handle(self, *args, **options):
        raise CommandError(REFUSAL)
