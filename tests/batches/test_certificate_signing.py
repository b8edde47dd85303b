"""PAdES signing of the certificate, checked by pyHanko and by poppler's pdfsig."""

import io
import os
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from batches.pdf import SIGNATURE_BOX
from batches.pdf.render import render_certificate
from batches.pdf.signing import (
    create_signing_identity,
    load_signer,
    sha256_hex,
    sign_pdf,
    stamp_safe,
    verify_pdf,
)
from tests.batches.test_certificate_pdf import make_certificate_data
from tests.poppler import pdf_text, poppler

PASSPHRASE = b"correct horse battery staple"
STAMP_LINES = [
    "Conditionally released by Dr. Joost de Qualified-Persoon (Qualified Person)",
    "2025-03-30 09:52 UTC, lot AC-2025-0330-01, ²²⁵Ac",
]


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> tuple[Path, Path]:
    return create_signing_identity(tmp_path_factory.mktemp("site") / "site.p12", PASSPHRASE,
                                   "Alpha Radiopharmacy Amsterdam release seal",
                                   "Alpha Radiopharmacy")


@pytest.fixture(scope="session")
def outsider(tmp_path_factory) -> tuple[Path, Path]:
    return create_signing_identity(tmp_path_factory.mktemp("outsider") / "other.p12",
                                   PASSPHRASE, "Alpha Radiopharmacy Amsterdam release seal",
                                   "Someone Else")


@pytest.fixture(scope="session")
def unsigned_pdf() -> bytes:
    return render_certificate(make_certificate_data())


@pytest.fixture(scope="session")
def signed_pdf(site, unsigned_pdf) -> bytes:
    return sign(unsigned_pdf, site)


def sign(pdf: bytes, identity: tuple[Path, Path]) -> bytes:
    return sign_pdf(pdf, signer=load_signer(identity[0], PASSPHRASE), reason="QP release",
                    location="Amsterdam, NL", stamp_text_lines=STAMP_LINES)


def site_cert(identity: tuple[Path, Path]) -> bytes:
    return identity[1].read_bytes()


def pdfsig_says_valid(pdf: bytes, tmp_path: Path) -> tuple[bool, str]:
    """pdfsig exits 0 even on a digest mismatch, so its report is read instead."""
    path = tmp_path / "checked.pdf"
    path.write_bytes(pdf)
    done = subprocess.run([poppler("pdfsig"), str(path)], capture_output=True, text=True)
    output = done.stdout + done.stderr
    valid = ("Signature Validation: Signature is Valid." in output
             and "Total document signed" in output)
    return valid, output


def with_changed_title_byte(pdf: bytes) -> bytes:
    """One byte changed inside the signed range, leaving a well-formed PDF."""
    at = pdf.index(b"/Title (") + len(b"/Title (")
    changed = bytearray(pdf)
    changed[at] = ord("X") if changed[at] != ord("X") else ord("Y")
    return bytes(changed)


# ---------------------------------------------------------------- valid


def test_the_signed_certificate_is_intact_valid_trusted_and_covers_the_whole_file(
        site, signed_pdf):
    report = verify_pdf(signed_pdf, site_cert(site))

    assert report.ok, report.summary
    assert report.is_signed and report.intact and report.valid and report.trusted
    assert report.covers_whole_file and report.docmdp_ok
    assert report.signer_common_name == "Alpha Radiopharmacy Amsterdam release seal"
    assert report.signing_time is not None and report.signing_time.tzinfo is not None
    assert report.summary.startswith("Valid: signed by Alpha Radiopharmacy")


def test_poppler_pdfsig_finds_the_signature_valid_over_the_total_document(signed_pdf,
                                                                          tmp_path):
    valid, output = pdfsig_says_valid(signed_pdf, tmp_path)

    assert valid, output
    assert "Signature Field Name: QP-Release" in output
    assert "Alpha Radiopharmacy Amsterdam release seal" in output
    assert "ETSI.CAdES.detached" in output  # PAdES


def test_it_is_a_no_changes_certification_signature(signed_pdf):
    reader = PdfFileReader(io.BytesIO(signed_pdf))
    (signature,) = reader.embedded_signatures
    certification = reader.root["/Perms"]["/DocMDP"]

    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert certification.get_object()["/Reason"] == "QP release"
    reference = certification.get_object()["/Reference"][0]
    assert reference["/TransformParams"]["/P"] == 1  # no changes allowed


