"""The public verify page: a verdict nobody can mistake (colour, symbol and word), and for a
conditional certificate where the lot stands now and which tests are still to come."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from batches.disposition import services as disposition
from batches.models import Certificate, CertificateStatus
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def conditional_certificate(signing_identity, reviewed_pb212, qp, committed):
    with committed():
        disposition.batch_release_conditionally(actor=qp, password=PASSWORD,
                                                batch=reviewed_pb212)
    certificate = Certificate.objects.get(batch=reviewed_pb212)
    assert certificate.status == CertificateStatus.ISSUED, certificate.error
    return certificate


def _verify(client, pdf: bytes) -> str:
    response = client.post(reverse("certificate-verify"),
                           {"file": SimpleUploadedFile("c.pdf", pdf, "application/pdf")})
    assert response.status_code == 200
    return response.content.decode()


def test_a_genuine_conditional_certificate_shows_the_lot_status_and_the_tests_to_come(
        client, conditional_certificate):
    html = _verify(client, conditional_certificate.pdf.read())
    assert 'data-verdict="ok"' in html and "verdict-ok" in html
    assert "✔</span>\n    GENUINE" in html
    assert "Conditionally released" in html
    assert "Sterility" in html and "Ra-224 breakthrough" in html
    # the signing time reads in the one format: site zone, UTC in brackets
    assert " UTC)" in html


def test_a_changed_file_is_not_genuine_in_red_with_a_cross(client, conditional_certificate):
    pdf = conditional_certificate.pdf.read()
    lot = conditional_certificate.batch.lot_number.encode()
    html = _verify(client, pdf.replace(lot, b"X" * len(lot), 1))
    assert 'data-verdict="bad"' in html and "verdict-bad" in html
    assert "✖</span>\n    NOT GENUINE" in html
    assert 'data-testid="lot-status"' not in html


def test_a_file_that_is_no_pdf_is_not_genuine(client, signing_identity):
    html = _verify(client, b"hello")
    assert 'data-verdict="bad"' in html and "Not a readable PDF" in html
