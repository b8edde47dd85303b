"""Check the whole audit trail: exit 0 when intact, 1 listing every break."""

from django.core.management.base import BaseCommand, CommandError

from qc.audit import ChainBreak, verify_chain


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class Command(BaseCommand):
    help = ("Recompute every audit event's hash from the first event to the last and check the "
            "chain against its head row; print every break as it is found, the number of "
            "events checked, and exit 0 when intact or 1 on any break.")

    def handle(self, *args, **options):
        def print_break(found: ChainBreak) -> None:
            where = f"event #{found.event_id}" if found.event_id is not None else "end"
            self.stdout.write(f"BROKEN at {where}: {found.problem}.")

        report = verify_chain(on_break=print_break)
        events = _plural(report.checked, "event")
        if report.ok:
            self.stdout.write(f"Audit trail intact: {events} checked.")
            return
        first = report.first_break
        self.stdout.write(f"{events} checked; "
                          f"{_plural(report.intact_before_first_break, 'event')} "
                          "intact before the first break.")
        where = f"at event #{first.event_id}" if first.event_id is not None else "at its end"
        raise CommandError(f"Audit trail BROKEN {where}: {first.problem}. "
                           f"{_plural(report.break_count, 'break')} in all, listed above.",
                           returncode=1)
