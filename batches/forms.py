"""Forms of the lab pages. They parse what people type (times in the site's zone, activities
in any unit); the services decide what is allowed, and their errors come back next to the
field that caused them."""

import math
from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from qc.api_keys import READ_SCOPES
from qc.entered import EnteredNumber, precision_problem, underflows
from qc.models import Criterion, Instrument, Product, Validity
from qc.services import CRITERION_FIELDS
from qc.specification_bounds import earliest_after_problem
from qc.time_range import MAX_DURATION_H, date_range_problem, time_range_problem
from qc.units import (
    ACCEPTED_ACTIVITY_UNITS,
    accepted_units,
    decimal_text,
    input_unit_for,
    parse_activity,
)

from .models import CountingWindow, Elution, SourceLot
from .records.checks import split_censored
from .records.lots import (
    LOT_NUMBER_EXAMPLE,
    LOT_NUMBER_FORMAT,
    LOT_NUMBER_MAX_LENGTH,
    lot_number_problem,
)
from .web import formatting, physics

SOURCE_WINDOW = timedelta(days=2)
MAX_SOURCE_CHOICES = 25


class LocalDateTimeInput(forms.DateTimeInput):
    """A datetime-local input: the browser shows a picker, the value is the site's local time."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs={"step": "1", **(attrs or {})}, format="%Y-%m-%dT%H:%M:%S")


def zone_hint() -> str:
    now = timezone.localtime()
    offset = now.strftime("%z")
    return (f"Local time, {settings.TIME_ZONE} ({now.strftime('%Z')}, UTC{offset[:3]}:"
            f"{offset[3:]}).")


class LocalDateTimeField(forms.DateTimeField):
    widget = LocalDateTimeInput
    input_formats = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S",
                     "%Y-%m-%d %H:%M"]

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is not None:
            problem = time_range_problem(moment, shown=str(value).strip())
            if problem:
                raise forms.ValidationError(problem, code="out_of_range")
        return moment


def duration_field(*, label: str, unit: str = "h", **kwargs) -> forms.FloatField:
    """A duration typed as a number of hours (or minutes), from 0 to ten years: a larger
    number (1e308) is refused, not an OverflowError when it becomes a timedelta."""
    limit = MAX_DURATION_H * (60 if unit == "min" else 1)
    kwargs.setdefault("min_value", 0.0)
    return forms.FloatField(
        label=label, max_value=limit, error_messages={
            "max_value": f"At most {limit:g} {unit} (ten years)."}, **kwargs)


class LabForm(forms.Form):
    """Says the time zone under every local-time field (the offset changes with DST, so it is
    worked out when the form is made)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hint = zone_hint()
        for field in self.fields.values():
            if isinstance(field, LocalDateTimeField):
                field.help_text = f"{field.help_text} {hint}".strip()


# ---------------------------------------------------------------------------- batches


def _source_choices(now):
    elutions = (Elution.objects.filter(eluted_at__gte=now - SOURCE_WINDOW)
                .select_related("generator").order_by("-eluted_at")[:MAX_SOURCE_CHOICES])
    lots = SourceLot.objects.order_by("-reference_time")[:MAX_SOURCE_CHOICES]
    elution_rows = [
        (f"elution:{e.pk}",
         f"{e.generator.serial} ({e.generator.product_nuclide}) eluted "
         f"{formatting.when(e.eluted_at)}: "
         f"{formatting.si_prefixed(physics.elution_activity_now(e, now), 'Bq')} now")
        for e in elutions]
    lot_rows = [
        (f"lot:{lot.pk}",
         f"{lot.lot_number} ({lot.get_route_display()}): Ac-225 "
         f"{formatting.si_prefixed(physics.lot_activity_now(lot, now), 'Bq')} now")
        for lot in lots]
    return [("", "Choose a source"),
            ("Generator elutions (last 48 h)", elution_rows or [("", "none")]),
            ("225Ac lots", lot_rows or [("", "none")])]


