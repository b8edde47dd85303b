"""Review, release, conditional release and rejection on the web: a summary of what is
signed, the meaning, the password again; refusals said on the page."""

import pytest
from django.urls import reverse

from batches.models import BatchStatus, Certificate
from qc.models import AuditEvent, Signature, SigningLock
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_reviewer_reviews_a_tested_batch_by_signature(
        client_for, reviewer, tested_pb212, committed):
    url = reverse("batch-review", args=[tested_pb212.lot_number])
    client = client_for(reviewer)
    summary = client.get(url)
    html = summary.content.decode()
    assert summary.context["available"]
    assert "What you are signing" in html and "Meaning of this signature — Reviewed" in html
    assert "Radiochemical purity" in html
    with committed():
        response = client.post(url, {"comment": "record complete", "password": PASSWORD})
    assert response.status_code == 302
    tested_pb212.refresh_from_db()
    assert tested_pb212.status == BatchStatus.REVIEWED
    signature = Signature.objects.get(meaning="reviewed")
    assert (signature.user, signature.comment) == (reviewer, "record complete")
    assert AuditEvent.objects.filter(action="signature.reviewed",
                                     batch_lot=tested_pb212.lot_number).exists()


def test_a_wrong_signing_password_is_refused_and_nothing_is_signed(
        client_for, reviewer, tested_pb212):
    response = client_for(reviewer).post(
        reverse("batch-review", args=[tested_pb212.lot_number]),
        {"comment": "looks right", "password": "wrong-password"})
    assert response.status_code == 200
    assert "Wrong password" in response.context["form"].errors["password"][0]
    html = response.content.decode()
    assert "looks right" in html and "wrong-password" not in html
    tested_pb212.refresh_from_db()
    assert tested_pb212.status == BatchStatus.IN_QC
    assert not Signature.objects.filter(meaning="reviewed").exists()
    assert SigningLock.objects.get(user=reviewer).failures == 1
    assert AuditEvent.objects.filter(action="signature.failed", actor=reviewer).exists()


def test_a_missing_password_is_an_error_next_to_the_password(client_for, reviewer, tested_pb212):
    response = client_for(reviewer).post(
        reverse("batch-review", args=[tested_pb212.lot_number]), {"comment": "ok"})
    assert response.context["form"].errors["password"]
    assert not Signature.objects.exists() or not Signature.objects.filter(
        meaning="reviewed").exists()


def test_the_qp_conditionally_releases_and_the_certificate_is_issued(
        client_for, qp, reviewed_pb212, committed, signing_identity):
    url = reverse("batch-release-conditionally", args=[reviewed_pb212.lot_number])
    client = client_for(qp)
    summary = client.get(url)
    assert [s.criterion.test_code for s in summary.context["pending"]] == [
        "ra224-breakthrough", "sterility"]
    assert "Pending tests" in summary.content.decode()
    with committed():
        response = client.post(url, {"password": PASSWORD})
    assert response.status_code == 302
    reviewed_pb212.refresh_from_db()
    assert reviewed_pb212.status == BatchStatus.CONDITIONALLY_RELEASED
    certificate = Certificate.objects.get(batch=reviewed_pb212)
    assert certificate.status == "issued"
    page = client.get(response["Location"]).content.decode()
    download = reverse("certificate-download", args=[reviewed_pb212.lot_number, 1])
    assert download in page
    assert client.get(download)["Content-Type"] == "application/pdf"


def test_a_pending_certificate_polls_every_second_and_a_failed_one_can_be_retried(
        client_for, qp, reviewed_pb212, committed, monkeypatch, signing_identity):
    import batches.jobs

    # the certificate is requested but its rendering not yet run: it stays pending
    monkeypatch.setattr(batches.jobs, "issue_certificate", lambda certificate_id: None)
    client = client_for(qp)
    with committed():
        client.post(reverse("batch-release-conditionally", args=[reviewed_pb212.lot_number]),
                    {"password": PASSWORD})
    certificate = Certificate.objects.get(batch=reviewed_pb212)
    assert certificate.status == "pending"
    html = client.get(reverse("batch-detail", args=[reviewed_pb212.lot_number])).content.decode()
    assert 'hx-trigger="every 1s"' in html and "Being issued" in html
    partial_url = reverse("batch-certificates", args=[reviewed_pb212.lot_number])
    assert 'hx-trigger="every 1s"' in client.get(partial_url).content.decode()

    Certificate.objects.filter(pk=certificate.pk).update(status="failed", error="no key")
    partial = client.get(partial_url).content.decode()
    assert "hx-trigger" not in partial and "Issuing failed" in partial
    monkeypatch.undo()
    with committed():
        response = client.post(reverse("certificate-retry",
                                       args=[reviewed_pb212.lot_number, 1]))
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == "issued"
    assert AuditEvent.objects.filter(action="certificate.retry", actor=qp).exists()
    assert "PDF v1" in client.get(partial_url).content.decode()


