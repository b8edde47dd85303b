"""Demo stability studies, one per demo product, recorded through the services: an approved
protocol with its plan (which test at which time point), three study lots registered in the
past, and every planned pull of every lot. The 225Ac study has a lot whose RCP falls faster
(separate slopes), the 212Pb lots start at different purities with one slope (common slope),
the 213Bi lots agree (pooled)."""

from datetime import datetime, timedelta

from django.db import transaction

from qc.models import Product
from qc.stability.models import StabilityProtocol
from qc.stability.plan import protocol_plan
from qc.stability.services import stability_protocol_approve, stability_protocol_create_draft

from ..demo import _demo_clock, _password
from ..demo_sources import _elution
from ..models import Batch, Generator, SourceLot
from ..records.registration import batch_register
from .services import stability_result_record

H, MIN = timedelta(hours=1), timedelta(minutes=1)
NOISE = (0.14, -0.09, 0.04, -0.12, 0.08, -0.03, 0.11, -0.06, 0.02, -0.1, 0.07, -0.05)


def _noise(lot: int, point: int, scale: float = 1.0) -> float:
    return NOISE[(lot * 7 + point * 3) % len(NOISE)] * scale


STUDIES = {
    "ac225-psma-it": {
        "protocol": dict(storage_temperature_c=22.0, container="10 mL type I glass vial, "
                         "bromobutyl stopper", concentration_bq_per_ml=2.8e6,
                         time_points=[(0 * H, 45 * MIN), (1 * H, 10 * MIN), (2 * H, 10 * MIN),
                                      (3 * H, 10 * MIN), (4 * H, 15 * MIN), (6 * H, 15 * MIN)],
                         criteria=[("rcp", "after re-equilibration (Fr-221 window)"),
                                   ("vector-integrity", "HPLC, radiolysis fragments"), "ph",
                                   "appearance"],
                         # RCP at every pull; the HPLC run every other hour; pH and
                         # appearance at the start, the intended shelf life and the last
                         schedule={"rcp": [0 * H, H, 2 * H, 3 * H, 4 * H, 6 * H],
                                   "vector-integrity": [0 * H, 2 * H, 4 * H, 6 * H],
                                   "ph": [0 * H, 3 * H, 6 * H],
                                   "appearance": [0 * H, 3 * H, 6 * H]}),
        "trends": {  # lot index, hours -> value
            "rcp": lambda i, h, k: 98.6 - (1.05 if i == 2 else 0.42) * h + _noise(i, k),
            "vector-integrity": lambda i, h, k: 99.3 - 0.35 * h + _noise(i, k, 0.5),
            "ph": lambda i, h, k: 7.0 + _noise(i, k, 0.5),
            "appearance": lambda i, h, k: "conforms",
        },
    },
    "pb212-dotamtate": {
        "protocol": dict(storage_temperature_c=22.0, container="10 mL type I glass vial",
                         concentration_bq_per_ml=1.0e8,
                         time_points=[(0 * H, 15 * MIN), (4 * H, 20 * MIN), (8 * H, 20 * MIN),
                                      (24 * H, 45 * MIN), (48 * H, 60 * MIN)],
                         criteria=["rcp", "ph"],
                         schedule={"rcp": [0 * H, 4 * H, 8 * H, 24 * H, 48 * H],
                                   "ph": [0 * H, 24 * H, 48 * H]}),
        "trends": {
            "rcp": lambda i, h, k: (98.6, 99.1, 99.5)[i] - 0.045 * h + _noise(i, k, 0.8),
            "ph": lambda i, h, k: 7.1 + _noise(i, k, 0.5),
        },
    },
    "bi213-dotatoc": {
        "protocol": dict(storage_temperature_c=22.0, container="5 mL type I glass vial",
                         concentration_bq_per_ml=5.0e8,
                         time_points=[(0 * H, 5 * MIN), (0.5 * H, 5 * MIN), (1 * H, 5 * MIN),
                                      (2 * H, 10 * MIN)],
                         criteria=["rcp", "ph"],
                         schedule={"rcp": [0 * H, 0.5 * H, 1 * H, 2 * H],
                                   "ph": [0 * H, 1 * H, 2 * H]}),
        "trends": {
            "rcp": lambda i, h, k: 98.8 - 0.7 * h + _noise(i, k, 0.8),
            "ph": lambda i, h, k: 7.0 + _noise(i, k, 0.5),
        },
    },
}