class ActivityField(forms.CharField):
    """An activity typed with its unit ('300 MBq', '8,1 mCi' where the site writes decimal
    commas), cleaned to Bq."""

    def clean(self, value) -> float | None:
        text = super().clean(value)  # required, stripped, at most max_length characters
        if text in self.empty_values:
            return None
        try:
            return parse_activity(text, decimal_comma=settings.DECIMAL_COMMA)
        except ValueError as exc:
            raise forms.ValidationError(f"{exc}.") from None


class BatchRegisterForm(LabForm):
    lot_number = forms.CharField(
        max_length=LOT_NUMBER_MAX_LENGTH, label="Lot number",
        help_text=f"Unique per site, as on the label: {LOT_NUMBER_FORMAT}; "
                  f"e.g. {LOT_NUMBER_EXAMPLE}.")
    product = forms.ModelChoiceField(queryset=Product.objects.order_by("name"),
                                     empty_label="Choose a product")
    source = forms.ChoiceField(
        label="Source", help_text="The generator elution or 225Ac lot the batch is made from; "
        "the activity shown is decay-corrected to now.")
    eos = LocalDateTimeField(label="End of synthesis (EOS)")
    calibration_time = LocalDateTimeField(label="Calibration time")
    activity = ActivityField(
        label="Activity at calibration time", max_length=40,
        help_text=f"A number and a unit: {ACCEPTED_ACTIVITY_UNITS}; e.g. 300 MBq or 8.1 mCi.")
    volume_ml = forms.FloatField(label="Volume (mL)", min_value=0.0,
                                 widget=forms.NumberInput(attrs={"step": "any"}))
    daughters_separated_at = LocalDateTimeField(
        label="Daughters last separated", required=False,
        help_text="When the daughters were last separated from the product; empty for EOS.")
    daughters_not_separated = forms.BooleanField(
        label="Daughters not separated", required=False,
        help_text="Tick when the daughters were not separated (in equilibrium at EOS).")

    def __init__(self, *args, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = _source_choices(now or timezone.now())

    def clean_lot_number(self) -> str:
        value = self.cleaned_data["lot_number"].strip()
        problem = lot_number_problem(value)
        if problem:
            raise forms.ValidationError(problem)
        return value

    def clean_source(self):
        kind, _, pk = self.cleaned_data["source"].partition(":")
        model = {"elution": Elution, "lot": SourceLot}.get(kind)
        if model is None or not pk.isdigit():
            raise forms.ValidationError("Choose a generator elution or a 225Ac lot.")
        source = model.objects.filter(pk=int(pk)).first()
        if source is None:
            raise forms.ValidationError("That source no longer exists; choose another.")
        return source

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        source = data["source"]
        return {
            "lot_number": data["lot_number"], "product": data["product"],
            "elution": source if isinstance(source, Elution) else None,
            "source_lot": source if isinstance(source, SourceLot) else None,
            "eos": data["eos"], "calibration_time": data["calibration_time"],
            "activity_bq": data["activity"], "volume_ml": data["volume_ml"],
            "daughters_separated_at": data.get("daughters_separated_at"),
            "daughters_not_separated": bool(data.get("daughters_not_separated")),
        }


# Service field -> form field for batch_register's ValidationError.
REGISTER_FIELDS = {"activity_bq": "activity"}


class BatchFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Lot number contains")
    status = forms.ChoiceField(required=False, label="Status")
    product = forms.ChoiceField(required=False, label="Product")

    def __init__(self, *args, **kwargs):
        from .models import BatchStatus

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "Any status"), *BatchStatus.choices]
        self.fields["product"].choices = [("", "Any product")] + list(
            Product.objects.order_by("name").values_list("code", "name"))


# ---------------------------------------------------------------------------- results


