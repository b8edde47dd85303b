"""The form that drafts a stability protocol: the storage condition and worst case, the time
points (rows, each with its tolerance) and, across them, the criteria of the specification
version that a study can test (columns): a tick is a planned test. It checks what it can
see (numbers, order, a tick for every time point and criterion); the service decides the
rest and its errors come back next to the fields."""

from datetime import timedelta

from django import forms
from django.conf import settings

from qc.formatting import compact_value_text
from qc.models import Criterion, Specification
from qc.stability.models import Orientation, StabilityProtocol
from qc.stability.plan import protocol_plan
from qc.units import parse_activity

from ..forms import ActivityField, duration_field

ROWS = 10


def studiable_criteria(specification: Specification) -> list[Criterion]:
    """The criteria a stability study tests: judged as measured, not by decay physics."""
    return [c for c in specification.criteria.order_by("position", "id")
            if c.quantity == "plain" and c.judged_at == "measured"]


class ConcentrationField(ActivityField):
    """An activity per mL typed with its unit ('2.8 MBq/mL' or '2.8 MBq'), cleaned to Bq/mL."""

    def clean(self, value) -> float | None:
        text = forms.CharField.clean(self, value)
        if text in self.empty_values:
            return None
        text = text.strip()
        for suffix in ("/mL", "/ml", "per mL", "per ml"):
            if text.endswith(suffix):
                text = text[: -len(suffix)].strip()
        try:
            value = parse_activity(text, decimal_comma=settings.DECIMAL_COMMA)
        except ValueError as exc:
            raise forms.ValidationError(f"{exc} per mL.") from None
        if value <= 0:
            raise forms.ValidationError("Give the worst-case concentration the study covers, "
                                        "> 0 (e.g. 2.8 MBq/mL).")
        return value


def _hours_text(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:g}"


