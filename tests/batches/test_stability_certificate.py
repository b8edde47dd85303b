"""A release certificate says whether stability data support the shelf life it states."""

import subprocess

import pytest

from tests.batches.stability_helpers import H, approved_protocol, record_study
from tests.batches.test_certificate_issue import issue
from tests.batches.test_stability_estimate import TRENDS
from tests.factories import make_ac225_batch, record_release_required_results

pytestmark = pytest.mark.django_db


def certificate_text(certificate, tmp_path) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(certificate.pdf.read())
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return " ".join(text.split())


def released_lot(products, operator, analyst, now, committed):
    lot = make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                           eos=now - 50 * H / 60)
    with committed():
        record_release_required_results(lot, analyst, now=now)
    lot.refresh_from_db()
    return lot


def test_without_a_completed_study_the_certificate_says_so(
        signing_identity, products, operator, analyst, qp, now, committed, tmp_path):
    lot = released_lot(products, operator, analyst, now, committed)

    certificate = issue(lot, qp, committed)

    assert "Shelf life not yet supported by stability data." in certificate_text(
        certificate, tmp_path)


def test_with_a_completed_study_the_certificate_names_it(
        signing_identity, products, operator, analyst, reviewer, qp, now, committed,
        tmp_path):
    product = products["ac225-psma-it"]
    protocol = approved_protocol(product, reviewer=reviewer, qp=qp)
    study_lots = [make_ac225_batch(product=product, operator=operator,
                                   eos=now - (10 + i) * H) for i in range(3)]
    record_study(analyst, protocol, study_lots, TRENDS)
    lot = released_lot(products, operator, analyst, now, committed)

    certificate = issue(lot, qp, committed)

    assert ("Shelf life supported by stability data up to 6 h (protocol v1, 3 batches, "
            "ICH Q1E).") in certificate_text(certificate, tmp_path)