def test_the_visible_stamp_sits_in_the_reserved_box_on_the_last_page(signed_pdf, tmp_path):
    reader = PdfFileReader(io.BytesIO(signed_pdf))
    pages = reader.root["/Pages"]["/Count"]
    last_page = reader.root["/Pages"]["/Kids"][-1].get_object()
    (widget,) = [a.get_object() for a in last_page["/Annots"]]
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_pdf)
    stamp_text = pdf_text(path, "-f", str(pages), "-l", str(pages))

    assert [round(float(v)) for v in widget["/Rect"]] == list(SIGNATURE_BOX)
    assert "Conditionally released by Dr. Joost de Qualified-Persoon" in stamp_text
    assert "225Ac" in stamp_text
    assert "Sealed by Alpha Radiopharmacy Amsterdam release seal" in stamp_text


# ---------------------------------------------------------------- tampered and foreign


def test_one_changed_byte_fails_in_pyhanko(site, signed_pdf):
    report = verify_pdf(with_changed_title_byte(signed_pdf), site_cert(site))

    assert not report.ok
    assert report.is_signed and not report.intact
    assert "changed after signing" in report.summary


def test_one_changed_byte_fails_in_pdfsig(signed_pdf, tmp_path):
    valid, output = pdfsig_says_valid(with_changed_title_byte(signed_pdf), tmp_path)

    assert not valid, output
    assert "Signature Validation:" in output  # it did check, and found a mismatch


def test_a_byte_changed_inside_the_signature_itself_is_reported_not_raised(site, signed_pdf):
    at = signed_pdf.index(b"/Contents <") + len(b"/Contents <") + 200
    changed = bytearray(signed_pdf)
    changed[at] = ord("0") if changed[at] != ord("0") else ord("1")

    report = verify_pdf(bytes(changed), site_cert(site))

    assert not report.ok
    assert report.summary.startswith("NOT VALID")


def test_content_appended_after_signing_is_detected(site, signed_pdf):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_pdf))
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    appended = io.BytesIO()
    writer.write(appended)

    report = verify_pdf(appended.getvalue(), site_cert(site))

    assert not report.ok
    assert report.intact  # the signed bytes themselves are untouched
    assert not report.covers_whole_file
    assert "added after the signature" in report.summary


def test_a_certificate_signed_by_another_identity_is_not_trusted(site, outsider,
                                                                  unsigned_pdf):
    report = verify_pdf(sign(unsigned_pdf, outsider), site_cert(site))

    assert report.intact and report.valid  # mathematically fine ...
    assert not report.trusted and not report.ok  # ... but not our site key
    assert "not the trusted site certificate" in report.summary


def test_an_unsigned_certificate_is_reported_as_unsigned(site, unsigned_pdf):
    report = verify_pdf(unsigned_pdf, site_cert(site))

    assert not report.is_signed and not report.ok
    assert report.summary == "The PDF carries no signature."


@pytest.mark.parametrize("garbage", [b"", b"not a pdf at all", b"%PDF-1.4\n%%EOF\n"])
def test_a_file_that_is_not_a_pdf_is_reported_not_raised(site, garbage):
    report = verify_pdf(garbage, site_cert(site))

    assert not report.is_signed and not report.ok
    assert report.summary


# ---------------------------------------------------------------- identity and helpers


def test_the_identity_is_an_rsa_3072_signing_certificate_beside_its_pkcs12(site):
    p12_path, pem_path = site
    certificate = x509.load_pem_x509_certificate(pem_path.read_bytes())
    key_usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value

    assert pem_path == p12_path.with_suffix(".cert.pem")
    assert isinstance(certificate.public_key(), rsa.RSAPublicKey)
    assert certificate.public_key().key_size == 3072
    assert key_usage.digital_signature and key_usage.content_commitment
    assert oct(p12_path.stat().st_mode & 0o777) == "0o600"
    assert b"PRIVATE KEY" not in pem_path.read_bytes()


def test_a_wrong_passphrase_is_refused(site):
    with pytest.raises(ValueError):
        load_signer(site[0], b"wrong")


def test_the_signer_is_loaded_once_and_again_when_the_file_changes(tmp_path, site, outsider):
    copy = tmp_path / "copy.p12"
    copy.write_bytes(site[0].read_bytes())

    first = load_signer(copy, PASSPHRASE)
    assert load_signer(copy, PASSPHRASE) is first
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load_signer(copy, PASSPHRASE) is first  # touched, not changed

    copy.write_bytes(outsider[0].read_bytes())
    replaced = load_signer(copy, PASSPHRASE)
    assert replaced is not first
    assert replaced.signing_cert.subject != first.signing_cert.subject


def test_stamp_text_is_reduced_to_what_the_builtin_font_can_show():
    assert stamp_safe("²²⁵Ac ≥ 95 %, 2 – 8 °C, 50 µg, β⁻") == (
        "225Ac >= 95 %, 2 - 8 °C, 50 µg, beta-")


def test_sha256_hex_is_the_lowercase_hex_digest():
    assert sha256_hex(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
