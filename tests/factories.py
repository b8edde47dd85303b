"""Factories built on the services, so test data obeys the same rules as real data."""

from datetime import datetime, timedelta

from django.utils import timezone

from batches import services
from batches.models import Elution, Generator, GeneratorKind, ProductionRoute, SourceLot
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


def make_instrument(kind=InstrumentKind.DOSE_CALIBRATOR, **overrides) -> Instrument:
    n = next(_counter)
    fields = {"serial": f"INS-{n:05d}", "name": f"Instrument {n}", "kind": kind,
              "calibration_due": timezone.now().date() + timedelta(days=90), **overrides}
    return Instrument.objects.create(**fields)


def make_source_lot(*, reference_time: datetime | None = None, ratio_percent: float = 0.2
                    ) -> SourceLot:
    n = next(_counter)
    return SourceLot.objects.create(
        lot_number=f"AC225-LOT-{n:04d}", supplier="Test supplier",
        route=ProductionRoute.TH232_SPALLATION, activity_bq=3.7e9,
        reference_time=reference_time or timezone.now() - timedelta(days=5),
        ac227_ratio_percent=ratio_percent)


def make_elution(kind: str, *, eluted_at: datetime) -> Elution:
    n = next(_counter)
    parent = "Ra-224" if kind == GeneratorKind.RA224_PB212 else "Ac-225"
    generator = Generator.objects.create(
        kind=kind, serial=f"GEN-{n:04d}", parent_nuclide=parent, loaded_activity_bq=1e9,
        loaded_at=eluted_at - timedelta(days=2), supplier="Test supplier",
        expires_on=(eluted_at + timedelta(days=10)).date())
    return Elution.objects.create(generator=generator, eluted_at=eluted_at, activity_bq=5e8)


def make_ac225_batch(*, product, operator, eos, source_lot=None, lot_number=None, **kw):
    return services.batch_register(
        actor=operator, lot_number=lot_number or f"AC-{next(_counter):05d}", product=product,
        source_lot=source_lot or make_source_lot(), eos=eos,
        calibration_time=kw.pop("calibration_time", eos + timedelta(hours=1)),
        activity_bq=kw.pop("activity_bq", 8.0e6), volume_ml=kw.pop("volume_ml", 4.0), **kw)


def make_pb212_batch(*, product, operator, eos, lot_number=None, **kw):
    return services.batch_register(
        actor=operator, lot_number=lot_number or f"PB-{next(_counter):05d}", product=product,
        elution=make_elution(GeneratorKind.RA224_PB212, eluted_at=eos - timedelta(minutes=40)),
        eos=eos, calibration_time=kw.pop("calibration_time", eos + timedelta(hours=1)),
        activity_bq=kw.pop("activity_bq", 3.0e8), volume_ml=kw.pop("volume_ml", 5.0), **kw)


def make_bi213_batch(*, product, operator, eos, lot_number=None, **kw):
    return services.batch_register(
        actor=operator, lot_number=lot_number or f"BI-{next(_counter):05d}", product=product,
        elution=make_elution(GeneratorKind.AC225_BI213, eluted_at=eos - timedelta(minutes=10)),
        eos=eos, calibration_time=kw.pop("calibration_time", eos + timedelta(minutes=20)),
        activity_bq=kw.pop("activity_bq", 1.1e9), volume_ml=kw.pop("volume_ml", 3.0), **kw)


def criterion(batch, test_code):
    return batch.specification.criteria.get(test_code=test_code)
