"""Verifying a certificate someone holds: is it this site's, unchanged, and current?"""

from dataclasses import dataclass

from ..models import BatchStatus, Certificate, CertificateStatus
from ..pdf.signing import sha256_hex, verify_pdf
from .identity import site_certificate_pem


@dataclass(frozen=True)
class CertificateCheck:
    genuine: bool
    summary: str
    details: tuple[str, ...]
    certificate: Certificate | None = None
    current: bool = False


def certificate_verify(pdf_bytes: bytes) -> CertificateCheck:
    """Is this file a genuine, unchanged certificate of this site, and is it current?"""
    report = verify_pdf(pdf_bytes, site_certificate_pem())
    digest = sha256_hex(pdf_bytes)
    certificate = (Certificate.objects.select_related("batch").filter(signed_sha256=digest)
                   .first())
    details = [report.summary]
    if certificate is None:
        details.append("No certificate issued by this site has exactly this content "
                       f"(SHA-256 {digest[:16]}…).")
    else:
        details.append(f"Issued as {certificate.document_id} (version {certificate.version}) "
                       f"for lot {certificate.batch.lot_number}.")
        if certificate.status == CertificateStatus.SUPERSEDED:
            newer = certificate.batch.certificates.filter(status=CertificateStatus.ISSUED).first()
            details.append("This version is SUPERSEDED" +
                           (f" by version {newer.version}." if newer else "."))
        if certificate.batch.status == BatchStatus.POST_RELEASE_OOS:
            details.append("WARNING: the batch is out of specification after release and is "
                           "being recalled.")
    genuine = report.ok and certificate is not None
    current = genuine and certificate.status == CertificateStatus.ISSUED
    if not report.is_signed or not report.ok:
        summary = "NOT GENUINE: the signature does not verify; the file was changed or is not ours."
    elif certificate is None:
        summary = "NOT GENUINE: signed with this site's key but unknown to this site."
    elif current:
        summary = f"GENUINE and CURRENT: {certificate.document_id} for lot " \
                  f"{certificate.batch.lot_number}."
    else:
        summary = f"GENUINE but SUPERSEDED: {certificate.document_id} is no longer current."
    return CertificateCheck(genuine=genuine, summary=summary, details=tuple(details),
                            certificate=certificate, current=current)
