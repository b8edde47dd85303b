"""Recording a generator elution: what an operator eluted, when, how much and in what volume,
with the ingrowth forecast it was checked against, in one audited transaction."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from qc.audit import audit_record
from qc.errors import RuleViolation
from qc.roles import Role, has_role
from qc.units import volume_problem

from ..models import Elution, Generator
from ..texts import when
from .checks import require_aware
from .ingrowth import predict_elution

# Clocks of the lab and the server may differ a little; an elution further in the future is
# a typo (a wrong day or hour).
CLOCK_SKEW = timedelta(minutes=5)
# More product than ingrowth can have made is a misread calibrator or a wrong time: the
# operator confirms it deliberately, and the audit event says so.
ABOVE_FORECAST = 1.05


@dataclass(frozen=True)
class Forecast:
    predicted_bq: float
    since: datetime
    since_what: str  # "last elution" or "loading"

    def share_percent(self, activity_bq: float) -> float | None:
        return 100.0 * activity_bq / self.predicted_bq if self.predicted_bq > 0 else None

    def exceeded_by(self, activity_bq: float) -> bool:
        return self.predicted_bq > 0 and activity_bq > ABOVE_FORECAST * self.predicted_bq


def elution_forecast(*, generator: Generator, at: datetime) -> Forecast:
    """The product activity ingrowth since the generator's previous elution (or loading)
    makes available at `at`."""
    previous = (Elution.objects.filter(generator=generator, eluted_at__lt=at)
                .order_by("-eluted_at").values_list("eluted_at", flat=True).first())
    ingrowth = predict_elution(generator, last_elution_at=previous, at=at)
    return Forecast(ingrowth.product_bq, ingrowth.since, ingrowth.since_what)


def _validate(generator: Generator, eluted_at: datetime | None, activity_bq: float,
              volume_ml: float) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    require_aware(errors, "eluted_at", eluted_at)
    if not errors:
        if eluted_at > timezone.now() + CLOCK_SKEW:
            errors["eluted_at"] = ["This time is in the future; give the time of the elution."]
        elif eluted_at < generator.loaded_at:
            errors["eluted_at"] = [f"Generator {generator.serial} was loaded later "
                                   f"({when(generator.loaded_at)}); check the date."]
        elif timezone.localtime(eluted_at).date() > generator.expires_on:
            errors["eluted_at"] = [f"Generator {generator.serial} expired on "
                                   f"{generator.expires_on}; an expired generator is not "
                                   "eluted for production."]
    if not activity_bq > 0:
        errors["activity_bq"] = ["The eluate activity must be above zero."]
    if problem := volume_problem(volume_ml, "eluate volume"):
        errors["volume_ml"] = [problem]
    return errors


def elution_record(*, actor, generator: Generator, eluted_at: datetime, activity_bq: float,
                   volume_ml: float, entered_activity: str = "",
                   above_forecast_confirmed: bool = False) -> Elution:
    """Record an elution. An activity above the ingrowth forecast is refused unless the
    operator confirmed it (the audit event keeps the forecast and the confirmation)."""
    if not has_role(actor, Role.OPERATOR):
        raise RuleViolation("Only a production operator records elutions.", code="forbidden")
    errors = _validate(generator, eluted_at, activity_bq, volume_ml)
    if errors:
        raise ValidationError(errors)
    forecast = elution_forecast(generator=generator, at=eluted_at)
    share = forecast.share_percent(activity_bq)
    if forecast.exceeded_by(activity_bq) and not above_forecast_confirmed:
        raise ValidationError({"activity_bq": [
            f"{share:.0f} % of the ingrowth forecast: ingrowth since the {forecast.since_what} "
            "cannot have made this much. Check the calibrator reading and the elution time, "
            "or confirm the value to record it."]})
    with transaction.atomic():
        elution = Elution.objects.create(
            generator=generator, eluted_at=eluted_at, activity_bq=activity_bq,
            volume_ml=volume_ml, entered_activity=entered_activity[:60], recorded_by=actor)
        audit_record(
            actor=actor, action="elution.recorded", obj=elution,
            after={"generator": generator.serial, "eluted_at": eluted_at,
                   "activity_bq": activity_bq, "entered_activity": entered_activity,
                   "volume_ml": volume_ml, "forecast_bq": forecast.predicted_bq,
                   "forecast_since": forecast.since, "share_of_forecast_percent": share,
                   "above_forecast_confirmed": bool(above_forecast_confirmed
                                                    and forecast.exceeded_by(activity_bq))})
    return elution
