"""Issuing, re-issuing and verifying signed release certificates (the Django side)."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction

from batches.certificates.services import (
    certificate_issue,
    certificate_request_issue,
    certificate_retry,
)
from batches.certificates.verify import certificate_verify
from batches.models import Certificate, CertificateStatus
from qc.models import AuditEvent
from qc.signatures import signature_apply
from tests.poppler import pdf_text

pytestmark = pytest.mark.django_db


def sign(batch, user, meaning):
    with transaction.atomic():
        return signature_apply(user=user, meaning=meaning, object_type="batches.batch",
                               object_id=batch.pk, record={"lot": batch.lot_number},
                               batch_lot=batch.lot_number)


def issue(batch, user, committed, meaning="released"):
    signature = sign(batch, user, meaning)
    with committed():
        certificate = certificate_request_issue(batch_id=batch.pk, signature_id=signature.pk)
    certificate.refresh_from_db()
    return certificate


def certificate_text(certificate, tmp_path) -> str:
    """The certificate's text layer as pdftotext reads it, on one line."""
    path = tmp_path / "c.pdf"
    path.write_bytes(certificate.pdf.read())
    return " ".join(pdf_text(path, "-layout").split())


def test_a_release_signature_yields_a_signed_stored_certificate(
        signing_identity, tested_batch, qp, committed):
    certificate = issue(tested_batch, qp, committed)
    assert certificate.status == CertificateStatus.ISSUED
    assert certificate.document_id == f"CoR-{tested_batch.lot_number}-v1"
    pdf = certificate.pdf.read()
    from batches.pdf.signing import sha256_hex

    assert sha256_hex(pdf) == certificate.signed_sha256
    assert certificate.content_sha256 != certificate.signed_sha256
    check = certificate_verify(pdf)
    assert check.genuine and check.current, check.details
    actions = list(AuditEvent.objects.filter(batch_lot=tested_batch.lot_number,
                                             action__startswith="certificate.")
                   .values_list("action", flat=True))
    assert actions == ["certificate.request", "certificate.issue"]


def test_the_certificate_text_names_the_lot_every_test_and_the_signer(
        signing_identity, tested_batch, qp, committed, tmp_path):
    flat = certificate_text(issue(tested_batch, qp, committed), tmp_path)
    assert tested_batch.lot_number in flat
    for criterion in tested_batch.specification.criteria.all():
        assert criterion.name.split(" (")[0] in flat, criterion.name
    assert "Quinn Person" in flat
    assert "ICRP-107" in flat


def test_the_certificate_shows_each_measured_value_with_the_digits_it_was_entered_with(
        signing_identity, tested_batch, qp, committed, tmp_path):
    activity = tested_batch.results.get(criterion__test_code="activity")
    # the factory's reading is a computed float: it reads to 4 significant figures
    assert len(activity.entered_number.replace(".", "").strip("0")) <= 4
    flat = certificate_text(issue(tested_batch, qp, committed), tmp_path)
    assert activity.measured_shown in flat
    assert not re.search(r"\d\.\d{6,}", flat)  # no float noise anywhere


def test_a_reissue_supersedes_the_earlier_version_which_stays_downloadable(
        signing_identity, tested_batch, qp, committed):
    first = issue(tested_batch, qp, committed, meaning="conditionally_released")
    second = issue(tested_batch, qp, committed)
    first.refresh_from_db()
    assert (first.status, second.status) == (CertificateStatus.SUPERSEDED,
                                             CertificateStatus.ISSUED)
    assert second.version == 2 and first.pdf.name != second.pdf.name
    old = certificate_verify(first.pdf.read())
    assert old.genuine and not old.current
    assert "SUPERSEDED by version 2" in " ".join(old.details)


