import logging
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from batches.api.demo_keys import demo_instrument_keys
from batches.demo import demo_instrument_serials, demo_logins, seed
from batches.stability.demo import seed_stability
from qc.api_keys import SYSTEM_USERNAME_PREFIX

# Seeding runs about a hundred tasks in process; their INFO lines would bury the logins.
QUIET_LOGGERS = ("celery", "batches", "qc")


class SeedingPasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2-SHA256 at few iterations, only while the demo is seeded: the demo users' five
    passwords (published ones) are set and checked for some twenty seeded e-signatures, and at
    Django's million iterations that alone took a quarter of `make demo`. The site's own
    hasher verifies these hashes (same algorithm, iterations read from the hash) and re-hashes
    each password at full strength on its first login (Django's must_update)."""

    iterations = 1000


SEEDING_HASHERS = [f"{__name__}.SeedingPasswordHasher"]


def _foreign_users() -> list[str]:
    """Accounts the demo did not make: a sign that this database holds real records."""
    demo = {username for username, _, _ in demo_logins()}
    # Each instrument's key acts through a system account named after the instrument.
    demo |= {f"{SYSTEM_USERNAME_PREFIX}{serial}" for serial in demo_instrument_serials()}
    return sorted(set(get_user_model().objects.values_list("username", flat=True)) - demo)


@contextmanager
def quiet_task_logs():
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class Command(BaseCommand):
    help = ("Load the demo site: users per role, three products, sources, batches in several "
            "states. Refuses a database with accounts of its own, and runs with DEBUG off only "
            "with --not-production (demo users have published passwords).")

    def add_arguments(self, parser):
        parser.add_argument("--not-production", action="store_true",
                            help="seed although DEBUG is off (a staging or training site)")

    def handle(self, *args, not_production: bool = False, **options):
        if not settings.DEBUG and not not_production:
            raise CommandError(
                "DEBUG is off: this looks like a production site, and the demo's users have "
                "published passwords. Pass --not-production for a training or staging site.")
        foreign = _foreign_users()
        if foreign:
            raise CommandError(
                f"This database holds accounts the demo did not make ({', '.join(foreign[:5])}"
                f"{', ...' if len(foreign) > 5 else ''}): demo data must not mix with real "
                "records. Use an empty database.")
        with quiet_task_logs(), override_settings(PASSWORD_HASHERS=SEEDING_HASHERS):
            outcome = seed()
            stability = seed_stability(outcome["users"])
            keys = demo_instrument_keys()
        if stability:
            self.stdout.write("Demo stability studies loaded.")
        if outcome["created"]:
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        else:
            self.stdout.write("Demo data already present; left as it is.")
        if keys:
            self.stdout.write("Demo instrument API keys (shown once; send as "
                              "'Authorization: Bearer KEY'):")
            for serial, key in keys:
                self.stdout.write(f"  {serial:<18} {key}")
        else:
            self.stdout.write("Demo instrument API keys were shown when they were made; "
                              "`manage.py instrument_key SERIAL` makes a new one.")
        # Last, so that they are what a newcomer sees above the server's own lines.
        self.stdout.write("")
        if settings.SITE_URL:
            self.stdout.write(self.style.SUCCESS(f"Open {settings.SITE_URL}/ and log in as:"))
        else:
            self.stdout.write(self.style.SUCCESS("Log in as:"))
        self.stdout.write("  username   password             role")
        for username, password, role in demo_logins():
            self.stdout.write(f"  {username:<10} {password:<20} {role}")
