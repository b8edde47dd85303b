from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from qc.errors import RuleViolation
from qc.instruments import instrument_qualify, qualification_text
from qc.models import Instrument


class Command(BaseCommand):
    help = ("Set the tests (test codes) an instrument is qualified to report, with the reason "
            "(e.g. the qualification report); recorded in the audit trail. Results and API keys "
            "for other tests are refused.")

    def add_arguments(self, parser):
        parser.add_argument("serial", help="Serial number of the instrument.")
        parser.add_argument("--test-code", action="append", default=[], dest="test_codes",
                            metavar="CODE", help="A test code it is qualified for (repeatable; "
                            "the list replaces the current one).")
        parser.add_argument("--reason", required=True,
                            help="Why: e.g. the qualification report it rests on.")
        parser.add_argument("--by", metavar="USERNAME",
                            help="QA reviewer or administrator on whose behalf (audit trail).")

    def handle(self, *args, serial, test_codes, reason, by, **options):
        instrument = Instrument.objects.filter(serial=serial).first()
        if instrument is None:
            known = ", ".join(Instrument.objects.values_list("serial", flat=True)) or "none"
            raise CommandError(f"No instrument with serial {serial}; known: {known}.")
        actor = None
        if by:
            actor = get_user_model().objects.filter(username=by).first()
            if actor is None:
                raise CommandError(f"No user {by}.")
        try:
            instrument = instrument_qualify(
                actor=actor, instrument=instrument, test_codes=test_codes, reason=reason,
                actor_name="" if actor else "command line (manage.py instrument_qualify)")
        except ValidationError as exc:
            raise CommandError(" ".join(m for ms in exc.message_dict.values() for m in ms)
                               ) from None
        except RuleViolation as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{instrument} is qualified for {qualification_text(instrument)}.")
