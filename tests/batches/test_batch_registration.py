from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from batches.models import Batch, BatchStatus, GeneratorKind
from batches.records import registration
from qc.errors import RuleViolation
from qc.models import AuditEvent
from tests.factories import make_elution, make_source_lot

pytestmark = pytest.mark.django_db


def register(product, operator, **overrides):
    eos = overrides.pop("eos", None)
    fields = {
        "actor": operator, "lot_number": "AC-T-001", "product": product,
        "source_lot": make_source_lot(), "eos": eos,
        "calibration_time": eos + timedelta(hours=1) if eos else None,
        "activity_bq": 8e6, "volume_ml": 4.0,
    }
    fields.update(overrides)
    return registration.batch_register(**fields)


def test_a_registered_batch_takes_the_specification_in_force_and_leaves_an_audit_event(
        products, operator, now):
    batch = register(products["ac225-psma-it"], operator, eos=now)
    assert batch.status == BatchStatus.REGISTERED
    assert batch.specification.version == 1
    assert batch.criteria_total == batch.specification.criteria.count() == 16
    event = AuditEvent.objects.get(action="batch.register")
    assert event.batch_lot == "AC-T-001"
    assert event.actor == operator
    assert event.after["activity_bq"] == 8e6


def test_it_computes_expiry_and_decay_table_on_commit(products, operator, now, committed):
    with committed():
        batch = register(products["ac225-psma-it"], operator, eos=now)
    batch.refresh_from_db()
    assert batch.expiry == now + timedelta(hours=3)
    assert "shelf life" in batch.expiry_reason
    assert "Ac-225" in batch.decay_table["activities_Bq"]


@pytest.mark.parametrize("persona", ["analyst", "qp", "admin_user"])
def test_only_a_production_operator_registers_a_batch_even_when_the_service_is_called_directly(
        products, request, now, persona):
    with pytest.raises(RuleViolation, match="Only a production operator registers batches"):
        register(products["ac225-psma-it"], request.getfixturevalue(persona), eos=now)
    assert not Batch.objects.exists()
    assert not AuditEvent.objects.filter(action="batch.register").exists()


def test_it_refuses_a_duplicate_lot_number(products, operator, now):
    register(products["ac225-psma-it"], operator, eos=now)
    with pytest.raises(ValidationError) as refused:
        register(products["ac225-psma-it"], operator, eos=now)
    assert "already registered" in refused.value.message_dict["lot_number"][0]
    assert Batch.objects.count() == 1


@pytest.mark.parametrize("field", ["activity_bq", "volume_ml"])
@pytest.mark.parametrize("value", [0, -5.0, float("nan")])
def test_it_refuses_zero_negative_or_nan_activity_and_volume(products, operator, now, field,
                                                             value):
    with pytest.raises(ValidationError) as refused:
        register(products["ac225-psma-it"], operator, eos=now, **{field: value})
    assert "positive number" in refused.value.message_dict[field][0]
    assert not Batch.objects.exists()
    assert not AuditEvent.objects.filter(action="batch.register").exists()


def test_it_refuses_naive_times(products, operator, now):
    naive = now.replace(tzinfo=None)
    with pytest.raises(ValidationError) as refused:
        register(products["ac225-psma-it"], operator, eos=naive,
                 calibration_time=naive + timedelta(hours=1))
    assert "no time zone" in refused.value.message_dict["eos"][0]


def test_it_refuses_a_calibration_time_before_eos(products, operator, now):
    with pytest.raises(ValidationError) as refused:
        register(products["ac225-psma-it"], operator, eos=now,
                 calibration_time=now - timedelta(minutes=1))
    assert "before the end of synthesis" in refused.value.message_dict["calibration_time"][0]


def test_it_refuses_a_generator_product_made_from_a_225ac_lot(products, operator, now):
    with pytest.raises(ValidationError) as refused:
        register(products["pb212-dotamtate"], operator, eos=now)
    assert "generator elution" in refused.value.message_dict["source"][0]


