"""Stability results: append-only, audited, judged like every result, refused where the
protocol does not stand behind them."""


import pytest
from django.core.exceptions import ValidationError

from batches.models import BatchStatus
from batches.stability.models import StabilityAlert, StabilityResult
from batches.stability.selectors import batch_eos_concentration
from batches.stability.services import stability_result_record
from qc.append_only import AppendOnlyError
from qc.engine import site_engine
from qc.errors import RuleViolation
from qc.models import AuditEvent
from qc.physics.radiolysis import product_dose_gy
from tests.batches.stability_helpers import MIN, H, approved_protocol
from tests.factories import make_ac225_batch


@pytest.fixture
def study(products, reviewer, qp, operator, now):
    product = products["ac225-psma-it"]
    protocol = approved_protocol(product, reviewer=reviewer, qp=qp)
    lot = make_ac225_batch(product=product, operator=operator, eos=now - 8 * H)
    return protocol, lot


def rcp(analyst, protocol, lot, *, at_h, pulled, value, developed_before=40 * MIN, **kw):
    measured = lot.eos + pulled
    return stability_result_record(
        actor=analyst, batch=lot, protocol=protocol, time_point_after_eos=at_h * H,
        test_code="rcp", measured_at=measured, value=value, unit="%",
        method_times={"developed_at": measured - developed_before}, **kw)


def test_an_analyst_records_a_pull_on_time_with_its_radiolysis_dose(analyst, study):
    protocol, lot = study

    result = rcp(analyst, protocol, lot, at_h=2, pulled=2 * H + 5 * MIN, value=97.5)

    result.refresh_from_db()
    assert (result.value, result.verdict, result.deviation_s) == (97.5, "pass", None)
    assert result.after_eos_s == pytest.approx(7500)
    engine = site_engine()
    expected = product_dose_gy(engine, "Ac-225", batch_eos_concentration(lot, engine),
                               [7500.0])["total"][0]
    assert result.dose_gy == pytest.approx(expected)
    event = AuditEvent.objects.get(action="stability.record", object_id=str(result.pk))
    assert event.batch_lot == lot.lot_number
    assert event.after["test_code"] == "rcp" and event.after["verdict"] == "pass"


def test_a_result_is_append_only(analyst, study):
    protocol, lot = study
    result = rcp(analyst, protocol, lot, at_h=1, pulled=H, value=98.0)

    result.value = 99.0
    with pytest.raises(AppendOnlyError):
        result.save()


def test_a_correction_supersedes_with_a_reason(analyst, study):
    protocol, lot = study
    first = rcp(analyst, protocol, lot, at_h=1, pulled=H, value=89.0)

    second = rcp(analyst, protocol, lot, at_h=1, pulled=H, value=98.0, supersedes=first,
                 reason="integration window set wrongly")

    assert second.supersedes == first
    assert AuditEvent.objects.filter(action="stability.supersede",
                                     object_id=str(second.pk)).exists()


def test_a_time_point_the_protocol_lacks_is_refused(analyst, study):
    protocol, lot = study

    with pytest.raises(ValidationError, match="has no time point at 3 h; its time points are "
                                              "0 h, 1 h, 2 h, 4 h, 6 h"):
        rcp(analyst, protocol, lot, at_h=3, pulled=3 * H, value=97.0)
    assert not StabilityResult.objects.exists()


def test_a_criterion_the_protocol_lacks_is_refused(analyst, study):
    protocol, lot = study

    with pytest.raises(ValidationError, match="does not test endotoxin"):
        stability_result_record(actor=analyst, batch=lot, protocol=protocol,
                                time_point_after_eos=2 * H, test_code="endotoxin",
                                measured_at=lot.eos + 2 * H, value=1.0, unit="EU/mL")


def test_a_pull_outside_its_tolerance_is_recorded_as_a_deviation_with_the_difference(
        analyst, study):
    protocol, lot = study

    result = rcp(analyst, protocol, lot, at_h=2, pulled=2 * H + 25 * MIN, value=97.0)

    assert result.deviation_s == pytest.approx(25 * 60)
    event = AuditEvent.objects.get(action="stability.pull_deviation", object_id=str(result.pk))
    assert event.after["difference_s"] == pytest.approx(1500)


def test_a_pull_far_outside_its_tolerance_is_refused(analyst, study):
    protocol, lot = study

    with pytest.raises(ValidationError, match="Pulled 45 min late for the T\\+2 h time point"):
        rcp(analyst, protocol, lot, at_h=2, pulled=2 * H + 45 * MIN, value=97.0)


