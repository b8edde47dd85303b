"""Release certificates: gather the batch record as plain data, render it, PAdES-sign it
with the site identity, store it (never overwritten), and verify a file someone holds.

Drawing and signing are pure (batches/pdf/); this module is the Django side."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from qc.audit import audit_record
from qc.engine import site_engine
from qc.models import Family, Signature
from qc.rules import limit_text

from .models import Batch, BatchStatus, Certificate, CertificateStatus
from .selectors import batch_results, criterion_statuses

log = logging.getLogger(__name__)

# A worker that claimed a certificate and died is taken over after this long.
CLAIM_TIMEOUT = timedelta(minutes=2)
RELEASE_MEANINGS = ("released", "conditionally_released")
ROLE_OF_MEANING = {"reviewed": "QA reviewer", "released": "Qualified Person",
                   "conditionally_released": "Qualified Person"}


class SigningIdentityMissing(RuntimeError):
    pass


# ---------------------------------------------------------------- signing identity


def signing_paths() -> tuple[Path, Path]:
    p12 = Path(settings.SIGNING_P12_PATH)
    return p12, p12.with_suffix(".cert.pem")


def site_signer():
    from .pdf.signing import load_signer

    p12, _ = signing_paths()
    if not p12.exists():
        raise SigningIdentityMissing(
            f"No signing identity at {p12}. Install the site's PKCS#12 file there (setting "
            "SIGNING_P12_PATH) or run `python manage.py create_signing_identity`.")
    return load_signer(p12, settings.SIGNING_P12_PASSPHRASE.encode())


def site_certificate_pem() -> bytes:
    _, pem = signing_paths()
    if not pem.exists():
        raise SigningIdentityMissing(f"No site certificate at {pem}; verifiers need it.")
    return pem.read_bytes()


# ---------------------------------------------------------------- requesting and issuing


def certificate_request_issue(*, batch_id: int, signature_id: int) -> Certificate:
    """Create the next certificate version for a release signature and queue its issue.
    Idempotent: a second request for the same signature returns the first."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
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
        transaction.on_commit(lambda: _enqueue_issue(certificate.id))
    return certificate


def _enqueue_issue(certificate_id: int) -> None:
    from .tasks import issue_certificate

    issue_certificate.delay(certificate_id)


def _claim(certificate_id: int, now: datetime) -> bool:
    """Take the work with a conditional UPDATE that changes exactly one row."""
    return Certificate.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT),
        pk=certificate_id, status=CertificateStatus.PENDING,
    ).update(claimed_at=now) == 1


def certificate_issue(*, certificate_id: int) -> Certificate:
    """Render, sign and store one pending certificate. Safe to run twice or concurrently:
    only the worker holding the claim stores a file and marks it issued."""
    from .pdf.render import render_certificate
    from .pdf.signing import sha256_hex, sign_pdf

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
        f"certificates/{certificate.batch.lot_number}/{certificate.document_id}.pdf",
        ContentFile(signed))
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate_id)
        if locked.status != CertificateStatus.PENDING or locked.claimed_at != claimed_at:
            default_storage.delete(name)  # another worker took over; ours was never current
            return locked
        previous = list(Certificate.objects.select_for_update().filter(
            batch_id=locked.batch_id, status=CertificateStatus.ISSUED))
        for old in previous:
            old.status = CertificateStatus.SUPERSEDED
            old.save(update_fields=["status"])
            audit_record(actor=None, action="certificate.supersede", obj=old,
                         before={"status": "issued"}, after={"status": "superseded",
                         "superseded_by": locked.document_id},
                         batch_lot=certificate.batch.lot_number)
        locked.status = CertificateStatus.ISSUED
        locked.pdf.name = name
        locked.content_sha256 = sha256_hex(unsigned)
        locked.signed_sha256 = sha256_hex(signed)
        locked.issued_at = timezone.now()
        locked.save(update_fields=["status", "pdf", "content_sha256", "signed_sha256",
                                   "issued_at"])
        audit_record(actor=None, action="certificate.issue", obj=locked,
                     after={"document_id": locked.document_id, "file": name,
                            "content_sha256": locked.content_sha256,
                            "signed_sha256": locked.signed_sha256},
                     batch_lot=certificate.batch.lot_number)
    return locked


