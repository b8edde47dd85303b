"""Recording an elution: the operator's form, with the ingrowth forecast beside it (updated
as the generator, time and activity are typed) and a warning when the activity is past it."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from qc.errors import RuleViolation
from qc.roles import Role
from qc.units import ACCEPTED_ACTIVITY_UNITS

from ..forms import ActivityField, LabForm, LocalDateTimeField
from ..models import Generator
from ..records.elutions import ABOVE_FORECAST, elution_forecast, elution_record
from . import formatting
from .common import add_service_errors, role_required


def _generators():
    return Generator.objects.filter(expires_on__gte=timezone.localdate()).order_by("serial")


class ElutionForm(LabForm):
    generator = forms.ModelChoiceField(queryset=Generator.objects.none(),
                                       empty_label="Choose a generator")
    eluted_at = LocalDateTimeField(label="Eluted at")
    activity = ActivityField(
        label="Eluate activity at elution", max_length=40,
        help_text=f"As measured in the dose calibrator: a number and a unit "
        f"({ACCEPTED_ACTIVITY_UNITS}), e.g. 412 MBq.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    volume_ml = forms.FloatField(label="Eluate volume (mL)", min_value=0.0,
                                 widget=forms.NumberInput(attrs={"step": "any"}))
    above_forecast_confirmed = forms.BooleanField(
        required=False, label="The activity is above the ingrowth forecast and I have checked "
        "the reading and the time")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["generator"].queryset = _generators()


# Service field -> form field
ELUTION_FIELDS = {"activity_bq": "activity"}


@require_http_methods(["GET", "POST"])
@role_required(Role.OPERATOR, what="record an elution")
def elution_new(request):
    initial = {"eluted_at": timezone.localtime().replace(second=0, microsecond=0),
               "generator": request.GET.get("generator", "")}
    form = ElutionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            elution = elution_record(
                actor=request.user, generator=data["generator"], eluted_at=data["eluted_at"],
                activity_bq=data["activity"], volume_ml=data["volume_ml"],
                entered_activity=request.POST.get("activity", "").strip(),
                above_forecast_confirmed=data["above_forecast_confirmed"])
        except ValidationError as exc:
            add_service_errors(form, exc, ELUTION_FIELDS)
        except RuleViolation as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Elution of {elution.generator.serial} at "
                             f"{formatting.when(elution.eluted_at)} recorded: "
                             f"{formatting.si_prefixed(elution.activity_bq, 'Bq')} in "
                             f"{elution.volume_ml:g} mL. Register the batch made from it.")
            return redirect(f"{reverse('batch-register')}?source=elution:{elution.pk}")
    return render(request, "sources/elution_form.html", {"form": form})


@require_GET
@role_required(Role.OPERATOR, what="record an elution")
def elution_forecast_partial(request):
    """The forecast beside the form, for what is typed so far (nothing when the generator or
    time cannot be read yet)."""
    form = ElutionForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    generator, at = data.get("generator"), data.get("eluted_at")
    context: dict = {"generator": generator, "at": at}
    if generator is not None and at is not None:
        forecast = elution_forecast(generator=generator, at=at)
        activity = data.get("activity")
        context.update(forecast=forecast, activity=activity,
                       share=forecast.share_percent(activity) if activity else None,
                       above=activity is not None and forecast.exceeded_by(activity),
                       above_limit_percent=round(100 * ABOVE_FORECAST))
    return render(request, "sources/_elution_forecast.html", context)
