from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from qc.api_keys import READ_SCOPES, api_key_create, api_key_revoke
from qc.errors import RuleViolation
from qc.models import Instrument, InstrumentApiKey


class Command(BaseCommand):
    help = ("Create an API key for an instrument and print it once (it is stored only as a "
            "hash), or revoke one with --revoke PREFIX.")

    def add_arguments(self, parser):
        parser.add_argument("serial", help="Serial number of the instrument.")
        parser.add_argument("--test-code", action="append", default=[], dest="test_codes",
                            metavar="CODE", help="A test code the key may report (repeatable).")
        parser.add_argument("--can-register-batches", action="store_true",
                            help="Allow the key to register batches (synthesis module).")
        parser.add_argument("--scope", action="append", default=[], dest="read_scopes",
                            choices=sorted(READ_SCOPES), metavar="SCOPE",
                            help="A read scope beyond the lots and criteria the key reports on "
                                 "(repeatable): " + "; ".join(
                                     f"{k}: {v}" for k, v in READ_SCOPES.items()) + ".")
        parser.add_argument("--revoke", metavar="PREFIX",
                            help="Revoke the instrument's key with this prefix instead.")
        parser.add_argument("--reason", default="", help="Why the key is revoked.")
        parser.add_argument("--by", metavar="USERNAME",
                            help="Administrator on whose behalf this is done (audit trail).")

    def handle(self, *args, serial, test_codes, can_register_batches, read_scopes, revoke,
               reason, by, **options):
        try:
            instrument = Instrument.objects.get(serial=serial)
        except Instrument.DoesNotExist:
            known = ", ".join(Instrument.objects.values_list("serial", flat=True)) or "none"
            raise CommandError(f"No instrument with serial {serial}; known: {known}.") from None
        actor = None
        if by:
            actor = get_user_model().objects.filter(username=by).first()
            if actor is None:
                raise CommandError(f"No user {by}.")
        actor_name = "" if actor else "command line (manage.py instrument_key)"
        try:
            if revoke:
                key = InstrumentApiKey.objects.filter(instrument=instrument, prefix=revoke).first()
                if key is None:
                    raise CommandError(f"Instrument {serial} has no key with prefix {revoke}.")
                api_key_revoke(actor=actor, key=key, reason=reason, actor_name=actor_name)
                self.stdout.write(f"Revoked key {revoke} of {serial}.")
                return
            key, plaintext = api_key_create(
                actor=actor, instrument=instrument, test_codes=test_codes,
                can_register_batches=can_register_batches, read_scopes=read_scopes,
                actor_name=actor_name)
        except ValidationError as exc:
            raise CommandError(" ".join(m for ms in exc.message_dict.values() for m in ms)
                               ) from None
        except RuleViolation as exc:
            raise CommandError(exc.message) from None
        scope = ", ".join(key.test_codes) or "no test codes"
        if key.can_register_batches:
            scope += "; may register batches"
        if key.read_scopes:
            scope += "; may read " + ", ".join(READ_SCOPES[s] for s in key.read_scopes)
        self.stdout.write(f"API key for {instrument} ({scope}).")
        self.stdout.write("It is shown only this once; store it in the instrument's settings:")
        self.stdout.write(plaintext)