def test_it_refuses_an_elution_of_the_wrong_nuclide(products, operator, now):
    elution = make_elution("ac225_bi213", eluted_at=now - timedelta(minutes=20))
    with pytest.raises(ValidationError) as refused:
        register(products["pb212-dotamtate"], operator, eos=now, source_lot=None,
                 elution=elution)
    assert "gives Bi-213" in refused.value.message_dict["source"][0]


def test_it_refuses_an_elution_made_after_its_generator_expired(products, operator, now):
    elution = make_elution(GeneratorKind.RA224_PB212, eluted_at=now - timedelta(minutes=40))
    elution.generator.expires_on = (now - timedelta(days=2)).date()
    elution.generator.save()
    with pytest.raises(ValidationError, match="expired on"):
        register(products["pb212-dotamtate"], operator, eos=now, source_lot=None,
                 elution=elution)
    assert not Batch.objects.exists()


def test_it_refuses_a_product_without_an_approved_specification_at_eos(products, operator, now):
    with pytest.raises(ValidationError) as refused:
        register(products["ac225-psma-it"], operator, eos=now - timedelta(days=60))
    assert "no approved specification" in refused.value.message_dict["product"][0]


def test_the_database_itself_refuses_a_batch_with_calibration_before_eos(ac225_batch):
    with pytest.raises(IntegrityError), transaction.atomic():
        Batch.objects.filter(pk=ac225_batch.pk).update(
            calibration_time=ac225_batch.eos - timedelta(hours=1))


def test_the_database_itself_refuses_zero_activity(ac225_batch):
    with pytest.raises(IntegrityError), transaction.atomic():
        Batch.objects.filter(pk=ac225_batch.pk).update(activity_bq=0)


@pytest.mark.parametrize("volume", [1e308, 20_000.0])
def test_a_batch_volume_beyond_ten_litres_is_refused_as_a_typing_or_unit_error(
        products, operator, now, volume):
    # 1e308 mL was stored.
    with pytest.raises(ValidationError) as refused:
        register(products["ac225-psma-it"], operator, eos=now, volume_ml=volume)
    assert refused.value.message_dict["volume_ml"] == [
        f"{volume:g} mL is above the largest volume accepted, 10000 mL (10 L); check the "
        "number and that it is in mL."]
    assert not Batch.objects.exists()


def test_an_eluate_volume_beyond_ten_litres_is_refused(operator, now):
    from batches.records.elutions import elution_record

    generator = make_elution(GeneratorKind.RA224_PB212,
                             eluted_at=now - timedelta(hours=30)).generator
    with pytest.raises(ValidationError) as refused:
        elution_record(actor=operator, generator=generator, eluted_at=now, activity_bq=1e9,
                       volume_ml=1e308)
    assert "1e+308 mL is above the largest eluate volume accepted" in \
        refused.value.message_dict["volume_ml"][0]


def test_it_refuses_a_bi213_separation_in_1900_before_the_elution_and_stores_nothing(
        products, operator, now):
    eos = now - timedelta(minutes=5)
    elution = make_elution(GeneratorKind.AC225_BI213, eluted_at=eos - timedelta(minutes=10))
    with pytest.raises(ValidationError) as refused:
        register(products["bi213-dotatoc"], operator, eos=eos, source_lot=None,
                 elution=elution, activity_bq=1.1e9, volume_ml=3.0,
                 calibration_time=eos + timedelta(minutes=20),
                 daughters_separated_at=datetime(1900, 1, 1, tzinfo=UTC))
    message = refused.value.message_dict["daughters_separated_at"][0]
    assert "1900-01-01 00:00:00 UTC" in message
    assert f"{elution.eluted_at:%Y-%m-%d %H:%M:%S} UTC" in message
    assert not Batch.objects.exists()
    assert not AuditEvent.objects.filter(action="batch.register").exists()
