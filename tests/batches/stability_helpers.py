"""A study set up the way a site does it: an approved protocol and lots made long enough
ago for their pulls to lie in the past."""

from datetime import timedelta

from qc.stability.services import stability_protocol_approve, stability_protocol_create_draft
from tests.conftest import PASSWORD

H = timedelta(hours=1)
MIN = timedelta(minutes=1)
AC225_POINTS = [(0 * H, 5 * MIN), (1 * H, 10 * MIN), (2 * H, 10 * MIN), (4 * H, 15 * MIN),
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
