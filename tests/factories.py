"""Factories built on the services, so test data obeys the same rules as real data."""

from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest import mock

from django.utils import timezone

from batches.models import Elution, Generator, GeneratorKind, ProductionRoute, SourceLot
from batches.records import registration
from batches.records import results as records
from qc.demo_specifications import METHODS, PRODUCTS
from qc.models import Instrument, InstrumentKind, Product, TestMethod
from qc.services import specification_approve, specification_create_draft
from tests.conftest import PASSWORD

_counter = iter(range(1, 10**6))


def make_products(*, reviewer, qp) -> dict[str, Product]:
    for code, name in METHODS.items():
        TestMethod.objects.get_or_create(code=code, defaults={"name": name})
    products = {}
    for row in PRODUCTS:
        fields = {k: v for k, v in row.items() if k not in ("code", "criteria")}
        product = Product.objects.create(code=row["code"], **fields)
        spec = specification_create_draft(actor=reviewer, product=product,
                                          criteria=row["criteria"], change_reason="test")
        specification_approve(actor=qp, password=PASSWORD, specification=spec,
                              effective_from=timezone.now() - timedelta(days=30))
        products[row["code"]] = product
    return products


# Test instruments are qualified for every test of the demo specifications unless a test
# says otherwise (qualified_test_codes=[...]); the qualification rule has its own tests.
ALL_TEST_CODES = sorted({c["test_code"] for row in PRODUCTS for c in row["criteria"]})


def make_instrument(kind=InstrumentKind.DOSE_CALIBRATOR, **overrides) -> Instrument:
    n = next(_counter)
    fields = {"serial": f"INS-{n:05d}", "name": f"Instrument {n}", "kind": kind,
              "calibration_due": timezone.now().date() + timedelta(days=90),
              "qualified_test_codes": ALL_TEST_CODES, **overrides}
    return Instrument.objects.create(**fields)


def make_source_lot(*, reference_time: datetime | None = None, ratio_percent: float = 0.2
                    ) -> SourceLot:
    n = next(_counter)
    return SourceLot.objects.create(
        lot_number=f"AC225-LOT-{n:04d}", supplier="Test supplier",
        route=ProductionRoute.TH232_SPALLATION, activity_bq=3.7e9,
        reference_time=reference_time or timezone.now() - timedelta(days=5),
        ac227_ratio_percent=ratio_percent)


def make_elution(kind: str, *, eluted_at: datetime, activity_bq: float = 2e9) -> Elution:
    """A generator loaded with 4 GBq two days before its first elution, which holds what
    ingrowth gives (~2.8 GBq Pb-212, ~3.4 GBq Bi-213); `activity_bq` must stay below."""
    n = next(_counter)
    parent = "Ra-224" if kind == GeneratorKind.RA224_PB212 else "Ac-225"
    generator = Generator.objects.create(
        kind=kind, serial=f"GEN-{n:04d}", parent_nuclide=parent, loaded_activity_bq=4e9,
        loaded_at=eluted_at - timedelta(days=2), supplier="Test supplier",
        expires_on=(eluted_at + timedelta(days=10)).date())
    return Elution.objects.create(generator=generator, eluted_at=eluted_at,
                                  activity_bq=activity_bq)


def _register(**fields):
    """batch_register, at the time the batch was made when it has expired since: a batch
    expired at registration is refused, so a test's old batch was registered back then."""
    eos, shelf_life = fields["eos"], fields["product"].shelf_life
    if eos + shelf_life <= timezone.now():
        with application_time(eos + timedelta(minutes=2)):
            return registration.batch_register(**fields)
    return registration.batch_register(**fields)


def make_ac225_batch(*, product, operator, eos, source_lot=None, lot_number=None, **kw):
    return _register(
        actor=operator, lot_number=lot_number or f"AC-{next(_counter):05d}", product=product,
        source_lot=source_lot or make_source_lot(
            reference_time=min(timezone.now() - timedelta(days=5), eos - timedelta(days=1))),
        eos=eos,
        calibration_time=kw.pop("calibration_time", eos + timedelta(hours=1)),
        activity_bq=kw.pop("activity_bq", 8.0e6), volume_ml=kw.pop("volume_ml", 4.0), **kw)


def make_pb212_batch(*, product, operator, eos, lot_number=None, **kw):
    return _register(
        actor=operator, lot_number=lot_number or f"PB-{next(_counter):05d}", product=product,
        elution=make_elution(GeneratorKind.RA224_PB212, eluted_at=eos - timedelta(minutes=40)),
        eos=eos, calibration_time=kw.pop("calibration_time", eos + timedelta(hours=1)),
        activity_bq=kw.pop("activity_bq", 3.0e8), volume_ml=kw.pop("volume_ml", 5.0), **kw)


def make_bi213_batch(*, product, operator, eos, lot_number=None, **kw):
    return _register(
        actor=operator, lot_number=lot_number or f"BI-{next(_counter):05d}", product=product,
        elution=make_elution(GeneratorKind.AC225_BI213, eluted_at=eos - timedelta(minutes=10)),
        eos=eos, calibration_time=kw.pop("calibration_time", eos + timedelta(minutes=20)),
        activity_bq=kw.pop("activity_bq", 1.1e9), volume_ml=kw.pop("volume_ml", 3.0), **kw)


def criterion(batch, test_code):
    return batch.specification.criteria.get(test_code=test_code)


def passing_result(batch, criterion, *, at: datetime) -> dict:
    """Keyword arguments for result_record that pass `criterion` when measured at `at`."""
    from qc.engine import site_engine

    if criterion.is_text:
        return {"value_text": criterion.text_requirement.split("|")[0]}
    if criterion.quantity == "activity":
        factor = site_engine().decay_factor(
            batch.product.nuclide, (at - batch.calibration_time).total_seconds())
        return {"value": batch.activity_bq * factor / 1e6, "unit": "MBq"}
    if criterion.quantity == "activity_concentration":
        factor = site_engine().decay_factor(
            batch.product.nuclide, (at - batch.calibration_time).total_seconds())
        return {"value": batch.activity_concentration_bq_per_ml * factor / 1e6,
                "unit": "MBq/mL"}
    low, high = criterion.lower_limit, criterion.upper_limit
    if low is not None and high is not None:
        value = (low + high) / 2
    elif low is not None:
        value = min(low + 0.5 * (100 - low), 99.9) if criterion.unit == "%" else low * 1.5
    else:
        value = high / 4
    return {"value": value, "unit": criterion.unit}


def record_release_required_results(batch, analyst, *, now: datetime) -> list:
    """Every release-required criterion gets a passing result, measured validly."""
    results = []
    for c in batch.specification.criteria.filter(release_before_result=False):
        if c.quantity == "impurity_ratio":
            continue  # recorded from the source-lot certificate at registration
        at = min(now, batch.eos + timedelta(minutes=45))
        method_times = {}
        if c.validity == "daughter_equilibrium":
            method_times["developed_at"] = at - timedelta(minutes=40)
        results.append(records.result_record(
            actor=analyst, batch=batch, criterion=c, measured_at=at,
            method_times=method_times, **passing_result(batch, c, at=at)))
    return results


@contextmanager
def application_time(moment: datetime):
    """Run the services as if at `moment` (e.g. register a batch when it was made: a batch
    already expired cannot be registered now)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield
