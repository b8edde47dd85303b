"""A registration is refused when the batch could not have happened, with the numbers:
EOS in the future, EOS before its source existed, more activity than the source held at EOS
(decay-corrected, 5 % tolerance), already expired. Elutions: not in the future, not above
what the generator's ingrowth can give."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from batches.models import Batch, GeneratorKind
from batches.records import registration
from batches.records.plausibility import elution_plausibility_errors
from qc.engine import site_engine
from qc.formatting import format_activity, utc_text
from tests.factories import make_elution, make_source_lot

pytestmark = pytest.mark.django_db


def register_pb(products, operator, *, eos, elution, activity_bq=3e8, **kw):
    return registration.batch_register(
        actor=operator, lot_number="PB-PLAUS-1", product=products["pb212-dotamtate"],
        elution=elution, eos=eos, calibration_time=kw.pop("calibration_time",
                                                          eos + timedelta(hours=1)),
        activity_bq=activity_bq, volume_ml=5.0, **kw)


def refusal(call) -> dict:
    with pytest.raises(ValidationError) as refused:
        call()
    assert not Batch.objects.exists()
    return refused.value.message_dict


def test_an_eos_thirty_days_ahead_is_refused_naming_both_times(products, operator, now):
    elution = make_elution(GeneratorKind.RA224_PB212, eluted_at=now - timedelta(minutes=40))
    eos = now + timedelta(days=30)
    errors = refusal(lambda: register_pb(products, operator, eos=eos, elution=elution))
    assert f"The end of synthesis {utc_text(eos)} is in the future" in errors["eos"][0]


def test_an_eos_within_the_clock_skew_allowance_is_accepted(products, operator, now, settings):
    settings.MEASURED_AT_CLOCK_SKEW_S = 120
    elution = make_elution(GeneratorKind.RA224_PB212, eluted_at=now - timedelta(minutes=40))
    batch = register_pb(products, operator, eos=now + timedelta(seconds=60), elution=elution)
    assert batch.pk is not None


def test_an_eos_five_hours_before_its_elution_is_refused(products, operator, now):
    elution = make_elution(GeneratorKind.RA224_PB212, eluted_at=now - timedelta(hours=1))
    eos = now - timedelta(hours=6)
    errors = refusal(lambda: register_pb(products, operator, eos=eos, elution=elution))
    assert (f"before its source existed: the elution of generator {elution.generator.serial} "
            f"eluted at {utc_text(elution.eluted_at)}") in errors["eos"][0]


def test_a_batch_from_a_lot_measured_after_its_eos_is_refused(products, operator, now):
    lot = make_source_lot(reference_time=now + timedelta(minutes=-10))
    eos = now - timedelta(minutes=30)
    errors = refusal(lambda: registration.batch_register(
        actor=operator, lot_number="AC-PLAUS-1", product=products["ac225-psma-it"],
        source_lot=lot, eos=eos, calibration_time=eos + timedelta(hours=1), activity_bq=8e6,
        volume_ml=4.0))
    assert f"whose reference time is {utc_text(lot.reference_time)}" in errors["eos"][0]


def test_50_gbq_from_an_elution_that_held_3_15_gbq_is_refused_with_both_activities(
        products, operator, now):
    elution = make_elution(GeneratorKind.RA224_PB212, eluted_at=now - timedelta(minutes=40),
                           activity_bq=2.0e9)
    eos = now
    errors = refusal(lambda: register_pb(products, operator, eos=eos, elution=elution,
                                         activity_bq=50e9))
    engine = site_engine()
    # 40 min of Pb-212 decay (10.64 h) from 2.00 GBq: 1.915 GBq left at EOS
    source_at_eos = 2.0e9 * engine.decay_factor("Pb-212", 40 * 60)
    assert source_at_eos == pytest.approx(1.915e9, rel=1e-3)
    batch_at_eos = 50e9 / engine.decay_factor("Pb-212", 3600)
    message = errors["activity_bq"][0]
    assert f"holds {format_activity(source_at_eos)} at EOS (tolerance 5 %)" in message
    assert f"would hold {format_activity(batch_at_eos)} of Pb-212 at EOS" in message


@pytest.mark.parametrize(("share", "accepted"), [(1.04, True), (1.06, False)])
def test_the_source_activity_has_a_five_percent_tolerance(products, operator, now, share,
                                                          accepted):
    elution = make_elution(GeneratorKind.RA224_PB212, eluted_at=now - timedelta(minutes=40),
                           activity_bq=2.0e9)
    engine = site_engine()
    at_calibration = 2.0e9 * engine.decay_factor("Pb-212", 100 * 60) * share
    if accepted:
        assert register_pb(products, operator, eos=now, elution=elution,
                           activity_bq=at_calibration).pk
    else:
        assert "activity_bq" in refusal(lambda: register_pb(
            products, operator, eos=now, elution=elution, activity_bq=at_calibration))


def test_a_batch_already_expired_at_registration_is_refused_with_its_expiry(products,
                                                                            operator, now):
    lot = make_source_lot(reference_time=now - timedelta(days=2))
    eos = now - timedelta(hours=4)  # shelf life 3 h
    errors = refusal(lambda: registration.batch_register(
        actor=operator, lot_number="AC-PLAUS-2", product=products["ac225-psma-it"],
        source_lot=lot, eos=eos, calibration_time=eos + timedelta(hours=1), activity_bq=8e6,
        volume_ml=4.0))
    assert (f"This batch expired at {utc_text(eos + timedelta(hours=3))} (EOS + shelf life 3 h)"
            in errors["eos"][0])


def test_the_web_form_shows_the_activity_refusal_next_to_the_activity(client, operator,
                                                                      products):
    now = timezone.now().replace(microsecond=0)
    elution = make_elution(GeneratorKind.RA224_PB212, eluted_at=now - timedelta(minutes=40))
    eos = now - timedelta(minutes=5)
    local = lambda t: timezone.localtime(t).strftime("%Y-%m-%dT%H:%M:%S")  # noqa: E731
    client.force_login(operator)
    response = client.post(reverse("batch-register"), {
        "lot_number": "PB-WEB-9", "product": products["pb212-dotamtate"].pk,
        "source": f"elution:{elution.pk}", "eos": local(eos),
        "calibration_time": local(eos + timedelta(hours=1)), "activity": "50 GBq",
        "volume_ml": "5"})
    assert response.status_code == 200
    assert "more than its source" in response.context["form"].errors["activity"][0]


# Elutions -------------------------------------------------------------------------------

def test_an_elution_in_the_future_is_refused(now):
    elution = make_elution(GeneratorKind.RA224_PB212, eluted_at=now - timedelta(hours=1))
    errors = elution_plausibility_errors(generator=elution.generator,
                                         eluted_at=now + timedelta(hours=2), activity_bq=1e8,
                                         now=now)
    assert "is in the future" in errors["eluted_at"][0]


def test_an_elution_above_the_generators_ingrowth_is_refused_with_what_it_can_hold(now):
    elution = make_elution(GeneratorKind.RA224_PB212, eluted_at=now - timedelta(hours=30))
    generator = elution.generator  # 4 GBq Ra-224 loaded 2 days before the first elution
    # 30 h after the first elution the column has regrown 2.02 GBq of Pb-212 from its
    # 2.2 GBq of Ra-224: 2.1 GBq is within 5 %, 3.15 GBq is not.
    assert elution_plausibility_errors(generator=generator, eluted_at=now,
                                       activity_bq=2.1e9, now=now) == {}
    errors = elution_plausibility_errors(generator=generator, eluted_at=now,
                                         activity_bq=3.15e9, now=now)
    assert "can hold at most 2.02 GBq of Pb-212" in errors["activity_bq"][0]
    assert "ingrowth since its last elution" in errors["activity_bq"][0]
