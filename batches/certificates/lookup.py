"""Looking a printed certificate up by the QR code on it: the document id and the SHA-256 of
the batch record the QP signed. A printout cannot prove itself (only the signed PDF can), so
the page shows what this site issued under that id, for the reader to compare with the paper."""

import re
from dataclasses import dataclass

from ..models import BatchStatus, Certificate, CertificateStatus
from ..selectors import criterion_statuses

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class LookupRefused(ValueError):
    """The query cannot be looked up as given (a malformed fingerprint)."""


@dataclass(frozen=True)
class DocumentLookup:
    verdict: str  # "current", "superseded", "unknown", "mismatch"
    summary: str
    details: tuple[str, ...]
    certificate: Certificate | None = None
    pending_now: tuple[str, ...] = ()

    @property
    def genuine(self) -> bool:
        return self.verdict in ("current", "superseded")


def certificate_lookup(*, document_id: str, sha256: str = "") -> DocumentLookup:
    """What this site issued as ``document_id``, and whether ``sha256`` (from the QR code)
    is the fingerprint of the record the QP signed for it."""
    document_id, sha256 = document_id.strip(), sha256.strip().lower()
    if sha256 and not SHA256.match(sha256):
        raise LookupRefused("The sha256 value must be 64 hexadecimal characters, as the QR "
                            "code on the certificate gives it; scan the code again.")
    certificate = (Certificate.objects.select_related("batch__product", "signature")
                   .filter(document_id=document_id,
                           status__in=[CertificateStatus.ISSUED, CertificateStatus.SUPERSEDED])
                   .first())
    if certificate is None:
        return DocumentLookup(
            verdict="unknown",
            summary=f"NOT GENUINE: this site issued no certificate {document_id}.",
            details=("Check the document id printed at the top of the certificate; a copy "
                     "that does not match is not ours.",))
    if sha256 and sha256 != certificate.signature.record_sha256:
        return DocumentLookup(
            verdict="mismatch", certificate=certificate,
            summary=f"NOT GENUINE: the code does not match certificate {document_id}.",
            details=(f"The fingerprint in the code ({sha256[:16]}…) is not that of the record "
                     f"the Qualified Person signed for {document_id}. Do not use the product "
                     "on this paper; contact the issuing site.",))
    batch = certificate.batch
    details = [f"{certificate.document_id}: lot {batch.lot_number}, {batch.product.name}, "
               f"{certificate.get_disposition_display().lower()} by "
               f"{certificate.signature.printed_name}.",
               "Compare the lot, product and signer with the paper."]
    if not sha256:
        details.append("The link carries no fingerprint, so only the document id was checked.")
    pending = ()
    if batch.status == BatchStatus.CONDITIONALLY_RELEASED:
        pending = tuple(s.criterion.name for s in criterion_statuses(batch=batch)
                        if s.verdict != "pass")
    if batch.status == BatchStatus.POST_RELEASE_OOS:
        details.append("WARNING: the batch is out of specification after release and is "
                       "being recalled.")
    if certificate.status == CertificateStatus.ISSUED:
        return DocumentLookup(
            verdict="current", certificate=certificate, details=tuple(details),
            pending_now=pending,
            summary=f"GENUINE and CURRENT: {certificate.document_id} for lot "
                    f"{batch.lot_number} ({batch.get_status_display().lower()}).")
    newer = batch.certificates.filter(status=CertificateStatus.ISSUED).first()
    return DocumentLookup(
        verdict="superseded", certificate=certificate, details=tuple(details),
        summary=f"GENUINE but SUPERSEDED: {certificate.document_id} is no longer current"
                + (f"; use {newer.document_id}." if newer else "."))