def _mark_failed(certificate: Certificate, claimed_at: datetime, error: str) -> Certificate:
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.status == CertificateStatus.PENDING and locked.claimed_at == claimed_at:
            locked.status = CertificateStatus.FAILED
            locked.error = error[:2000]
            locked.save(update_fields=["status", "error"])
            audit_record(actor=None, action="certificate.fail", obj=locked,
                         after={"error": locked.error}, batch_lot=certificate.batch.lot_number)
    return locked


def certificate_retry(*, actor, certificate: Certificate) -> Certificate:
    """Put a failed certificate back in the queue (e.g. after the signing identity was
    installed)."""
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.status != CertificateStatus.FAILED:
            return locked
        locked.status, locked.claimed_at, locked.error = CertificateStatus.PENDING, None, ""
        locked.save(update_fields=["status", "claimed_at", "error"])
        audit_record(actor=actor, action="certificate.retry", obj=locked,
                     batch_lot=locked.batch.lot_number)
        transaction.on_commit(lambda: _enqueue_issue(locked.id))
    return locked


# ---------------------------------------------------------------- the content


def _fmt(value: float, unit: str) -> str:
    from qc.units import format_activity

    if unit in ("Bq", "Bq/mL"):
        return format_activity(value, unit)
    if unit == "pH":
        return f"pH {value:g}"
    return f"{value:.4g} {unit}".strip()


def _result_texts(status) -> tuple[str, str | None]:
    """(the result as measured, the decay-corrected or projected value)."""
    result, criterion = status.current, status.criterion
    if result is None:
        return "pending", None
    if criterion.is_text:
        return result.value_text, None
    measured = _fmt(result.value, result.unit)
    evaluation = getattr(result, "evaluation", None)
    if (evaluation is None or evaluation.projected_value is None
            or criterion.judged_at == "measured"):
        return measured, None
    return measured, _fmt(evaluation.projected_value, criterion.unit)


def _verdict(status) -> str:
    return status.verdict if status.verdict in ("pass", "fail") else "pending"


def _source(batch: Batch):
    from .pdf.render import AcSourceLot, GeneratorSource

    if batch.source_lot_id:
        lot = batch.source_lot
        return AcSourceLot(supplier=lot.supplier, lot=lot.lot_number,
                           production_route=lot.get_route_display(),
                           ac227_share_percent=lot.ac227_ratio_percent,
                           reference_time=lot.reference_time)
    elution = batch.elution
    return GeneratorSource(serial=elution.generator.serial,
                           parent_nuclide=elution.generator.parent_nuclide,
                           eluted_at=elution.eluted_at, eluate_activity_bq=elution.activity_bq)


def _signature_lines(batch: Batch, upto: Signature):
    from .pdf.render import SignatureLine

    signatures = Signature.objects.filter(
        object_type="batches.batch", object_id=str(batch.pk),
        meaning__in=("reviewed", *RELEASE_MEANINGS), signed_at__lte=upto.signed_at,
    ).order_by("signed_at", "id")
    return tuple(SignatureLine(printed_name=s.printed_name,
                               role=ROLE_OF_MEANING.get(s.meaning, ""),
                               meaning=s.get_meaning_display().lower(), signed_at=s.signed_at)
                 for s in signatures)


