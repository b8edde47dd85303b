"""The product's shelf-life estimate from its lots' stability results, and the check that
keeps an approved shelf life within it."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from batches.stability.selectors import product_stability, shelf_life_check
from batches.stability.services import product_shelf_life_approve
from qc.errors import RuleViolation
from qc.models import AuditEvent, Signature
from qc.stability import Point, estimate_shelf_life
from tests.batches.stability_helpers import H, approved_protocol, record_study
from tests.conftest import PASSWORD
from tests.factories import make_ac225_batch

WOBBLE = [0.12, -0.08, 0.05, -0.11, 0.09, -0.04, 0.07, -0.10, 0.03, 0.06, -0.05, 0.08, -0.02,
          0.11, -0.07]


def wobble(i, hours):
    return WOBBLE[(i * 5 + int(hours)) % len(WOBBLE)]


TRENDS = {
    "rcp": lambda i, h: 98.5 - (1.2 if i == 2 else 0.5) * h + wobble(i, h),  # lot 3 faster
    "vector-integrity": lambda i, h: 99.2 - 0.3 * h + wobble(i, h) / 2,
    "ph": lambda i, h: 7.0 + wobble(i, h),
    "appearance": lambda i, h: "conforms",
}


@pytest.fixture
def study(products, reviewer, qp, operator, analyst, now):
    product = products["ac225-psma-it"]
    protocol = approved_protocol(product, reviewer=reviewer, qp=qp)
    lots = [make_ac225_batch(product=product, operator=operator, eos=now - (10 + i) * H)
            for i in range(3)]
    return product, protocol, lots


def test_a_faster_trending_lot_makes_the_separate_model_and_limits_the_shelf_life(
        study, analyst):
    product, protocol, lots = study
    record_study(analyst, protocol, lots, TRENDS)

    stability = product_stability(product)

    rcp = next(s for s in stability.criteria if s.criterion.test_code == "rcp")
    assert rcp.model == "separate"
    assert rcp.estimate.limiting_batch == lots[2].lot_number
    assert rcp.batches == 3 and rcp.points == 15
    # the same numbers as the pure estimate on the recorded values
    direct = estimate_shelf_life(
        [Point(r.batch.lot_number, r.after_eos_s / 3600, r.value)
         for rs in rcp.series.values() for r in rs], lower_limit=90.0)
    assert rcp.statistical_s == pytest.approx(direct.statistical_h * 3600)
    assert stability.completed
    assert stability.supported_shelf_life_s == min(s.shelf_life_s for s in stability.criteria)
    assert stability.complete_lots == sorted(lot.lot_number for lot in lots)


def test_fewer_lots_than_required_is_not_enough_data_with_the_count(study, analyst):
    product, protocol, lots = study
    record_study(analyst, protocol, lots[:2], TRENDS)

    stability = product_stability(product)

    assert not stability.completed
    assert stability.supported_shelf_life_s is None
    assert "Not enough data: 2 of the 3 batches required" in stability.reason
    rcp = next(s for s in stability.criteria if s.criterion.test_code == "rcp")
    assert "2 batches of the 3 required" in rcp.reason


def test_a_product_without_a_protocol_says_so(products):
    stability = product_stability(products["bi213-dotatoc"])

    assert stability.reason == "No approved stability protocol for this product."
    assert not stability.completed


def test_an_approved_shelf_life_longer_than_the_supported_one_is_refused_with_both_numbers(
        study, analyst, qp):
    product, protocol, lots = study
    record_study(analyst, protocol, lots, TRENDS)
    supported_h = product_stability(product).supported_shelf_life_s / 3600

    with pytest.raises(RuleViolation) as refused:
        product_shelf_life_approve(actor=qp, password=PASSWORD, product=product,
                                   shelf_life=timedelta(hours=24))

    assert "A shelf life of 24 h for ac225-psma-it exceeds the " in refused.value.message
    assert f"{supported_h:.3g} h its stability data support" in refused.value.message
    product.refresh_from_db()
    assert product.shelf_life == timedelta(hours=3)


def test_a_shelf_life_within_the_supported_one_is_approved_by_e_signature(study, analyst, qp):
    product, protocol, lots = study
    record_study(analyst, protocol, lots, TRENDS)

    product_shelf_life_approve(actor=qp, password=PASSWORD, product=product,
                               shelf_life=timedelta(hours=4), comment="stability study v1")

    product.refresh_from_db()
    assert product.shelf_life == timedelta(hours=4)
    assert Signature.objects.filter(object_type="qc.product", object_id=str(product.pk),
                                     meaning="approved").exists()
    event = AuditEvent.objects.get(action="product.shelf_life_approve")
    assert event.before == {"shelf_life_s": 3 * 3600.0}
    assert event.after["shelf_life_s"] == 4 * 3600.0


def test_without_a_completed_study_the_check_lets_a_shelf_life_through(products):
    shelf_life_check(product=products["bi213-dotatoc"], shelf_life=timedelta(hours=2))


def test_an_analyst_does_not_approve_a_shelf_life(products, analyst):
    with pytest.raises(RuleViolation, match="Only QA or a Qualified Person"):
        product_shelf_life_approve(actor=analyst, password=PASSWORD,
                                   product=products["bi213-dotatoc"], shelf_life=H)


def test_a_shelf_life_of_zero_is_refused(products, qp):
    with pytest.raises(ValidationError, match="> 0"):
        product_shelf_life_approve(actor=qp, password=PASSWORD,
                                   product=products["bi213-dotatoc"], shelf_life=0 * H)


def test_a_certificate_statement_says_whether_stability_data_support_the_shelf_life(
        study, analyst):
    from batches.stability.selectors import shelf_life_statement

    product, protocol, lots = study
    assert shelf_life_statement(product) == "Shelf life not yet supported by stability data."

    record_study(analyst, protocol, lots, TRENDS)

    assert shelf_life_statement(product) == (
        "Shelf life supported by stability data up to 6 h (protocol v1, 3 batches, ICH Q1E).")


def test_a_batch_more_concentrated_than_the_study_is_not_covered(study, analyst):
    from batches.stability.selectors import shelf_life_statement

    product, protocol, lots = study
    record_study(analyst, protocol, lots, TRENDS)

    assert shelf_life_statement(product, concentration_bq_per_ml=4.0e6) == (
        "Shelf life not supported by stability data at this activity concentration "
        "(4.00 MBq/mL at EOS; the study covers up to 2.80 MBq/mL).")
    assert shelf_life_statement(product, concentration_bq_per_ml=2.0e6).startswith(
        "Shelf life supported by stability data up to 6 h")