def test_a_second_request_for_the_same_signature_creates_nothing_new(
        signing_identity, tested_batch, qp, committed):
    signature = sign(tested_batch, qp, "released")
    with committed():
        first = certificate_request_issue(batch_id=tested_batch.pk, signature_id=signature.pk)
        again = certificate_request_issue(batch_id=tested_batch.pk, signature_id=signature.pk)
    assert first.pk == again.pk
    assert Certificate.objects.count() == 1


def test_running_the_issue_task_twice_stores_one_file(signing_identity, tested_batch, qp,
                                                      committed):
    certificate = issue(tested_batch, qp, committed)
    again = certificate_issue(certificate_id=certificate.pk)
    assert again.pdf.name == certificate.pdf.name
    assert AuditEvent.objects.filter(action="certificate.issue").count() == 1


def test_a_claim_held_by_a_live_worker_is_not_taken_over(signing_identity, tested_batch, qp):
    from django.utils import timezone

    signature = sign(tested_batch, qp, "released")
    certificate = certificate_request_issue(batch_id=tested_batch.pk, signature_id=signature.pk)
    Certificate.objects.filter(pk=certificate.pk).update(claimed_at=timezone.now())
    assert certificate_issue(certificate_id=certificate.pk).status == CertificateStatus.PENDING
    Certificate.objects.filter(pk=certificate.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=10))
    assert certificate_issue(certificate_id=certificate.pk).status == CertificateStatus.ISSUED


def test_without_a_signing_identity_the_certificate_fails_visibly_and_can_be_retried(
        settings, tmp_path, identity_dir, tested_batch, qp, committed):
    settings.SIGNING_P12_PATH = str(tmp_path / "missing.p12")
    settings.SIGNING_P12_PASSPHRASE = "test-passphrase"
    certificate = issue(tested_batch, qp, committed)
    assert certificate.status == CertificateStatus.FAILED
    assert "create_signing_identity" in certificate.error
    settings.SIGNING_P12_PATH = str(identity_dir / "site.p12")
    with committed():
        certificate_retry(actor=qp, certificate=certificate)
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.ISSUED


def test_a_copy_with_one_changed_byte_is_not_genuine(signing_identity, tested_batch, qp,
                                                     committed):
    pdf = bytearray(issue(tested_batch, qp, committed).pdf.read())
    middle = len(pdf) // 2
    pdf[middle] = (pdf[middle] + 1) % 256
    check = certificate_verify(bytes(pdf))
    assert not check.genuine
    assert check.summary.startswith("NOT GENUINE")


def test_the_api_returns_the_current_pdf_and_explains_a_404(
        signing_identity, tested_batch, qp, committed, client):
    client.force_login(qp)
    url = f"/api/v1/batches/{tested_batch.lot_number}/certificate/"
    before = client.get(url)
    assert before.status_code == 404
    assert "has not been released" in before.json()["detail"]
    certificate = issue(tested_batch, qp, committed)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == certificate.pdf.read()


def test_the_api_refuses_an_anonymous_caller(tested_batch, client):
    response = client.get(f"/api/v1/batches/{tested_batch.lot_number}/certificate/")
    assert response.status_code in (401, 403)


def test_anyone_can_verify_a_certificate_on_the_public_page(signing_identity, tested_batch, qp,
                                                            committed, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    certificate = issue(tested_batch, qp, committed)
    upload = SimpleUploadedFile("c.pdf", certificate.pdf.read(), "application/pdf")
    response = client.post("/verify/", {"file": upload})
    assert response.status_code == 200
    assert "GENUINE and CURRENT" in response.content.decode()


def test_the_verify_command_exits_zero_only_for_a_current_certificate(
        signing_identity, tested_batch, qp, committed, tmp_path):
    certificate = issue(tested_batch, qp, committed)
    good = tmp_path / "good.pdf"
    good.write_bytes(certificate.pdf.read())
    call_command("verify_certificate", str(good))
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(good.read_bytes().replace(tested_batch.lot_number.encode(), b"XX-00000", 1))
    with pytest.raises(SystemExit) as exited:
        call_command("verify_certificate", str(bad))
    assert exited.value.code == 1
