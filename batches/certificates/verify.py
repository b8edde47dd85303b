"""Verifying a certificate someone holds: is it this site's, unchanged, and current? And, for
a conditional release, where the lot stands now (its status and the tests still to come)."""

from dataclasses import dataclass

from ..models import BatchStatus, Certificate, CertificateStatus
from ..selectors import pending_tests
from ..texts import when
from .identity import site_certificate_pem


@dataclass(frozen=True)
class CertificateCheck:
    genuine: bool
    summary: str
    details: tuple[str, ...]
    certificate: Certificate | None = None
    current: bool = False
    # where the lot stands now: its status, and the may-release-before-result tests without
    # a passing result (a conditional release)
    lot_status: str = ""
    pending: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        """ok (genuine and current), warn (genuine but superseded) or bad (not genuine)."""
        if not self.genuine:
            return "bad"
        return "ok" if self.current else "warn"


def certificate_verify(pdf_bytes: bytes) -> CertificateCheck:
    """Is this file a genuine, unchanged certificate of this site, and is it current?"""
    from ..pdf.signing import sha256_hex, verify_pdf  # pyHanko loads when a file is checked

    report = verify_pdf(pdf_bytes, site_certificate_pem(),
                        time_text=lambda moment: when(moment, seconds=True))
    digest = sha256_hex(pdf_bytes)
    certificate = (Certificate.objects.select_related("batch").filter(signed_sha256=digest)
                   .first())
    details = [report.summary]
    lot_status, pending = "", ()
    if certificate is None:
        details.append("No certificate issued by this site has exactly this content "
                       f"(SHA-256 {digest[:16]}…).")
    else:
        batch = certificate.batch
        details.append(f"Issued as {certificate.document_id} (version {certificate.version}) "
                       f"for lot {batch.lot_number}.")
        if certificate.status == CertificateStatus.SUPERSEDED:
            newer = batch.certificates.filter(status=CertificateStatus.ISSUED).first()
            details.append("This version is SUPERSEDED" +
                           (f" by version {newer.version}." if newer else "."))
        if batch.status == BatchStatus.POST_RELEASE_OOS:
            details.append("WARNING: the batch is out of specification after release and is "
                           "being recalled.")
        lot_status = batch.get_status_display()
        if certificate.disposition == BatchStatus.CONDITIONALLY_RELEASED:
            pending = tuple(c.name for c in pending_tests(batch=batch))
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
                            certificate=certificate, current=current,
                            lot_status=lot_status if genuine else "",
                            pending=pending if genuine else ())