def certificate_data(certificate: Certificate):
    """The certificate's content as plain values, from the batch record as it stands."""
    from .pdf.render import CertificateData, CriterionRow, DecayTable

    batch = certificate.batch
    if batch.expiry is None:  # the registration task has not run yet (a lost message)
        from .services import batch_compute_physics

        batch = batch_compute_physics(batch_id=batch.pk)
    engine = site_engine()
    # Exactly what the QP signed: results recorded after the signature belong to a later
    # version (a certificate retried later must not show them).
    signed_at = certificate.signature.signed_at
    results = [r for r in batch_results(batch=batch) if r.recorded_at <= signed_at]
    statuses = criterion_statuses(batch=batch, results=results)
    rows = []
    for status in statuses:
        criterion = status.criterion
        measured, judged = _result_texts(status)
        evaluation = getattr(status.current, "evaluation", None) if status.current else None
        rows.append(CriterionRow(
            test=criterion.name, method=criterion.method.name if criterion.method else "",
            specification=limit_text(criterion), result=measured,
            measured_at=status.current.measured_at if status.current else None,
            judged_at_label=criterion.judged_at,
            judged_at=evaluation.judged_at_time if evaluation else None,
            judged_value=judged, verdict=_verdict(status)))
    pending = tuple(s.criterion.name for s in statuses if _verdict(s) == "pending")
    table = batch.decay_table or {"times": [], "activities_Bq": {}}
    conditional = certificate.disposition == BatchStatus.CONDITIONALLY_RELEASED
    earlier = certificate.version - 1 if certificate.version > 1 else None
    return CertificateData(
        site_name=settings.SITE_NAME, site_address=settings.SITE_ADDRESS,
        product_name=batch.product.name, dosage_form=batch.product.dosage_form,
        product_nuclide=batch.product.nuclide,
        family_label=Family(batch.product.family).label, lot_number=batch.lot_number,
        document_id=certificate.document_id, version=certificate.version,
        supersedes_version=earlier, source=_source(batch), eos=batch.eos,
        calibration_time=batch.calibration_time, expiry=batch.expiry,
        expiry_reason=batch.expiry_reason, activity_at_calibration_bq=batch.activity_bq,
        volume_ml=batch.volume_ml,
        activity_concentration_bq_per_ml=batch.activity_concentration_bq_per_ml,
        criteria=tuple(rows),
        decay=DecayTable(times=tuple(datetime.fromisoformat(t) for t in table["times"]),
                         activities_bq=table["activities_Bq"]),
        disposition="conditionally released" if conditional else "released",
        disposition_statement=_statement(batch, certificate, pending),
        signatures=_signature_lines(batch, certificate.signature),
        nuclear_data_source=engine.data_source,  # names any half-life override
        paper_size=settings.CERTIFICATE_PAPER, time_zone=settings.TIME_ZONE,
        pending_tests=pending if conditional else (),
    )


def _statement(batch: Batch, certificate: Certificate, pending: tuple[str, ...]) -> str:
    base = (f"I certify that batch {batch.lot_number} of {batch.product.name} was manufactured "
            f"and tested in accordance with its approved specification (version "
            f"{batch.specification.version}) and GMP")
    if certificate.disposition == BatchStatus.CONDITIONALLY_RELEASED:
        return (base + f", and release it for use before the results of "
                f"{', '.join(pending)} are known, as that specification allows.")
    conditional = batch.certificates.filter(
        disposition=BatchStatus.CONDITIONALLY_RELEASED, version__lt=certificate.version
    ).order_by("-version").first()
    if conditional is not None:
        return (base + f". The tests still pending at its conditional release "
                f"({conditional.document_id}) have all passed: this is its final release, "
                "and this certificate supersedes the earlier one.")
    return base + ", and release it for use until its expiry."


# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class CertificateCheck:
    genuine: bool
    summary: str
    details: tuple[str, ...]
    certificate: Certificate | None = None
    current: bool = False


def certificate_verify(pdf_bytes: bytes) -> CertificateCheck:
    """Is this file a genuine, unchanged certificate of this site, and is it current?"""
    from .pdf.signing import sha256_hex, verify_pdf

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


def warm_up() -> None:
    """Register the fonts and load the signing key at worker start, so that the first
    release after a restart is as fast as the others."""
    from .pdf.fonts import register_fonts

    register_fonts()
    if signing_paths()[0].exists() and settings.SIGNING_P12_PASSPHRASE:
        site_signer()
