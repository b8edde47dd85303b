import json

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    requires_system_checks = []  # a calculator: it needs neither the database nor the URLs
    help = ("Project NUCLIDE ACTIVITY to times after the reference (--at 30min --at 6h), or give "
            "the wait after separation until a daughter reaches equilibrium (--equilibrium).")

    def add_arguments(self, parser):
        parser.add_argument("nuclide", help="e.g. Ac-225, Pb-212, 213Bi")
        parser.add_argument("activity", nargs="?", help="e.g. '1 GBq', '27 mCi'")
        parser.add_argument("--at", action="append", default=[], metavar="TIME",
                            help="time after the reference, e.g. 30min, 6h, 10d (repeatable)")
        parser.add_argument("--equilibrium", metavar="DAUGHTER")
        parser.add_argument("--fraction", type=float, default=0.99)
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, nuclide, activity, at, equilibrium, fraction, as_json, **options):
        from qc.decay_report import equilibrium as equilibrium_report
        from qc.decay_report import projection
        from qc.engine import site_engine
        from qc.formatting import format_duration

        try:
            if equilibrium:
                report = equilibrium_report(site_engine(), nuclide=nuclide, daughter=equilibrium,
                                            fraction=fraction)
            else:
                if activity is None:
                    raise ValueError("Give an activity (e.g. '1 GBq') or --equilibrium DAUGHTER.")
                report = projection(site_engine(), nuclide=nuclide, activity=activity, at=at)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if as_json:
            self.stdout.write(json.dumps(report, indent=2))
        elif equilibrium:
            self.stdout.write(
                f"{report['daughter']} reaches {report['fraction']:.1%} of equilibrium with "
                f"{report['nuclide']} {format_duration(report['wait_s'])} after separation.")
        else:
            self._table(report, format_duration)
        self.stderr.write(f"Nuclear data: {report['data_source']}")

    def _table(self, report, format_duration):
        from qc.formatting import format_activity

        members = list(report["activities_Bq"])
        self.stdout.write("time after reference".ljust(22) + "".join(m.rjust(14) for m in members))
        for i, seconds in enumerate(report["times_s"]):
            cells = "".join(format_activity(report["activities_Bq"][m][i]).rjust(14)
                            for m in members)
            self.stdout.write(format_duration(seconds).ljust(22) + cells)
