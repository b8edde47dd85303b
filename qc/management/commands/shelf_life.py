import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    requires_system_checks = []  # a calculator: it needs neither the database nor the URLs
    help = ("Shelf-life estimate (ICH Q1E) from a CSV of stability results with the columns "
            "batch,time_h,value: the model chosen (pooled, common_slope, separate), both "
            "poolability p-values and the supported shelf life in hours.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV with the columns batch,time_h,value")
        limit = parser.add_mutually_exclusive_group(required=True)
        limit.add_argument("--lower-limit", type=float, metavar="L",
                           help="acceptance limit the value must stay at or above")
        limit.add_argument("--upper-limit", type=float, metavar="U",
                           help="acceptance limit the value must stay at or below")
        parser.add_argument("--min-batches", type=int, default=3,
                            help="batches the estimate requires (default 3, ICH Q1A/Q1E)")
        parser.add_argument("--extrapolation-factor", type=float, default=2.0,
                            help="ICH Q1E: at most this many times the period covered "
                            "(2 at room temperature, 1.5 refrigerated, 1 for none)")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, file, lower_limit, upper_limit, min_batches, extrapolation_factor,
               as_json, **options):
        from qc.stability import Extrapolation, estimate_shelf_life
        from qc.stability.csv_input import read_points

        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            points = read_points(path.read_text(encoding="utf-8"))
            estimate = estimate_shelf_life(
                points, lower_limit=lower_limit, upper_limit=upper_limit,
                min_batches=min_batches, extrapolation=Extrapolation(factor=extrapolation_factor))
        except (ValueError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: {exc}") from None
        if as_json:
            self.stdout.write(json.dumps({
                "model": estimate.model, "p_slope": estimate.p_slope,
                "p_intercept": estimate.p_intercept, "shelf_life_h": estimate.shelf_life_h}))
            return

        def p(value):
            return "not tested" if value is None else f"{value:.4g}"

        statistical = ("bound stays within the limit" if estimate.statistical_h == float("inf")
                       else f"{estimate.statistical_h:.4g}")
        self.stdout.write(
            f"model: {estimate.model}\n"
            f"p_slope: {p(estimate.p_slope)}\n"
            f"p_intercept: {p(estimate.p_intercept)}\n"
            f"shelf_life_h: {estimate.shelf_life_h:.4g}\n"
            f"  statistical_h: {statistical} (one-sided 95 % bound meets the limit)\n"
            f"  observed_h: {estimate.observed_h:g} (every batch within the limit)\n"
            f"  allowed_h: {estimate.allowed_h:.4g} ({estimate.rule})\n"
            f"  batches: {estimate.batches}, results: {estimate.points}")