def test_a_stuck_certificate_shows_on_the_batch_page_and_qa_can_reissue_it(
        client_for, qp, reviewer, reviewed_pb212, committed, monkeypatch, signing_identity,
        settings):
    import batches.jobs

    monkeypatch.setattr(batches.jobs, "issue_certificate", lambda certificate_id: None)
    with committed():
        client_for(qp).post(reverse("batch-release-conditionally",
                                    args=[reviewed_pb212.lot_number]), {"password": PASSWORD})
    certificate = Certificate.objects.get(batch=reviewed_pb212)
    page_url = reverse("batch-detail", args=[reviewed_pb212.lot_number])
    qa = client_for(reviewer)
    assert 'data-testid="stuck-certificate"' not in qa.get(page_url).content.decode()
    settings.CERTIFICATE_REQUEUE_AFTER_S = 0  # as if requested long ago
    html = qa.get(page_url).content.decode()
    assert 'data-testid="stuck-certificate"' in html and "Re-issue now" in html
    monkeypatch.undo()
    with committed():
        response = qa.post(reverse("certificate-retry", args=[reviewed_pb212.lot_number, 1]))
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == "issued"
    assert AuditEvent.objects.filter(action="certificate.retry", actor=reviewer).exists()


def test_a_full_release_is_refused_while_tests_are_pending_and_the_page_says_why(
        client_for, qp, reviewed_pb212):
    url = reverse("batch-release", args=[reviewed_pb212.lot_number])
    client = client_for(qp)
    summary = client.get(url)
    assert not summary.context["available"]
    assert any("Sterility has no result yet" in b for b in summary.context["blockers"])
    response = client.post(url, {"password": PASSWORD})
    assert response.status_code == 200
    assert "Sterility has no result yet" in response.content.decode()
    reviewed_pb212.refresh_from_db()
    assert reviewed_pb212.status == BatchStatus.REVIEWED
    assert AuditEvent.objects.filter(action="signature.refused").exists()


def test_the_reviewer_cannot_release_the_release_url_is_forbidden_to_the_role(
        client_for, reviewer, reviewed_pb212):
    response = client_for(reviewer).get(reverse("batch-release",
                                                args=[reviewed_pb212.lot_number]))
    assert response.status_code == 403
    assert "Only a Qualified Person may release a batch" in response.content.decode()


def test_the_qp_rejects_with_a_reason(client_for, qp, tested_pb212, committed):
    url = reverse("batch-reject", args=[tested_pb212.lot_number])
    client = client_for(qp)
    response = client.post(url, {"reason": "", "password": PASSWORD})
    assert response.context["form"].errors["reason"]
    with committed():
        response = client.post(url, {"reason": "synthesis module fault", "password": PASSWORD})
    assert response.status_code == 302
    tested_pb212.refresh_from_db()
    assert tested_pb212.status == BatchStatus.REJECTED
    assert Signature.objects.get(meaning="rejected").comment == "synthesis module fault"


def test_a_release_anchors_the_audit_trail_outside_the_database(
        client_for, qp, reviewed_pb212, committed, signing_identity, settings, monkeypatch):
    import batches.jobs

    monkeypatch.setattr(batches.jobs, "request_certificate", lambda *args: None)
    with committed():
        client_for(qp).post(reverse("batch-release-conditionally",
                                    args=[reviewed_pb212.lot_number]), {"password": PASSWORD})
    [checkpoint] = settings.AUDIT_CHECKPOINT_DIR.glob("*.json")
    assert f"conditionally_released lot {reviewed_pb212.lot_number}" in checkpoint.read_text()