def test_a_count_before_fr221_regrew_is_refused_with_the_wait(analyst, study):
    protocol, lot = study

    with pytest.raises(RuleViolation, match="Fr-221"):
        rcp(analyst, protocol, lot, at_h=2, pulled=2 * H, value=97.0,
            developed_before=5 * MIN)


def test_a_failing_pull_raises_a_stability_alert(analyst, study):
    protocol, lot = study

    result = rcp(analyst, protocol, lot, at_h=4, pulled=4 * H, value=85.0)

    alert = StabilityAlert.objects.get(result=result)
    assert "Radiochemical purity of lot" in alert.message and "T+4 h" in alert.message
    assert AuditEvent.objects.filter(action="stability.alert", object_id=str(alert.pk)).exists()
    lot.refresh_from_db()
    assert lot.status != BatchStatus.POST_RELEASE_OOS  # not released: no recall


def test_a_failing_retained_sample_of_a_released_lot_takes_the_post_release_oos_path(
        analyst, study):
    protocol, lot = study
    # released through the disposition services in their own tests; here only the status
    # matters
    type(lot).objects.filter(pk=lot.pk).update(status=BatchStatus.RELEASED)
    lot.refresh_from_db()

    result = rcp(analyst, protocol, lot, at_h=6, pulled=6 * H, value=85.0)

    lot.refresh_from_db()
    assert lot.status == BatchStatus.POST_RELEASE_OOS
    flag = AuditEvent.objects.get(action="batch.post_release_oos", object_id=str(lot.pk))
    assert flag.before == {"status": "released"}
    assert flag.after["stability_result_id"] == result.pk


def test_someone_who_is_not_an_analyst_does_not_record_from_the_web(reviewer, study):
    protocol, lot = study

    with pytest.raises(RuleViolation, match="Only a QC analyst"):
        rcp(reviewer, protocol, lot, at_h=1, pulled=H, value=98.0)


def test_a_non_number_is_refused(analyst, study):
    protocol, lot = study

    with pytest.raises(ValidationError, match="not a number"):
        rcp(analyst, protocol, lot, at_h=1, pulled=H, value="high")


@pytest.mark.services  # the triggers exist on PostgreSQL, which the services run uses
@pytest.mark.parametrize("table", ["batches_stabilityresult", "batches_stabilityalert"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET id = id WHERE id = %s",
                                       "DELETE FROM {table} WHERE id = %s"])
def test_postgresql_refuses_raw_update_and_delete_of_stability_records(
        analyst, study, table, statement):
    from django.db import DatabaseError, connection, transaction

    assert connection.vendor == "postgresql"
    protocol, lot = study
    result = rcp(analyst, protocol, lot, at_h=4, pulled=4 * H, value=85.0)  # and its alert
    row_id = result.pk if table == "batches_stabilityresult" else result.alert.pk

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement.format(table=table), [row_id])
    assert StabilityResult.objects.filter(pk=result.pk).exists()


@pytest.fixture
def planned_study(products, reviewer, qp, operator, now):
    """RCP at every pull, the HPLC vector integrity only at 0, 2 and 6 h."""
    product = products["ac225-psma-it"]
    protocol = approved_protocol(product, reviewer=reviewer, qp=qp,
                                 criteria=("rcp", "vector-integrity"),
                                 schedule={"rcp": [0 * H, H, 2 * H, 4 * H, 6 * H],
                                           "vector-integrity": [0 * H, 2 * H, 6 * H]})
    lot = make_ac225_batch(product=product, operator=operator, eos=now - 8 * H)
    return protocol, lot


def test_a_criterion_not_planned_at_the_time_point_is_refused_naming_the_plan(
        analyst, planned_study):
    protocol, lot = planned_study

    with pytest.raises(ValidationError, match=r"does not test vector-integrity at T\+1 h: it "
                                              r"plans rcp there, and vector-integrity at "
                                              r"T\+0 h, T\+2 h, T\+6 h"):
        stability_result_record(actor=analyst, batch=lot, protocol=protocol,
                                time_point_after_eos=H, test_code="vector-integrity",
                                measured_at=lot.eos + H, value=98.0, unit="%")
    assert not StabilityResult.objects.exists()


def test_a_criterion_planned_at_the_time_point_is_recorded(analyst, planned_study):
    protocol, lot = planned_study

    result = stability_result_record(actor=analyst, batch=lot, protocol=protocol,
                                     time_point_after_eos=2 * H, test_code="vector-integrity",
                                     measured_at=lot.eos + 2 * H, value=98.0, unit="%")

    assert result.verdict == "pass"
