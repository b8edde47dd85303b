"""Issuing release certificates: a pending version per release signature, rendered, PAdES-
signed with the site identity and stored (never overwritten), then made current.

Only the highest version of a batch is ever current: a version that finishes after a newer
one was requested is stored superseded at once. Every change of a batch's certificates
locks the batch first (batches.lifecycle), so two workers finishing versions of one batch
take turns."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from qc.audit import audit_record
from qc.models import AuditEvent, Signature

from .. import jobs
from ..lifecycle import lock_batch
from ..models import BatchStatus, Certificate, CertificateStatus
from ..records.lots import storage_name
from .content import RELEASE_MEANINGS, certificate_data
from .identity import site_signer

log = logging.getLogger(__name__)



def certificate_request_issue(*, batch_id: int, signature_id: int) -> Certificate:
    """Create the next certificate version for a release signature and queue its issue.
    Idempotent: a second request for the same signature returns the first."""
    with transaction.atomic():
        batch = lock_batch(batch_id)
        existing = Certificate.objects.filter(signature_id=signature_id).first()
        if existing is not None:
            return existing
        signature = Signature.objects.get(pk=signature_id)
        if signature.meaning not in RELEASE_MEANINGS or signature.object_id != str(batch.pk):
            raise ValueError(f"signature {signature_id} does not release batch {batch_id}")
        version = (batch.certificates.aggregate(v=Max("version"))["v"] or 0) + 1
        certificate = Certificate.objects.create(
            batch=batch, version=version, signature=signature,
            document_id=f"CoR-{batch.lot_number}-v{version}",
            disposition=(BatchStatus.RELEASED if signature.meaning == "released"
                         else BatchStatus.CONDITIONALLY_RELEASED))
        audit_record(actor=signature.user, action="certificate.request", obj=certificate,
                     after={"document_id": certificate.document_id, "version": version,
                            "signature_id": signature_id}, batch_lot=batch.lot_number)
        transaction.on_commit(lambda: jobs.issue_certificate(certificate.id))
    return certificate


def _claim_timeout() -> timedelta:
    """A worker that claimed a certificate and went silent is taken over after this long."""
    return timedelta(seconds=settings.CERTIFICATE_CLAIM_TIMEOUT_S)


def _claim(certificate_id: int, now: datetime) -> bool:
    """Take the work with a conditional UPDATE that changes exactly one row."""
    return Certificate.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - _claim_timeout()),
        pk=certificate_id, status=CertificateStatus.PENDING,
    ).update(claimed_at=now) == 1


def _release_claim(certificate_id: int, claimed_at: datetime) -> None:
    Certificate.objects.filter(pk=certificate_id, claimed_at=claimed_at,
                               status=CertificateStatus.PENDING).update(claimed_at=None)


def certificate_issue(*, certificate_id: int) -> Certificate:
    """Render, sign and store one pending certificate. Safe to run twice or concurrently:
    only the worker holding the claim stores a file and marks it issued. A database error
    while storing gives the claim back and raises, so the task's retry can take it again."""
    # reportlab and pyHanko load with the first certificate, not with every process start.
    from ..pdf.render import render_certificate
    from ..pdf.signing import sha256_hex, sign_pdf

    claimed_at = timezone.now()
    if not _claim(certificate_id, claimed_at):
        return Certificate.objects.get(pk=certificate_id)
    certificate = Certificate.objects.select_related(
        "batch__product", "batch__source_lot", "batch__elution__generator", "signature",
        "batch__specification").get(pk=certificate_id)
    try:
        data = certificate_data(certificate)
        unsigned = render_certificate(data)
        signed = sign_pdf(
            unsigned, signer=site_signer(), reason=f"Batch {data.disposition} by the QP",
            location=settings.SITE_NAME, tsa_url=settings.SIGNING_TSA_URL,
            stamp_text_lines=[f"{settings.SITE_NAME}", f"{data.document_id}",
                              f"{data.disposition.capitalize()} by "
                              f"{certificate.signature.printed_name}"])
    except Exception as exc:
        log.exception("certificate %s could not be issued", certificate.document_id)
        return _mark_failed(certificate, claimed_at, f"{type(exc).__name__}: {exc}")
    name = default_storage.save(
        f"certificates/{storage_name(certificate.batch.lot_number)}/"
        f"{storage_name(certificate.document_id)}.pdf",
        ContentFile(signed))
    try:
        return _store(certificate_id, claimed_at=claimed_at, name=name,
                      content_sha256=sha256_hex(unsigned), signed_sha256=sha256_hex(signed))
    except IntegrityError:
        default_storage.delete(name)
        _release_claim(certificate_id, claimed_at)
        raise


