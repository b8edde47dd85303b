"""The QR code on a release certificate, the verify page it opens, and a signed certificate
read back with poppler (pdffonts, pdftotext) and qpdf as a reader or printer would."""

import shutil
import subprocess

import pytest

from batches.certificates.content import verify_url
from batches.certificates.lookup import certificate_lookup
from batches.models import CertificateStatus
from batches.pdf.qr import qr_drawing
from tests.batches.test_certificate_issue import issue
from tests.poppler import fonts_not_embedded

pytestmark = pytest.mark.django_db

SITE = "https://release.example-radiopharmacy.nl"


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: apt-get install -y {package}")
    return path


def decoded_qr_codes(pdf_path, tmp_path) -> list[str]:
    subprocess.run([tool("pdftoppm", "poppler-utils"), "-r", "150", "-f", "1", "-l", "1",
                    "-png", str(pdf_path), str(tmp_path / "page")], check=True)
    run = subprocess.run([tool("zbarimg", "zbar-tools"), "--raw", "-q",
                          str(tmp_path / "page-1.png")], capture_output=True, text=True)
    return run.stdout.split()


@pytest.fixture
def site_url(settings):
    settings.SITE_URL = SITE
    return SITE


@pytest.fixture
def certificate(signing_identity, site_url, tested_batch, qp, committed):  # noqa: F811
    return issue(tested_batch, qp, committed)


def test_the_qr_drawing_encodes_exactly_the_url_it_is_given():
    url = f"{SITE}/verify/?document=CoR-AC225-2611-000-v2&sha256={'a' * 64}"
    assert qr_drawing(url, 64).contents[0].value == url


def test_the_qr_code_on_a_certificate_opens_its_verify_page_with_id_and_signed_record_hash(
        certificate, tmp_path):
    expected = (f"{SITE}/verify/?document={certificate.document_id}"
                f"&sha256={certificate.signature.record_sha256}")
    assert verify_url(certificate) == expected
    path = tmp_path / "certificate.pdf"
    path.write_bytes(certificate.pdf.read())
    assert decoded_qr_codes(path, tmp_path) == [expected]


def test_a_certificate_without_a_site_url_carries_no_qr_code(
        signing_identity, tested_batch, qp, committed, settings, tmp_path):  # noqa: F811
    settings.SITE_URL = ""
    certificate = issue(tested_batch, qp, committed)
    path = tmp_path / "certificate.pdf"
    path.write_bytes(certificate.pdf.read())
    assert verify_url(certificate) == ""
    assert decoded_qr_codes(path, tmp_path) == []


def test_a_signed_certificate_reads_cleanly_in_pdffonts_pdftotext_and_qpdf(certificate,
                                                                           tmp_path):
    path = tmp_path / "certificate.pdf"
    path.write_bytes(certificate.pdf.read())
    fonts = subprocess.run([tool("pdffonts", "poppler-utils"), str(path)],
                           capture_output=True, text=True)
    assert fonts.returncode == 0 and fonts.stderr == "", fonts.stderr
    assert "DejaVuSans" in fonts.stdout and "Courier" in fonts.stdout
    # Every font is embedded but the signature stamp's Courier (one of the PDF standard 14).
    assert fonts_not_embedded(path) == {"Courier"}, fonts.stdout
    check = subprocess.run([tool("qpdf", "qpdf"), "--check", str(path)], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    text = subprocess.run([tool("pdftotext", "poppler-utils"), "-layout", str(path), "-"],
                          capture_output=True, text=True, check=True)
    assert text.stderr == ""
    title = text.stdout.split("Certificate of analysis and batch release")[2]
    assert certificate.document_id in title
    assert f"v{certificate.version} · Version" not in text.stdout
    assert " version 1" not in title.splitlines()[1]  # "CoR-...-v1", not "v1 version 1"


def test_the_signature_footer_gives_site_time_with_utc_in_brackets(certificate, tmp_path):
    from zoneinfo import ZoneInfo

    from django.conf import settings

    path = tmp_path / "certificate.pdf"
    path.write_bytes(certificate.pdf.read())
    text = subprocess.run([tool("pdftotext", "poppler-utils"), str(path), "-"],
                          capture_output=True, text=True, check=True).stdout
    local = certificate.signature.signed_at.astimezone(ZoneInfo(settings.TIME_ZONE))
    footer = text[text.index("Electronic signatures:"):]
    assert f"{local:%Y-%m-%d %H:%M} {local.tzname()} (" in footer
    assert " UTC)" in footer


def test_the_verify_page_shows_a_current_certificate_from_its_qr_link(certificate, client):
    response = client.get(verify_url(certificate).removeprefix(SITE))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-verdict="current"' in page
    assert f"GENUINE and CURRENT: {certificate.document_id}" in page
    assert certificate.batch.lot_number in page and certificate.signature.printed_name in page


def test_the_verify_page_says_a_superseded_version_is_no_longer_current(
        certificate, qp, committed, client):
    newer = issue(certificate.batch, qp, committed)
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.SUPERSEDED
    page = client.get(verify_url(certificate).removeprefix(SITE)).content.decode()
    assert 'data-verdict="superseded"' in page
    assert f"use {newer.document_id}" in page


def test_a_fingerprint_that_does_not_match_the_signed_record_is_not_genuine(certificate,
                                                                            client):
    response = client.get("/verify/", {"document": certificate.document_id, "sha256": "0" * 64})
    assert response.status_code == 200
    assert 'data-verdict="mismatch"' in response.content.decode()
    assert "NOT GENUINE" in response.content.decode()


def test_an_unknown_document_id_is_not_genuine_and_answers_404(client, db):
    response = client.get("/verify/", {"document": "CoR-NOPE-v1", "sha256": "a" * 64})
    assert response.status_code == 404
    assert "this site issued no certificate CoR-NOPE-v1" in response.content.decode()


def test_a_malformed_fingerprint_is_refused_with_what_to_do(client, db):
    response = client.get("/verify/", {"document": "CoR-X-v1", "sha256": "xyz"})
    assert response.status_code == 400
    assert "64 hexadecimal characters" in response.content.decode()


def test_a_document_id_alone_is_looked_up_and_says_only_the_id_was_checked(certificate):
    lookup = certificate_lookup(document_id=certificate.document_id)
    assert lookup.verdict == "current"
    assert any("only the document id was checked" in line for line in lookup.details)