class ResultForm(LabForm):
    """One result for one criterion; its fields follow the criterion (number and unit, or a
    text; the TLC development time when validity depends on daughter regrowth)."""

    value = forms.CharField(label="Value", max_length=40, required=False)
    unit = forms.ChoiceField(label="Unit", required=False)
    value_text = forms.CharField(label="Result", max_length=200, required=False)
    measured_at = LocalDateTimeField(label="Measured at")
    developed_at = LocalDateTimeField(label="TLC developed at", required=False)
    counting_window = forms.ChoiceField(
        label="Counting window", required=False,
        choices=[("", "Choose the window the strip was counted in"), *CountingWindow.choices])
    instrument = forms.ModelChoiceField(
        queryset=Instrument.objects.filter(in_service=True), required=False,
        empty_label="No instrument (manual)", label="Instrument")
    reason = forms.CharField(label="Reason for the correction", required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, criterion: Criterion, correction: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.criterion = criterion
        self.correction = correction
        # Only instruments qualified for this test are offered (qc.instruments).
        qualified = [i.pk for i in Instrument.objects.filter(in_service=True)
                     if criterion.test_code in (i.qualified_test_codes or [])]
        self.fields["instrument"].queryset = Instrument.objects.filter(pk__in=qualified)
        self.fields["instrument"].help_text = (
            f"Instruments qualified for {criterion.test_code}.")
        if criterion.is_text:
            del self.fields["value"], self.fields["unit"]
            self.fields["value_text"].required = True
            self.fields["value_text"].help_text = (
                "Accepted: " + "; ".join(p.strip() for p in criterion.text_requirement.split("|"))
                + ". Otherwise type what was observed.")
        else:
            del self.fields["value_text"]
            canonical = input_unit_for(criterion.unit, criterion.quantity)
            units = accepted_units(canonical)
            self.fields["unit"].choices = [(u, u) for u in units]
            self.fields["unit"].initial = "MBq" if "MBq" in units else (
                "MBq/mL" if "MBq/mL" in units else canonical)
            self.fields["value"].required = True
            self.fields["value"].help_text = (
                "A number; beyond a quantitation limit, the limit with its sign: '< 2.5'.")
            self.fields["value"].widget.attrs.update({"inputmode": "decimal",
                                                      "autocomplete": "off"})
        if criterion.validity == Validity.DAUGHTER_EQUILIBRIUM:
            self.fields["developed_at"].required = True
            self.fields["developed_at"].help_text = (
                f"{criterion.validity_nuclide or 'The daughter'} regrows from this time; the count "
                "is valid only once it is back in equilibrium. " + zone_hint())
        elif criterion.validity == Validity.COUNTING_WINDOW:
            self.fields["developed_at"].help_text = (
                f"Needed for a wide window: the {criterion.validity_nuclide} on the strip renews "
                "from this time. " + zone_hint())
        else:
            del self.fields["developed_at"]
        if criterion.validity == Validity.COUNTING_WINDOW:
            self.fields["counting_window"].required = True
            self.fields["counting_window"].help_text = (
                "The product's own line reads the product alone and is valid at once; a wide "
                f"window also counts {criterion.validity_nuclide}, and is valid only once the "
                f"{criterion.validity_nuclide} on the strip has renewed.")
        else:
            del self.fields["counting_window"]
        if correction:
            self.fields["reason"].required = True
        else:
            del self.fields["reason"]

    def clean_value(self):
        self.censor, text = split_censored(self.cleaned_data.get("value", ""))
        if not text:
            return None
        try:
            decimal = decimal_text(text, decimal_comma=settings.DECIMAL_COMMA)
            number = float(decimal)
            if math.isfinite(number):  # the digits as typed are its precision
                number = EnteredNumber(decimal)
        except ValueError:
            example = "96,1" if settings.DECIMAL_COMMA else "96.1"
            mark = "comma" if settings.DECIMAL_COMMA else "point"
            raise forms.ValidationError(
                f"{text!r} is not a number; type digits with a decimal {mark}, e.g. {example}, "
                "or a result beyond a quantitation limit as '< 2.5' or '> 99'."
            ) from None
        if not math.isfinite(number):
            raise forms.ValidationError("Type a finite number, e.g. 96.1.")
        if problem := precision_problem(decimal):
            raise forms.ValidationError(problem)
        if underflows(decimal, number):
            raise forms.ValidationError(f"{text} is too small to tell from zero; type 0 if it "
                                        "is zero.")
        return number

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        arguments = {"measured_at": data["measured_at"], "instrument": data.get("instrument")}
        if self.criterion.is_text:
            arguments["value_text"] = data["value_text"]
        else:
            arguments["value"], arguments["unit"] = data["value"], data["unit"]
            arguments["censor"] = getattr(self, "censor", "")
        if data.get("developed_at"):
            arguments["method_times"] = {"developed_at": data["developed_at"]}
        if "counting_window" in self.fields:
            arguments["counting_window"] = data.get("counting_window", "")
        return arguments


# Service field -> form field for result_record's ValidationError.
RESULT_FIELDS = {"test_code": None, "supersedes": None}


# ---------------------------------------------------------------------------- signatures


class PasswordField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Your password")
        kwargs.setdefault("help_text", "Re-enter your password to sign (21 CFR 11.200).")
        super().__init__(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                         strip=False, **kwargs)


class SignForm(forms.Form):
    comment = forms.CharField(label="Comment (optional)", required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    password = PasswordField()


class RejectForm(forms.Form):
    reason = forms.CharField(label="Reason for rejection",
                             widget=forms.Textarea(attrs={"rows": 3}))
    password = PasswordField()


class InvalidateForm(forms.Form):
    cause = forms.CharField(label="Assignable cause",
                            help_text="The laboratory error that makes this result invalid.",
                            widget=forms.Textarea(attrs={"rows": 3}))
    password = PasswordField()


# ---------------------------------------------------------------------------- specifications


class DraftForm(forms.Form):
    change_reason = forms.CharField(label="Reason for the new version",
                                    widget=forms.Textarea(attrs={"rows": 2}))


class CriterionForm(forms.ModelForm):
    class Meta:
        model = Criterion
        fields = ["method", *CRITERION_FIELDS]
        widgets = {"name": forms.TextInput(attrs={"size": 50})}

    def clean_earliest_after(self):
        # 999999999 days does not fit the database's duration (a 500) nor EOS + it.
        wait = self.cleaned_data.get("earliest_after")
        if problem := earliest_after_problem(wait, str(self.data.get("earliest_after", ""))):
            raise forms.ValidationError(problem)
        return wait

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        method = data.pop("method", None)
        data["method"] = method.code if method else None
        return data


class ApproveForm(LabForm):
    effective_from = LocalDateTimeField(label="Effective from",
                                        help_text="Batches with EOS at or after this time use the "
                                        "new version.")
    comment = forms.CharField(label="Comment (optional)", required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    password = PasswordField()


# ---------------------------------------------------------------------------- sources


class AtForm(LabForm):
    at = LocalDateTimeField(label="At", required=False)


# ---------------------------------------------------------------------------- instruments


class ApiKeyForm(forms.Form):
    test_codes = forms.MultipleChoiceField(
        label="Test codes it may report", required=False, widget=forms.CheckboxSelectMultiple)
    can_register_batches = forms.BooleanField(
        label="May register batches (synthesis module)", required=False)
    read_scopes = forms.MultipleChoiceField(
        label="May also read", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(scope, f"{label} ({scope})") for scope, label in sorted(READ_SCOPES.items())],
        help_text="Without these, a key reads only the lots and criteria it reports on.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        codes = sorted(set(Criterion.objects.values_list("test_code", flat=True)))
        self.fields["test_codes"].choices = [(c, c) for c in codes]


# ---------------------------------------------------------------------------- audit trail


class AuditFilterForm(forms.Form):
    date_from = forms.DateField(label="From (date)", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To (date, inclusive)", required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    actor = forms.CharField(label="Who (username)", required=False,
                            help_text="Exactly as recorded, e.g. ana or system.")
    action = forms.CharField(label="Action", required=False,
                             help_text="A family (result, signature) or one action "
                             "(batch.release).")
    lot = forms.CharField(label="Lot number", required=False)
    object_type = forms.CharField(label="Object type", required=False,
                                  help_text="e.g. batches.result")

    def clean_date_from(self):
        return self._day_in_range("date_from")

    def clean_date_to(self):
        return self._day_in_range("date_to")

    def _day_in_range(self, name: str):
        # 'To' includes its whole day: the day after 9999-12-31 does not exist.
        day = self.cleaned_data.get(name)
        if day is not None and (problem := date_range_problem(day, self.data.get(name, ""))):
            raise forms.ValidationError(problem, code="out_of_range")
        return day