def _store(certificate_id: int, *, claimed_at: datetime, name: str, content_sha256: str,
           signed_sha256: str) -> Certificate:
    """Mark the stored file issued (current), or superseded when a newer version of the
    batch exists already; supersede the older current one."""
    batch_id = Certificate.objects.values_list("batch_id", flat=True).get(pk=certificate_id)
    with transaction.atomic():
        batch = lock_batch(batch_id)
        locked = Certificate.objects.select_for_update().get(pk=certificate_id)
        if locked.status != CertificateStatus.PENDING or locked.claimed_at != claimed_at:
            default_storage.delete(name)  # another worker took over; ours was never current
            return locked
        newer = (Certificate.objects.filter(batch_id=batch_id, version__gt=locked.version)
                 .order_by("-version").first())
        if newer is None:
            for old in Certificate.objects.select_for_update().filter(
                    batch_id=batch_id, status=CertificateStatus.ISSUED):
                _supersede(old, by=locked.document_id, lot_number=batch.lot_number)
            locked.status = CertificateStatus.ISSUED
        else:
            locked.status = CertificateStatus.SUPERSEDED
        locked.pdf.name = name
        locked.content_sha256 = content_sha256
        locked.signed_sha256 = signed_sha256
        locked.issued_at = timezone.now()
        locked.save(update_fields=["status", "pdf", "content_sha256", "signed_sha256",
                                   "issued_at"])
        audit_record(actor=None, action="certificate.issue", obj=locked,
                     after={"document_id": locked.document_id, "file": name,
                            "content_sha256": locked.content_sha256,
                            "signed_sha256": locked.signed_sha256,
                            "status": locked.status,
                            "superseded_by": newer.document_id if newer else None},
                     batch_lot=batch.lot_number)
    return locked


def _supersede(old: Certificate, *, by: str, lot_number: str) -> None:
    old.status = CertificateStatus.SUPERSEDED
    old.save(update_fields=["status"])
    audit_record(actor=None, action="certificate.supersede", obj=old,
                 before={"status": "issued"}, after={"status": "superseded",
                                                     "superseded_by": by},
                 batch_lot=lot_number)


def _mark_failed(certificate: Certificate, claimed_at: datetime, error: str) -> Certificate:
    with transaction.atomic():
        lock_batch(certificate.batch_id)
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.status == CertificateStatus.PENDING and locked.claimed_at == claimed_at:
            locked.status = CertificateStatus.FAILED
            locked.error = error[:2000]
            locked.save(update_fields=["status", "error"])
            audit_record(actor=None, action="certificate.fail", obj=locked,
                         after={"error": locked.error}, batch_lot=certificate.batch.lot_number)
    return locked


def certificate_retry(*, actor, certificate: Certificate) -> Certificate:
    """Put a failed or stuck certificate back in the queue (e.g. after the signing identity
    was installed). A pending one is re-queued only once its claim (if any) has lapsed."""
    with transaction.atomic():
        batch = lock_batch(certificate.batch_id)
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.status == CertificateStatus.PENDING:
            if locked.claimed_at and locked.claimed_at > timezone.now() - _claim_timeout():
                return locked  # a worker is on it
        elif locked.status != CertificateStatus.FAILED:
            return locked
        before = locked.status
        locked.status, locked.claimed_at, locked.error = CertificateStatus.PENDING, None, ""
        locked.save(update_fields=["status", "claimed_at", "error"])
        audit_record(actor=actor, action="certificate.retry", obj=locked,
                     before={"status": before}, batch_lot=batch.lot_number)
        transaction.on_commit(lambda: jobs.issue_certificate(locked.id))
    return locked


def stuck_certificates(*, now: datetime) -> list[Certificate]:
    """Pending certificates requested longer ago than CERTIFICATE_REQUEUE_AFTER_S whose
    claim (if any) has lapsed: their message was lost or their worker died."""
    requeue_after = timedelta(seconds=settings.CERTIFICATE_REQUEUE_AFTER_S)
    return list(Certificate.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - _claim_timeout()),
        status=CertificateStatus.PENDING, requested_at__lt=now - requeue_after,
    ).select_related("batch").order_by("requested_at")[:500])


def unrequested_releases(*, now: datetime) -> list[Signature]:
    """Release signatures older than a minute without a certificate: the request was lost
    between the signature's commit and the certificate stage."""
    requested = Certificate.objects.values_list("signature_id", flat=True)
    return list(Signature.objects.filter(
        object_type="batches.batch", meaning__in=RELEASE_MEANINGS,
        signed_at__lt=now - timedelta(minutes=1)).exclude(pk__in=requested)
        .order_by("signed_at")[:500])


def certificates_sweep(*, now: datetime) -> int:
    """Queue again what a lost message or a dead worker left behind; past
    CERTIFICATE_ALERT_AFTER_S a pending certificate is an alert (logged as an error and
    recorded once in the audit trail). Returns how many were queued."""
    for signature in unrequested_releases(now=now):
        jobs.request_certificate(int(signature.object_id), signature.pk)
    queued = 0
    alert_after = timedelta(seconds=settings.CERTIFICATE_ALERT_AFTER_S)
    for certificate in stuck_certificates(now=now):
        jobs.issue_certificate(certificate.pk)
        queued += 1
        if certificate.requested_at < now - alert_after:
            _alert_stuck(certificate, now=now)
    return queued


def _alert_stuck(certificate: Certificate, *, now: datetime) -> None:
    age = int((now - certificate.requested_at).total_seconds())
    log.error("certificate %s has been pending for %d s", certificate.document_id, age)
    if AuditEvent.objects.filter(action="certificate.stuck", object_type="batches.certificate",
                                 object_id=str(certificate.pk)).exists():
        return
    with transaction.atomic():
        lock_batch(certificate.batch_id)
        audit_record(actor=None, action="certificate.stuck", obj=certificate,
                     after={"document_id": certificate.document_id, "pending_s": age},
                     batch_lot=certificate.batch.lot_number)
