"""The plan of a stability protocol: which criterion is tested at which time point, signed
with the protocol and refused when it makes no study."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from qc.append_only import AppendOnlyError
from qc.models import Signature
from qc.signatures import record_hash
from qc.stability.models import StabilityPlannedTest
from qc.stability.plan import protocol_plan
from qc.stability.services import (
    PROTOCOL_TYPE,
    protocol_record,
    stability_protocol_approve,
    stability_protocol_create_draft,
)
from tests.conftest import PASSWORD

H = timedelta(hours=1)
MIN = timedelta(minutes=1)
POINTS = [(0 * H, 5 * MIN), (1 * H, 10 * MIN), (2 * H, 10 * MIN), (4 * H, 15 * MIN)]


def draft(actor, product, schedule, **overrides):
    fields = {"storage_temperature_c": 22.0, "container": "10 mL type I glass vial",
              "concentration_bq_per_ml": 2.8e6, "time_points": POINTS,
              "criteria": ["rcp", "vector-integrity", "ph"], "schedule": schedule}
    fields.update(overrides)
    return stability_protocol_create_draft(
        actor=actor, product=product, specification=product.specifications.first(), **fields)


def test_each_criterion_is_tested_at_the_time_points_its_plan_names(products, reviewer):
    protocol = draft(reviewer, products["ac225-psma-it"], {
        "rcp": [0 * H, H, 2 * H, 4 * H], "vector-integrity": [0 * H, 4 * H],
        "ph": [0 * H, 2 * H]})

    plan = protocol_plan(protocol)

    assert [[tested for tested in row.tested] for row in plan.rows()] == [
        [True, True, True], [True, False, False], [True, False, True], [True, True, False]]
    assert [c.test_code for c in plan.tests_at(plan.time_points[1])] == ["rcp"]
    record = protocol_record(protocol)
    assert [c["tested_at_s"] for c in record["criteria"]] == [
        [0, 3600, 7200, 14400], [0, 14400], [0, 7200]]


def test_without_a_plan_every_criterion_is_tested_at_every_time_point(products, reviewer):
    protocol = draft(reviewer, products["ac225-psma-it"], None)

    assert all(all(row.tested) for row in protocol_plan(protocol).rows())
    assert StabilityPlannedTest.objects.filter(protocol=protocol).count() == 4 * 3


def test_the_approval_signs_the_plan(products, reviewer, qp):
    protocol = draft(reviewer, products["ac225-psma-it"], {
        "rcp": [0 * H, H, 2 * H, 4 * H], "vector-integrity": [0 * H, 4 * H], "ph": [0 * H]})

    stability_protocol_approve(actor=qp, password=PASSWORD, protocol=protocol)

    signature = Signature.objects.get(object_type=PROTOCOL_TYPE, object_id=str(protocol.pk))
    assert signature.record_sha256 == record_hash(protocol_record(protocol))


def test_a_criterion_planned_at_no_time_point_is_refused(products, reviewer):
    with pytest.raises(ValidationError, match="Test ph is planned at no time point"):
        draft(reviewer, products["ac225-psma-it"], {
            "rcp": [0 * H, H, 2 * H, 4 * H], "vector-integrity": [0 * H]})


def test_a_time_point_at_which_nothing_is_tested_is_refused(products, reviewer):
    with pytest.raises(ValidationError, match="Nothing is tested at 60 min"):
        draft(reviewer, products["ac225-psma-it"], {
            "rcp": [0 * H, 2 * H, 4 * H], "vector-integrity": [0 * H], "ph": [4 * H]})


def test_a_plan_at_a_time_the_protocol_lacks_is_refused(products, reviewer):
    with pytest.raises(ValidationError, match=r"Test ph is planned at 3 h, which is not a "
                                              r"time point of the protocol \(0 s, 60 min, 2 h, "
                                              r"4 h\)"):
        draft(reviewer, products["ac225-psma-it"], {
            "rcp": [0 * H, H, 2 * H, 4 * H], "vector-integrity": [0 * H], "ph": [3 * H]})


def test_a_plan_for_a_test_outside_the_criteria_is_refused(products, reviewer):
    with pytest.raises(ValidationError, match="The plan names test appearance, which the "
                                              "protocol does not test"):
        draft(reviewer, products["ac225-psma-it"], {
            "rcp": [0 * H, H, 2 * H, 4 * H], "vector-integrity": [0 * H], "ph": [0 * H],
            "appearance": [0 * H]})


def test_a_planned_test_is_append_only(products, reviewer):
    protocol = draft(reviewer, products["ac225-psma-it"], None)
    cell = StabilityPlannedTest.objects.filter(protocol=protocol).first()

    with pytest.raises(AppendOnlyError):
        cell.delete()
    with pytest.raises(AppendOnlyError):
        StabilityPlannedTest.objects.filter(protocol=protocol).update(protocol=protocol)
