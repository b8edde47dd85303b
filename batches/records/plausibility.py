"""Whether a batch or an elution could have happened, checked before it is recorded: the
numbers a registration claims against the clock, its source and the decay physics.

Each check returns sentences with the numbers, for the field they concern; the services
refuse the record when there is any. Activities are compared with the site's decay engine.
"""

import math
from datetime import datetime, timedelta

from django.conf import settings

from qc.engine import site_engine
from qc.formatting import format_activity, format_duration, utc_text

from ..models import Elution, Generator, SourceLot
from ..web.physics import predict_elution


def _skew() -> timedelta:
    return timedelta(seconds=settings.MEASURED_AT_CLOCK_SKEW_S)


def _decayed(nuclide: str, activity_bq: float, reference: datetime, at: datetime) -> float:
    dt = (at - reference).total_seconds()
    return activity_bq * float(site_engine().decay_factor(nuclide, dt))


def batch_plausibility_errors(*, product, eos: datetime, calibration_time: datetime,
                              activity_bq: float, elution: Elution | None,
                              source_lot: SourceLot | None, now: datetime
                              ) -> dict[str, list[str]]:
    """What makes this batch impossible: EOS in the future, before its source existed,
    more activity than its source held, or expired before it is registered."""
    errors: dict[str, list[str]] = {}
    if eos > now + _skew():
        errors["eos"] = [f"The end of synthesis {utc_text(eos)} is in the future (now "
                         f"{utc_text(now)}); register a batch after its synthesis has ended."]
        return errors
    if product is not None and eos + product.shelf_life <= now:
        shelf = format_duration(product.shelf_life.total_seconds(), trim=True)
        errors["eos"] = [f"This batch expired at {utc_text(eos + product.shelf_life)} (EOS + "
                         f"shelf life {shelf}), "
                         "before it is registered; an expired batch cannot be registered."]
        return errors
    if elution is not None:
        source_time, nuclide, source_bq = elution.eluted_at, elution.generator.product_nuclide, \
            elution.activity_bq
        what = f"elution of generator {elution.generator.serial}"
        when_word = "eluted at"
    elif source_lot is not None:
        source_time, nuclide, source_bq = source_lot.reference_time, "Ac-225", \
            source_lot.activity_bq
        what = f"225Ac lot {source_lot.lot_number}"
        when_word = "whose reference time is"
    else:
        return errors
    if eos < source_time:
        errors["eos"] = [f"The end of synthesis {utc_text(eos)} is before its source existed: "
                         f"the {what} {when_word} {utc_text(source_time)}. Use a source from "
                         "before EOS."]
        return errors
    if activity_bq is None or not activity_bq > 0 or calibration_time < eos:
        return errors
    batch_at_eos = _decayed(nuclide, activity_bq, calibration_time, eos)
    if not math.isfinite(batch_at_eos):
        errors["calibration_time"] = [
            f"The calibration time {utc_text(calibration_time)} is "
            f"{format_duration((calibration_time - eos).total_seconds(), trim=True)} after "
            f"EOS: {nuclide} decays so far in that time that no activity at EOS could give "
            f"{format_activity(activity_bq)} then. Check the calibration time."]
        return errors
    source_at_eos = _decayed(nuclide, source_bq, source_time, eos)
    tolerance = settings.SOURCE_ACTIVITY_TOLERANCE_PERCENT
    if batch_at_eos > source_at_eos * (1 + tolerance / 100):
        errors["activity_bq"] = [
            f"The batch would hold {format_activity(batch_at_eos)} of {nuclide} at EOS "
            f"({format_activity(activity_bq)} at calibration), more than its source: the "
            f"{what} holds {format_activity(source_at_eos)} at EOS (tolerance {tolerance} %). "
            "Check the activity, its unit and the calibration time."]
    return errors


def elution_plausibility_errors(*, generator: Generator, eluted_at: datetime,
                                activity_bq: float, now: datetime,
                                exclude_id: int | None = None) -> dict[str, list[str]]:
    """An elution is not in the future and holds no more than the ingrowth since the
    generator's previous elution (or its loading) can give, with the stated tolerance."""
    errors: dict[str, list[str]] = {}
    if eluted_at > now + _skew():
        errors["eluted_at"] = [f"The elution time {utc_text(eluted_at)} is in the future "
                               f"(now {utc_text(now)})."]
        return errors
    if eluted_at < generator.loaded_at:
        errors["eluted_at"] = [f"The elution time {utc_text(eluted_at)} is before generator "
                               f"{generator.serial} was loaded ({utc_text(generator.loaded_at)})."]
        return errors
    previous = (Elution.objects.filter(generator=generator, eluted_at__lt=eluted_at)
                .exclude(pk=exclude_id).order_by("-eluted_at").values_list("eluted_at", flat=True)
                .first())
    available = predict_elution(generator, last_elution_at=previous, at=eluted_at)
    tolerance = settings.SOURCE_ACTIVITY_TOLERANCE_PERCENT
    if activity_bq is not None and activity_bq > available.product_bq * (1 + tolerance / 100):
        errors["activity_bq"] = [
            f"Generator {generator.serial} can hold at most "
            f"{format_activity(available.product_bq)} of {generator.product_nuclide} at "
            f"{utc_text(eluted_at)} (ingrowth since its {available.since_what} at "
            f"{utc_text(available.since)}); {format_activity(activity_bq)} is more than that "
            f"(tolerance {tolerance} %)."]
    return errors
