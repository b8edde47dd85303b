"""PAdES signing and offline verification of certificate PDFs with the site key.

The certificate is a certification signature with DocMDP "no changes": any later edit,
even an incremental update that a reader would display, breaks it.
"""

import hashlib
import io
import textwrap
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.font.basic import COURIER_META, SimpleFontEngine, SimpleFontEngineFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext

from batches.pdf import SIGNATURE_BOX, SIGNATURE_FIELD_NAME
from qc.signing_key import signer_for


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- identity


def create_signing_identity(
    path_p12: str | Path,
    passphrase: bytes,
    common_name: str,
    organisation: str,
    country: str = "NL",
    days: int = 3650,
) -> tuple[Path, Path]:
    """Write a self-signed RSA-3072 site identity as PKCS#12, and its certificate as PEM.

    Returns (p12 path, certificate PEM path); verifiers get the PEM, never the p12.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COUNTRY_NAME, country),
    ])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    p12_path = Path(path_p12)
    p12_path.parent.mkdir(parents=True, exist_ok=True)
    p12 = pkcs12.serialize_key_and_certificates(
        name=common_name.encode(), key=key, cert=certificate, cas=None,
        encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
    )
    p12_path.touch(mode=0o600)
    p12_path.write_bytes(p12)
    pem_path = p12_path.with_suffix(".cert.pem")
    pem_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return p12_path, pem_path


def load_signer(p12_path: str | Path, passphrase: bytes) -> signers.SimpleSigner:
    """The signer of a PKCS#12 file (read each time; decrypted again only when it changed)."""
    return signer_for(Path(p12_path).read_bytes(), passphrase)


# ---------------------------------------------------------------- signing


_REPLACEMENTS = str.maketrans({
    "≥": ">=", "≤": "<=", "μ": "µ", "β": "beta", "α": "alpha", "γ": "gamma",
    "¹": "1", "²": "2", "³": "3", "⁻": "-", "⁺": "+",
    "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...",
})


def stamp_safe(text: str) -> str:
    """Text the stamp's built-in Courier can show.

    pyHanko's embedded-TrueType stamp spreads glyphs apart for fonts whose units per
    em are not 1000 (DejaVu has 2048), so the stamp uses the standard Courier font,
    which covers Latin-1 only: all superscript digits become digits (Latin-1 has only
    ¹²³, and ²²⁵Ac half-converted reads worse than 225Ac), ≥ becomes >=.
    """
    out = []
    for char in text.translate(_REPLACEMENTS):
        if not _latin1(char):
            char = unicodedata.normalize("NFKC", char)  # ² -> 2
        if not _latin1(char):
            char = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode() or "?"
        out.append(char)
    return "".join(out)


def _latin1(text: str) -> bool:
    return all(c.isascii() or 0xA0 <= ord(c) <= 0xFF for c in text)


class _IndirectFontEngine(SimpleFontEngine):
    """pyHanko writes the stamp's Courier font dictionary inline in the appearance's
    resources. Poppler gives an inline font a made-up object number, and `pdffonts` then
    reports "Internal Error: xref num ... not found"; as an indirect object it is clean."""

    def as_resource(self):
        return self.writer.add_object(super().as_resource())


class _IndirectCourier(SimpleFontEngineFactory):
    def __init__(self):
        super().__init__("Courier", 0.6, COURIER_META)

    def create_font_engine(self, writer, obj_stream=None):
        return _IndirectFontEngine(writer, self.name, self.avg_width, self.meta)


def _stamp_style(lines: list[str]) -> TextStampStyle:
    # pyHanko shrinks an over-wide stamp to fit its box; wrapping keeps the text legible.
    wrapped = [part for line in lines for part in textwrap.wrap(stamp_safe(line), 76) or [""]]
    text = "\n".join(line.replace("%", "%%") for line in wrapped)
    return TextStampStyle(
        stamp_text=text + "\nSealed by %(signer)s, %(ts)s",
        timestamp_format="%Y-%m-%d %H:%M:%S UTC",
        text_box_style=TextBoxStyle(font=_IndirectCourier(), font_size=7, leading=9),
        border_width=1,
        background=None,
    )