def _lots(product: Product, operator) -> list[Batch]:
    """Three study lots made days ago on sources of the demo (expired generators' earlier
    elutions, the 225Ac lot after its reference time)."""
    lots = []
    for i in range(3):
        number = f"STAB-{product.nuclide.replace('-', '')}-{i + 1:02d}"
        existing = Batch.objects.filter(lot_number=number).first()
        if existing:
            lots.append(existing)
            continue
        if product.code == "ac225-psma-it":
            lot = SourceLot.objects.get(lot_number="AC225-TH232-2611-07")
            eos = lot.reference_time + timedelta(hours=12 + 12 * i)
            source, activity, volume = {"source_lot": lot}, 8.0e6, 4.0
        else:
            serial = "RA224-GEN-0109" if product.nuclide == "Pb-212" else "AC225-GEN-0024"
            generator = Generator.objects.get(serial=serial)
            eluted = generator.loaded_at + timedelta(days=(3 if serial[:2] == "RA" else 8) + i)
            eos = eluted + (40 if serial[:2] == "RA" else 10) * MIN
            source = {"elution": _elution(generator, eluted)}
            activity, volume = (3.0e8, 5.0) if serial[:2] == "RA" else (1.1e9, 3.0)
        with _demo_clock(eos + 2 * MIN):
            lots.append(batch_register(
                actor=operator, lot_number=number, product=product, eos=eos,
                calibration_time=eos + (20 * MIN if product.nuclide == "Bi-213" else H),
                activity_bq=activity, volume_ml=volume, **source))
    return lots


def _pull(analyst, protocol, lot: Batch, point, code: str, value) -> None:
    measured: datetime = lot.eos + max(point.after_eos, 40 * MIN if code == "rcp"
                                       and lot.product.nuclide == "Ac-225" else 3 * MIN)
    times = ({"developed_at": measured - 36 * MIN}
             if code == "rcp" and lot.product.nuclide == "Ac-225" else {})
    unit = {"rcp": "%", "vector-integrity": "%", "ph": "pH"}.get(code, "")
    text = value if isinstance(value, str) else ""
    with _demo_clock(measured + MIN):
        stability_result_record(
            actor=analyst, batch=lot, protocol=protocol, time_point_after_eos=point.after_eos,
            test_code=code, measured_at=measured, value=None if text else round(value, 2),
            unit="" if text else unit, value_text=text, method_times=times,
            counting_window="product_line" if code == "rcp" and lot.product.nuclide == "Pb-212"
            else "")


@transaction.atomic
def seed_stability(users) -> dict[str, StabilityProtocol]:
    """Idempotent: a product that has a protocol is left as it is."""
    protocols = {}
    for code, plan in STUDIES.items():
        product = Product.objects.get(code=code)
        if StabilityProtocol.objects.filter(product=product).exists():
            continue
        draft = stability_protocol_create_draft(
            actor=users["reviewer"], product=product,
            specification=product.specifications.get(status="approved"),
            change_reason="Demo stability study", **plan["protocol"])
        protocol = stability_protocol_approve(actor=users["qp"], password=_password("qp"),
                                              protocol=draft, comment="Demo study approved.")
        lots = _lots(product, users["operator"])
        planned = protocol_plan(protocol)
        for i, lot in enumerate(lots):
            for k, point in enumerate(planned.time_points):
                hours = point.after_eos.total_seconds() / 3600
                for criterion in planned.tests_at(point):
                    trend = plan["trends"][criterion.test_code]
                    _pull(users["analyst"], protocol, lot, point, criterion.test_code,
                          trend(i, hours, k))
        protocols[code] = protocol
    return protocols
