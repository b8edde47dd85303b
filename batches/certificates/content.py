"""A certificate's content as plain values (batches.pdf draws them): the batch record as the
QP signed it, with every criterion, the decay table and the signatures."""

from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from qc.engine import site_engine
from qc.formatting import value_text
from qc.models import Family, Signature
from qc.rules import limit_text

from ..evaluation.physics import batch_compute_physics
from ..models import Batch, BatchStatus, Certificate
from ..pdf.data import (
    AcSourceLot,
    CertificateData,
    CriterionRow,
    DecayTable,
    GeneratorSource,
    SignatureLine,
)
from ..selectors import batch_results, criterion_statuses
from ..stability.selectors import batch_eos_concentration, shelf_life_statement

RELEASE_MEANINGS = ("released", "conditionally_released")
ROLE_OF_MEANING = {"reviewed": "QA reviewer", "released": "Qualified Person",
                   "conditionally_released": "Qualified Person"}


def _result_texts(status) -> tuple[str, str | None]:
    """(the result as measured, the decay-corrected or projected value)."""
    result, criterion = status.current, status.criterion
    if result is None:
        return "pending", None
    if criterion.is_text:
        return result.value_text, None
    measured = result.measured_shown
    evaluation = getattr(result, "evaluation", None)
    if (evaluation is None or evaluation.projected_value is None
            or criterion.judged_at == "measured"):
        return measured, None
    return measured, value_text(evaluation.projected_value, criterion.unit)


def _verdict(status) -> str:
    return status.verdict if status.verdict in ("pass", "fail") else "pending"


def _source(batch: Batch):
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
    batch = certificate.batch
    if batch.expiry is None:  # the registration task has not run yet (a lost message)
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
        shelf_life_support=shelf_life_statement(
            batch.product, concentration_bq_per_ml=batch_eos_concentration(batch, engine)),
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
        verify_url=verify_url(certificate),
    )


def verify_url(certificate: Certificate) -> str:
    """The verify page for this document, for the QR code: its id and the SHA-256 of the
    batch record the QP signed (the PDF's own hash cannot be printed inside it); "" when
    SITE_URL is not set."""
    if not settings.SITE_URL:
        return ""
    query = urlencode({"document": certificate.document_id,
                       "sha256": certificate.signature.record_sha256})
    return f"{settings.SITE_URL}{reverse('certificate-verify')}?{query}"


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
