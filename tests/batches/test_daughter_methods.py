"""The services keep the daughters' rules whoever calls them: a 212Pb radio-TLC result without
its counting window (or a wide one without its development time) is refused before anything
is written, one at a time or in bulk; a correction keeps the window; a wide-window count too
soon is judged invalid until the Bi-212 on the strip renewed; a calibrator reading in the
equilibrium setting is corrected, with the daughters the batch records."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from batches.models import Result
from batches.records import results as records
from qc.models import AuditEvent
from tests.factories import criterion
from tests.gmp.flows import dose_calibrator_mbq, settle

pytestmark = pytest.mark.django_db


def rcp(batch, analyst, at, **kw):
    return records.result_record(actor=analyst, batch=batch, criterion=criterion(batch, "rcp"),
                                 measured_at=at, value=97.0, unit="%", **kw)


def test_a_count_without_its_window_is_refused_before_anything_is_written(pb212_batch,
                                                                          analyst, now):
    with pytest.raises(ValidationError) as refused:
        rcp(pb212_batch, analyst, now)
    assert "'product_line' (Pb-212's own line" in refused.value.message_dict["counting_window"][0]
    assert not Result.objects.exists()
    assert not AuditEvent.objects.filter(action="result.record").exists()


def test_a_wide_window_needs_the_development_time(pb212_batch, analyst, now):
    with pytest.raises(ValidationError) as refused:
        rcp(pb212_batch, analyst, now, counting_window="wide")
    assert "developed_at" in refused.value.message_dict


def test_bulk_recording_refuses_the_item_without_its_window_by_index(pb212_batch, analyst,
                                                                     now):
    items = [records.ResultInput(batch=pb212_batch, criterion=criterion(pb212_batch, "ph"),
                                 measured_at=now, value=7.0, unit="pH"),
             records.ResultInput(batch=pb212_batch, criterion=criterion(pb212_batch, "rcp"),
                                 measured_at=now, value=97.0, unit="%")]
    with pytest.raises(records.ResultsRefused) as refused:
        records.result_record_many(actor=analyst, items=items)
    assert list(refused.value.errors) == [1]
    assert "counting_window" in refused.value.errors[1].message_dict
    assert not Result.objects.exists()


def test_the_window_is_stored_audited_and_kept_by_a_correction(pb212_batch, analyst, now,
                                                               committed):
    with committed():
        first = rcp(pb212_batch, analyst, now - timedelta(minutes=5),
                    counting_window="product_line")
    event = AuditEvent.objects.get(action="result.record", object_id=str(first.pk))
    assert event.after["counting_window"] == "product_line"
    with committed():
        corrected = records.result_correct(actor=analyst, result=first, reason="typo",
                                           value=97.5)
    assert corrected.counting_window == "product_line"
    assert corrected.evaluation.verdict == "pass"


def test_a_wide_window_count_too_soon_is_invalid_and_valid_after_the_derived_wait(
        pb212_batch, analyst, now, committed):
    developed = pb212_batch.eos + timedelta(minutes=25)
    with committed():
        early = rcp(pb212_batch, analyst, now, counting_window="wide",
                    method_times={"developed_at": developed})
    evaluation = early.evaluation
    assert evaluation.verdict == "invalid"
    # 6.09 h after a development 25 min after EOS (tests/qc/test_daughter_readings.py)
    assert (evaluation.valid_from - developed).total_seconds() / 3600 == pytest.approx(
        6.09, abs=0.01)


def test_a_calibrator_reading_is_corrected_with_the_daughters_the_batch_records(
        products, operator, analyst, now, committed):
    from tests.factories import make_pb212_batch

    # daughters not separated: the setting reads Pb-212 right at once, no correction
    whole = settle(make_pb212_batch(product=products["pb212-dotamtate"], operator=operator,
                                    eos=now - timedelta(hours=1),
                                    daughters_not_separated=True))
    at = now - timedelta(minutes=30)
    with committed():
        result = records.result_record(
            actor=analyst, batch=whole, criterion=criterion(whole, "activity"), measured_at=at,
            value=dose_calibrator_mbq(whole, at), unit="MBq")
    assert result.evaluation.verdict == "pass"
    assert "corrected x1 to Pb-212 (Tl-208 at 100 % of equilibrium" in result.evaluation.message
