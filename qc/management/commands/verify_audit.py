"""Check the whole audit chain: exit 0 when intact, 1 naming the first broken event."""

from django.core.management.base import BaseCommand, CommandError

from qc.audit import verify_chain


class Command(BaseCommand):
    help = ("Recompute every audit event's hash from the first event on; print the number of "
            "events checked and exit 0, or name the first broken event and exit 1.")

    def handle(self, *args, **options):
        report = verify_chain()
        events = f"{report.checked} event{'' if report.checked == 1 else 's'}"
        if report.ok:
            self.stdout.write(f"Audit trail intact: {events} checked.")
            return
        self.stdout.write(f"{events} checked before the break.")
        where = (f"at event #{report.broken_event_id}" if report.broken_event_id is not None
                 else "at its end")
        raise CommandError(f"Audit trail BROKEN {where}: {report.problem}.", returncode=1)
