"""A study set up the way a site does it: an approved protocol and lots made long enough
ago for their pulls to lie in the past."""

from datetime import timedelta

from batches.stability.services import stability_result_record
from qc.stability.services import stability_protocol_approve, stability_protocol_create_draft
from tests.conftest import PASSWORD

H = timedelta(hours=1)
MIN = timedelta(minutes=1)
AC225_POINTS = [(0 * H, 45 * MIN), (1 * H, 10 * MIN), (2 * H, 10 * MIN), (4 * H, 15 * MIN),
                (6 * H, 15 * MIN)]


def approved_protocol(product, *, reviewer, qp, time_points=AC225_POINTS,
                      criteria=("rcp", "vector-integrity", "ph", "appearance"), **fields):
    protocol = stability_protocol_create_draft(
        actor=reviewer, product=product, specification=product.specifications.get(
            status="approved"),
        storage_temperature_c=fields.pop("storage_temperature_c", 22.0),
        container=fields.pop("container", "10 mL type I glass vial"),
        concentration_bq_per_ml=fields.pop("concentration_bq_per_ml", 2.8e6),
        time_points=time_points, criteria=list(criteria), **fields)
    return stability_protocol_approve(actor=qp, password=PASSWORD, protocol=protocol)


def pull(analyst, protocol, lot, *, at, test_code, value=None, text="", late=timedelta(0)):
    """One result at its time point; a radio-TLC strip counted 35 min after development
    (Fr-221 regrown), the T0 strip developed as soon as the sample is taken."""
    measured = lot.eos + max(at, 40 * MIN) + late
    unit = {"rcp": "%", "vector-integrity": "%", "ph": "pH"}.get(test_code, "")
    return stability_result_record(
        actor=analyst, batch=lot, protocol=protocol, time_point_after_eos=at,
        test_code=test_code, measured_at=measured, value=value, unit=unit, value_text=text,
        method_times={"developed_at": measured - 35 * MIN} if test_code == "rcp" else {})


def record_study(analyst, protocol, lots, trends):
    """`trends` maps a test code to f(lot index, hours after EOS) -> value."""
    for i, lot in enumerate(lots):
        for point in protocol.time_points.order_by("position"):
            hours = point.after_eos.total_seconds() / 3600
            for code, trend in trends.items():
                value = trend(i, hours)
                if isinstance(value, str):
                    pull(analyst, protocol, lot, at=point.after_eos, test_code=code, text=value)
                else:
                    pull(analyst, protocol, lot, at=point.after_eos, test_code=code,
                         value=round(value, 2))
