"""Check the whole audit trail and its checkpoints: exit 0 when intact, 1 listing every
break."""

from django.core.management.base import BaseCommand, CommandError

from qc.audit import ChainBreak, verify_chain
from qc.audit_checkpoints import checkpoint_anchors, checkpoint_dir


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class Command(BaseCommand):
    help = ("Recompute every audit event's hash from the first event to the last, check the "
            "chain against its head row and against every signed checkpoint in "
            "AUDIT_CHECKPOINT_DIR; print every break as it is found and the number of events "
            "checked; exit 0 when intact, 1 on any break.")

    def handle(self, *args, **options):
        def print_break(found: ChainBreak) -> None:
            where = f"event #{found.event_id}" if found.event_id is not None else "end"
            self.stdout.write(f"BROKEN at {where}: {found.problem}.")

        anchors, problems = checkpoint_anchors()
        for bad in problems:
            self.stdout.write(f"BROKEN checkpoint {bad.name}: {bad.problem}.")
        if not anchors and not problems:
            self.stderr.write(f"Note: no checkpoints in {checkpoint_dir()}; the chain is "
                              "checked against its head row only.")
        report = verify_chain(anchors=anchors, on_break=print_break)
        events = _plural(report.checked, "event")
        against = f" against {_plural(len(anchors), 'checkpoint')}" if anchors else ""
        if report.ok and not problems:
            self.stdout.write(f"Audit trail intact: {events} checked{against}.")
            return
        breaks = report.break_count + len(problems)
        if report.ok:
            raise CommandError(f"Audit trail BROKEN: {_plural(len(problems), 'checkpoint')} "
                               "cannot be trusted, listed above.", returncode=1)
        first = report.first_break
        self.stdout.write(f"{events} checked{against}; "
                          f"{_plural(report.intact_before_first_break, 'event')} "
                          "intact before the first break.")
        where = f"at event #{first.event_id}" if first.event_id is not None else "at its end"
        raise CommandError(f"Audit trail BROKEN {where}: {first.problem}. "
                           f"{_plural(breaks, 'break')} in all, listed above.", returncode=1)
