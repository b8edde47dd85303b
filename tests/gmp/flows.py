"""Bringing batches through QC and disposition the way a site does: realistic passing (or
failing) results recorded through the services, at times the physics accepts."""

from datetime import datetime, timedelta

from django.utils import timezone

from batches.disposition import services as disposition
from batches.evaluation import physics
from batches.evaluation import results as evaluation
from batches.models import Batch
from batches.records import results as records
from qc.engine import site_engine
from qc.evaluation.daughters import calibrator_correction
from qc.evaluation.values import Measurement
from qc.models import Validity
from qc.rules import rule_for
from tests.conftest import PASSWORD


def criterion(batch: Batch, code: str):
    return batch.specification.criteria.get(test_code=code)


def record(analyst, batch: Batch, code: str, at: datetime, value=None, unit: str = "",
           text: str = "", counting_window: str | None = None, **method_times):
    """Record through the service; a strip whose test asks for its counting window is
    counted on the product's own line unless `counting_window` says otherwise."""
    chosen = criterion(batch, code)
    if counting_window is None:
        counting_window = ("product_line" if chosen.validity == Validity.COUNTING_WINDOW
                           else "")
    return records.result_record(actor=analyst, batch=batch, criterion=chosen,
                                  measured_at=at, value=value, unit=unit, value_text=text,
                                  method_times=method_times, counting_window=counting_window)


def dose_calibrator_mbq(batch: Batch, at: datetime, share: float = 1.0,
                        code: str = "activity") -> float:
    """What the dose calibrator shows at `at` for a batch holding `share` of its stated
    activity (a 212Pb equilibrium setting reads the Pb-212 with its daughters as they stand
    then, qc.evaluation.daughters)."""
    engine = site_engine()
    factor = engine.decay_factor(batch.product.nuclide,
                                 (at - batch.calibration_time).total_seconds())
    reading = batch.activity_bq * share * factor / 1e6
    rule = rule_for(criterion(batch, code))
    if rule.validity == "daughter_correction":
        correction, _ = calibrator_correction(rule, Measurement(None, "", at),
                                              physics.batch_times(batch), engine)
        reading /= correction
    return reading


def settle(batch: Batch) -> Batch:
    """Run what registration scheduled on commit (expiry, the source lot's Ac-227 share),
    which the fixtures, registering outside `committed()`, did not run."""
    physics.batch_compute_physics(batch_id=batch.pk)
    for result in batch.results.filter(evaluation__isnull=True):
        evaluation.result_evaluate(result_id=result.pk)
    batch.refresh_from_db()
    return batch


def release_required_results(analyst, batch: Batch) -> list:
    """Every release-required test of the batch's family, passing, measured within the time
    since EOS (the fixtures' EOS is 10 min to 2 h ago)."""
    settle(batch)
    eos = batch.eos
    elapsed = timezone.now() - eos

    def at(minutes: float) -> datetime:
        return eos + min(timedelta(minutes=minutes), elapsed)

    family = batch.product.family
    if family == "central_ac225":
        developed = at(2)
        return [
            record(analyst, batch, "appearance", at(5), text="conforms"),
            record(analyst, batch, "filter-integrity", at(10), text="pass"),
            record(analyst, batch, "activity", at(12), dose_calibrator_mbq(batch, at(12), 0.99),
                   "MBq"),
            record(analyst, batch, "activity-conc", at(12),
                   dose_calibrator_mbq(batch, at(12), 0.99) / batch.volume_ml, "MBq/mL"),
            record(analyst, batch, "ph", at(9), 7.0, "pH"),
            record(analyst, batch, "vector-integrity", at(20), 98.1, "%"),
            record(analyst, batch, "endotoxin", at(30), 0.8, "EU/mL"),
            # counted once Fr-221 is back at 99 % of equilibrium (32.6 min after development)
            record(analyst, batch, "rcp", developed + timedelta(minutes=40), 97.2, "%",
                   developed_at=developed),
            record(analyst, batch, "identity", at(42), text="present"),
            record(analyst, batch, "ac226-share", at(25), 0.02, "%"),
            record(analyst, batch, "rn-impurities", at(25), 0.01, "%"),
            record(analyst, batch, "ethanol", at(15), 6.5, "%"),
            record(analyst, batch, "endotoxin-dose", at(31), 0.8 * batch.volume_ml, "EU"),
            record(analyst, batch, "vector-function", at(60), 85.0, "%"),
        ]
    if family == "generator_pb212":
        return [
            record(analyst, batch, "filter-integrity", at(10), text="pass"),
            record(analyst, batch, "activity", at(15), dose_calibrator_mbq(batch, at(15), 1.01),
                   "MBq"),
            record(analyst, batch, "ph", at(18), 6.9, "pH"),
            record(analyst, batch, "identity", at(20), text="present"),
            record(analyst, batch, "rcp", at(25), 98.0, "%"),
            record(analyst, batch, "endotoxin", at(40), 0.9, "EU/mL"),
            record(analyst, batch, "appearance", at(5), text="conforms"),
            record(analyst, batch, "vector-integrity", at(22), 97.5, "%"),
            record(analyst, batch, "endotoxin-dose", at(41), 0.9 * batch.volume_ml, "EU"),
            record(analyst, batch, "vector-function", at(70), 82.0, "%"),
        ]
    return [  # generator 213Bi: minutes count
        record(analyst, batch, "activity", at(3), dose_calibrator_mbq(batch, at(3), 1.0), "MBq"),
        record(analyst, batch, "identity", at(4), text="present"),
        record(analyst, batch, "ph", at(5), 7.2, "pH"),
        record(analyst, batch, "rcp", at(6), 98.6, "%"),
        record(analyst, batch, "appearance", at(2), text="conforms"),
        record(analyst, batch, "filter-integrity", at(2), text="pass"),
        record(analyst, batch, "vector-integrity", at(7), 97.0, "%"),
    ]


def reviewed(batch: Batch, *, analyst, reviewer, committed) -> Batch:
    with committed():
        release_required_results(analyst, batch)
    disposition.batch_review(actor=reviewer, password=PASSWORD, batch=batch)
    batch.refresh_from_db()
    return batch


def conditionally_released(batch: Batch, *, analyst, reviewer, qp, committed) -> Batch:
    reviewed(batch, analyst=analyst, reviewer=reviewer, committed=committed)
    with committed():
        disposition.batch_release_conditionally(actor=qp, password=PASSWORD, batch=batch)
    batch.refresh_from_db()
    return batch


def with_rapid_sterility(batch: Batch) -> Batch:
    """The batch's specification as at a site whose sterility test is a validated rapid
    method (Ph. Eur. 5.1.6) with a result within the shelf life: no 14-day incubation wait,
    so a full release straight after review can happen. Changed in place for the test."""
    batch.specification.criteria.filter(test_code="sterility").update(earliest_after=None)
    return batch