class ProtocolDraftForm(forms.Form):
    # Absolute zero below; above 100 °C an aqueous solution is not stored but boiled.
    storage_temperature_c = forms.FloatField(
        label="Storage temperature (°C)", help_text="As on the label, e.g. 22 or 5.",
        min_value=-273.15, max_value=100.0)
    container = forms.CharField(
        label="Container closure system", max_length=200,
        help_text="As marketed, e.g. 10 mL type I glass vial, bromobutyl stopper.")
    orientation = forms.ChoiceField(choices=Orientation.choices, initial=Orientation.INVERTED,
                                    help_text="Inverted puts the solution on the closure.")
    concentration = ConcentrationField(
        label="Worst-case activity concentration at EOS", max_length=40,
        help_text="The highest the study covers (radiolysis grows with it), per mL: e.g. "
                  "2.8 MBq/mL.")
    batches_required = forms.IntegerField(
        label="Batches required", min_value=1, max_value=100, initial=3,
        help_text="For the shelf-life estimate; ICH Q1A(R2) asks for three.")
    extrapolation_factor = forms.FloatField(
        label="Extrapolation allowed (× the period covered)", min_value=1.0, max_value=2.0,
        initial=2.0,
        help_text="ICH Q1E: up to 2 at room temperature, 1.5 refrigerated, 1 for none.")
    change_reason = forms.CharField(label="Reason for this protocol version",
                                    widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, specification: Specification,
                 base: StabilityProtocol | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = studiable_criteria(specification)
        for i in range(ROWS):
            # min_value=None: a negative time point has its own message in clean().
            self.fields[f"tp_{i}_hours"] = duration_field(
                label=f"Time point {i + 1} (h after EOS)", required=False, min_value=None,
                widget=forms.NumberInput(attrs={"step": "any", "min": "0"}))
            self.fields[f"tp_{i}_tolerance_min"] = duration_field(
                label=f"Tolerance of time point {i + 1} (± min)", unit="min", required=False,
                min_value=None, widget=forms.NumberInput(attrs={"step": "any", "min": "0"}))
            for c in self.criteria:
                self.fields[f"plan_{i}_{c.test_code}"] = forms.BooleanField(
                    label=f"{c.name} at time point {i + 1}", required=False)
        for c in self.criteria:
            self.fields[f"note_{c.test_code}"] = forms.CharField(
                label=f"How {c.name} is tested", max_length=200, required=False)
        if base is not None and not self.is_bound:
            self._start_from(base)

    def _start_from(self, base: StabilityProtocol) -> None:
        """A new version starts as a copy of the last one (matched by test code)."""
        plan = protocol_plan(base)
        codes = {c.test_code for c in self.criteria}
        self.initial.update({
            "storage_temperature_c": base.storage_temperature_c, "container": base.container,
            "orientation": base.orientation,
            # as a person types it: 2.8e6 -> '2.8 MBq/mL' (up to 6 figures kept)
            "concentration": compact_value_text(base.concentration_bq_per_ml, "Bq/mL", 6),
            "batches_required": base.batches_required,
            "extrapolation_factor": base.extrapolation_factor})
        for sc in plan.criteria:
            if sc.criterion.test_code in codes:
                self.initial[f"note_{sc.criterion.test_code}"] = sc.note
        for i, point in enumerate(plan.time_points[:ROWS]):
            self.initial[f"tp_{i}_hours"] = _hours_text(point.after_eos)
            self.initial[f"tp_{i}_tolerance_min"] = f"{point.tolerance.total_seconds() / 60:g}"
            for c in plan.tests_at(point):
                if c.test_code in codes:
                    self.initial[f"plan_{i}_{c.test_code}"] = True

    def rows(self) -> list[dict]:
        """The matrix for the template: each time-point row with its fields and ticks."""
        return [{"number": i + 1, "hours": self[f"tp_{i}_hours"],
                 "tolerance": self[f"tp_{i}_tolerance_min"],
                 "ticks": [self[f"plan_{i}_{c.test_code}"] for c in self.criteria]}
                for i in range(ROWS)]

    def notes(self) -> list:
        return [self[f"note_{c.test_code}"] for c in self.criteria]

    def clean(self):
        data = super().clean()
        points, schedule = [], {c.test_code: [] for c in self.criteria}
        for i in range(ROWS):
            hours, tolerance = data.get(f"tp_{i}_hours"), data.get(f"tp_{i}_tolerance_min")
            ticked = [c.test_code for c in self.criteria if data.get(f"plan_{i}_{c.test_code}")]
            if hours is None:
                if (tolerance is not None or ticked) and f"tp_{i}_hours" not in self.errors:
                    self.add_error(f"tp_{i}_hours", f"Give time point {i + 1} in hours after "
                                   "EOS, or clear its row.")
                continue
            if hours < 0:
                self.add_error(f"tp_{i}_hours", f"Time point {i + 1} is before EOS; time points "
                               "count from EOS (0 h or later).")
                continue
            if f"tp_{i}_tolerance_min" in self.errors:
                continue
            if tolerance is None or tolerance < 0:
                self.add_error(f"tp_{i}_tolerance_min", f"Give the tolerance of time point "
                               f"{i + 1} in minutes (0 or more), e.g. 10.")
                continue
            if points and hours <= points[-1][0].total_seconds() / 3600:
                self.add_error(f"tp_{i}_hours", f"Time point {i + 1} ({hours:g} h) must come "
                               f"after the one above it ({_hours_text(points[-1][0])} h): "
                               "list time points in increasing order.")
                continue
            if not ticked:
                self.add_error(f"tp_{i}_hours", f"Nothing is tested at {hours:g} h; tick the "
                               "criteria tested there, or clear the row.")
                continue
            after = timedelta(hours=hours)
            points.append((after, timedelta(minutes=tolerance)))
            for code in ticked:
                schedule[code].append(after)
        if len(points) < 2 and not self.errors:
            self.add_error(None, "Give at least two time points after EOS (e.g. 0 h and the "
                           "intended shelf life): a trend needs two.")
        schedule = {code: at for code, at in schedule.items() if at}
        if not schedule and not self.errors:
            self.add_error(None, "Tick the criteria the study tests at each time point: a "
                           "protocol without criteria tests nothing.")
        data["time_points"] = points
        data["schedule"] = schedule
        data["criteria"] = [(c.test_code, data.get(f"note_{c.test_code}") or "")
                            for c in self.criteria if c.test_code in schedule]
        return data