def sign_pdf(
    pdf_bytes: bytes,
    *,
    signer: signers.Signer,
    reason: str,
    location: str,
    stamp_text_lines: list[str],
    field_name: str = SIGNATURE_FIELD_NAME,
    tsa_url: str | None = None,
) -> bytes:
    """PAdES certification signature with a visible stamp in SIGNATURE_BOX, last page."""
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        md_algorithm="sha256",
    )
    timestamper = None
    if tsa_url:
        # Imported here: aiohttp is slow to import and most sites sign without a TSA.
        from pyhanko.sign.timestamps import HTTPTimeStamper

        timestamper = HTTPTimeStamper(tsa_url, timeout=10)
    pdf_signer = signers.PdfSigner(
        metadata,
        signer,
        timestamper=timestamper,
        stamp_style=_stamp_style(list(stamp_text_lines)),
        new_field_spec=fields.SigFieldSpec(field_name, on_page=-1, box=SIGNATURE_BOX),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    return pdf_signer.sign_pdf(writer, bytes_reserved=_bytes_to_reserve(signer, tsa_url)
                               ).getvalue()


def _bytes_to_reserve(signer: signers.Signer, tsa_url: str | None) -> int | None:
    """Hex digits to reserve for the CMS blob, so pyHanko skips its trial signature.

    The trial signature is a third of the signing time. Our CMS is the certificates
    plus well under 2 KiB of attributes and signature value. With a TSA the token's
    size is unknown, so pyHanko measures it as usual.
    """
    if tsa_url or signer.signing_cert is None:
        return None
    certificates = [signer.signing_cert, *signer.cert_registry]
    return 2 * (2048 + sum(len(c.dump()) for c in certificates))


# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class VerificationReport:
    is_signed: bool
    summary: str
    intact: bool = False  # the signed bytes hash to the signed digest
    valid: bool = False  # and the signature over that digest is mathematically correct
    trusted: bool = False  # and the signer chains to the given site certificate
    covers_whole_file: bool = False  # and nothing was appended after signing
    docmdp_ok: bool = False  # and no change breaks the "no changes" certification
    signer_common_name: str | None = None
    signing_time: datetime | None = None
    signature_count: int = 0

    @property
    def ok(self) -> bool:
        """Everything a reader of the certificate needs to rely on it."""
        return self.signature_count == 1 and all((
            self.is_signed, self.intact, self.valid, self.trusted, self.covers_whole_file,
            self.docmdp_ok))


def _validation_context(trusted_cert_pem: bytes) -> ValidationContext:
    der = x509.load_pem_x509_certificate(trusted_cert_pem).public_bytes(
        serialization.Encoding.DER)
    return ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)],
                             allow_fetching=False)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def verify_pdf(pdf_bytes: bytes, trusted_cert_pem: bytes, *,
               time_text: Callable[[datetime], str] = _utc_text) -> VerificationReport:
    """Check the certification signature offline; never raises for a bad file. `time_text`
    writes the signing time in the summary (the site's person-readable format)."""
    try:
        context = _validation_context(trusted_cert_pem)
    except ValueError as exc:
        return VerificationReport(is_signed=False, summary=f"Unusable site certificate: {exc}")
    try:
        embedded = PdfFileReader(io.BytesIO(pdf_bytes), strict=False).embedded_signatures
    except Exception as exc:  # noqa: BLE001 - any parser failure means "not verifiable"
        return VerificationReport(is_signed=False, summary=f"Not a readable PDF: {exc}")
    if not embedded:
        return VerificationReport(is_signed=False, summary="The PDF carries no signature.")
    signature = embedded[0]
    try:
        status = validate_pdf_signature(signature, context)
    except Exception as exc:  # noqa: BLE001 - a damaged signature is a result, not a crash
        return VerificationReport(is_signed=True, signature_count=len(embedded),
                                  summary=f"NOT VALID: the signature could not be checked: {exc}")
    common_name = status.signing_cert.subject.native.get("common_name")
    report = VerificationReport(
        is_signed=True,
        summary="",
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        docmdp_ok=bool(status.docmdp_ok),
        signer_common_name=common_name,
        signing_time=status.signer_reported_dt,
        signature_count=len(embedded),
    )
    problems = [text for failed, text in (
        (not report.intact, "the document was changed after signing"),
        (report.intact and not report.valid, "the signature value is wrong"),
        # pyHanko only judges trust for a sound signature; say so only then.
        (report.intact and report.valid and not report.trusted,
         "the signer is not the trusted site certificate"),
        (not report.covers_whole_file, "content was added after the signature"),
        (not report.docmdp_ok, "changes break the certification (no changes allowed)"),
        (len(embedded) > 1, f"the PDF carries {len(embedded)} signatures, expected one"),
    ) if failed]
    if problems:
        summary = "NOT VALID: " + "; ".join(problems) + "."
    else:
        when = f" at {time_text(report.signing_time)}" if report.signing_time else ""
        summary = (f"Valid: signed by {common_name}{when}; the whole document is covered "
                   "and unchanged since signing.")
    return VerificationReport(**{**report.__dict__, "summary": summary})
