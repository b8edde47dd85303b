"""Results are judged at the time that matters, by tasks that can run twice safely."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from batches import tasks
from batches.models import Batch, BatchStatus, Evaluation, QcStatus, Result
from batches.records import results as records
from qc.errors import RuleViolation
from qc.models import AuditEvent
from tests.factories import criterion, make_ac225_batch, make_instrument, make_source_lot

pytestmark = pytest.mark.django_db


def record(batch, analyst, code, **kw):
    return records.result_record(actor=analyst, batch=batch,
                                  criterion=criterion(batch, code), **kw)


def test_a_recorded_result_is_evaluated_on_commit_and_the_batch_counts_it(
        ac225_batch, analyst, now, committed):
    with committed():
        result = record(ac225_batch, analyst, "ph", measured_at=now, value=7.2, unit="pH")
    assert result.evaluation.verdict == "pass"
    ac225_batch.refresh_from_db()
    assert ac225_batch.status == BatchStatus.IN_QC
    assert ac225_batch.criteria_passed == 1
    actions = list(AuditEvent.objects.filter(batch_lot=ac225_batch.lot_number)
                   .order_by("id").values_list("action", flat=True))
    assert actions[-3:] == ["result.record", "batch.status", "result.evaluate"]


def test_a_tlc_counted_before_fr221_regrew_is_invalid_and_says_how_long_to_wait(
        ac225_batch, analyst, now, committed):
    developed = now - timedelta(minutes=20)
    with committed():
        result = record(ac225_batch, analyst, "rcp", measured_at=now - timedelta(minutes=8),
                        value=96.0, unit="%", method_times={"developed_at": developed})
    evaluation = result.evaluation
    assert evaluation.verdict == "invalid"
    assert "Fr-221" in evaluation.message and "Count again after" in evaluation.message
    assert evaluation.valid_from > result.measured_at
    ac225_batch.refresh_from_db()
    assert ac225_batch.qc_status == QcStatus.INVALID


def test_activity_is_judged_decay_corrected_to_calibration(ac225_batch, analyst, now,
                                                           committed):
    measured_at = now - timedelta(minutes=30)
    with committed():
        result = record(ac225_batch, analyst, "activity", measured_at=measured_at,
                        value=8.0, unit="MBq")
    evaluation = result.evaluation
    assert evaluation.measured_value == pytest.approx(8.0e6)
    # the calibration time is later: 8.0 MBq measured earlier is a little less at calibration
    assert 99.0 < evaluation.projected_value < 100.0
    assert evaluation.judged_at_time == ac225_batch.calibration_time


def test_an_ac227_share_that_passes_at_release_but_fails_at_expiry_shortens_the_expiry(
        products, operator, analyst, now, committed):
    lot = make_source_lot(reference_time=now - timedelta(days=12), ratio_percent=0.68)
    with committed():
        batch = make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                                 eos=now - timedelta(minutes=30), source_lot=lot)
    batch.refresh_from_db()
    assert batch.expiry < batch.eos + timedelta(hours=3)
    assert "Ac-227" in batch.expiry_reason
    share = Result.objects.get(batch=batch, criterion__test_code="ac227-share")
    assert share.evaluation.verdict == "pass"  # judged at the (shortened) expiry


def test_running_the_evaluation_task_twice_changes_nothing(ac225_batch, analyst, now,
                                                           committed):
    with committed():
        result = record(ac225_batch, analyst, "ph", measured_at=now, value=7.2, unit="pH")
    events = AuditEvent.objects.count()
    assert tasks.evaluate_result.apply(args=[result.id]).get() == "pass"
    assert Evaluation.objects.filter(result=result).count() == 1
    assert AuditEvent.objects.count() == events


def test_the_sweep_judges_a_result_whose_message_was_lost(ac225_batch, analyst, now):
    result = record(ac225_batch, analyst, "ph", measured_at=now, value=4.0, unit="pH")
    assert not Evaluation.objects.filter(result=result).exists()  # on-commit never ran
    tasks.sweep_unevaluated.apply()
    assert Evaluation.objects.get(result=result).verdict == "fail"
    assert Batch.objects.get(pk=ac225_batch.pk).expiry is not None


def test_a_correction_supersedes_the_result_and_both_stay_visible(ac225_batch, analyst, now,
                                                                  committed):
    with committed():
        first = record(ac225_batch, analyst, "ph", measured_at=now, value=4.0, unit="pH")
        second = record(ac225_batch, analyst, "ph", measured_at=now, value=7.0, unit="pH",
                        supersedes=first, reason="transcription error: 7.0 read as 4.0")
    assert first.evaluation.verdict == "fail" and second.evaluation.verdict == "pass"
    assert Result.objects.filter(batch=ac225_batch, criterion__test_code="ph").count() == 2
    ac225_batch.refresh_from_db()
    assert ac225_batch.qc_status != QcStatus.FAILING


def test_a_correction_without_a_reason_is_refused(ac225_batch, analyst, now):
    first = record(ac225_batch, analyst, "ph", measured_at=now, value=4.0, unit="pH")
    with pytest.raises(ValidationError) as refused:
        record(ac225_batch, analyst, "ph", measured_at=now, value=7.0, unit="pH",
               supersedes=first, reason="  ")
    assert "Say why" in refused.value.message_dict["reason"][0]


@pytest.mark.parametrize("kw, field, message", [
    ({"value": 120.0, "unit": "%"}, "value", "outside the physical range"),
    ({"value": 96.0, "unit": "MBq"}, "unit", "not accepted here"),
    ({"value": float("nan"), "unit": "%"}, "value", "finite number"),
    ({"value": "ninety", "unit": "%"}, "value", "not a number"),
])
def test_it_refuses_values_that_cannot_be_right(ac225_batch, analyst, now, kw, field, message):
    with pytest.raises(ValidationError) as refused:
        record(ac225_batch, analyst, "vector-integrity", measured_at=now, **kw)
    assert message in refused.value.message_dict[field][0]
    assert not Result.objects.filter(criterion__test_code="vector-integrity").exists()


def test_it_refuses_a_result_measured_before_eos_or_in_the_future(ac225_batch, analyst, now):
    for at, message in ((ac225_batch.eos - timedelta(minutes=1), "before the end of synthesis"),
                        (now + timedelta(hours=1), "in the future")):
        with pytest.raises(ValidationError) as refused:
            record(ac225_batch, analyst, "ph", measured_at=at, value=7.0, unit="pH")
        assert message in refused.value.message_dict["measured_at"][0]


def test_it_refuses_results_from_an_instrument_past_its_calibration_date(ac225_batch, analyst,
                                                                         now):
    overdue = make_instrument(calibration_due=now.date() - timedelta(days=1))
    with pytest.raises(RuleViolation, match="past its calibration due date"):
        record(ac225_batch, analyst, "ph", measured_at=now, value=7.0, unit="pH",
               instrument=overdue)


def test_a_result_row_can_never_be_updated_or_deleted(ac225_batch, analyst, now):
    from qc.append_only import AppendOnlyError

    result = record(ac225_batch, analyst, "ph", measured_at=now, value=7.0, unit="pH")
    result.value = 8.0
    with pytest.raises(AppendOnlyError):
        result.save()
    with pytest.raises(AppendOnlyError):
        result.delete()
