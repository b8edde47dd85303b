"""Certificate downloads (web and API) and the public verification page. Thin views."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404, render
from rest_framework.response import Response
from rest_framework.views import APIView

from .certificates import SigningIdentityMissing, certificate_verify
from .models import Batch, Certificate, CertificateStatus

MAX_VERIFY_BYTES = 20 * 1024 * 1024


def _pdf_response(certificate: Certificate) -> FileResponse:
    response = FileResponse(certificate.pdf.open("rb"), content_type="application/pdf",
                            filename=f"{certificate.document_id}.pdf")
    response["X-Certificate-Status"] = certificate.status
    response["X-Content-SHA256"] = certificate.signed_sha256
    return response


@login_required
def certificate_download(request, lot_number: str, version: int):
    certificate = get_object_or_404(Certificate, batch__lot_number=lot_number, version=version,
                                    status__in=[CertificateStatus.ISSUED,
                                                CertificateStatus.SUPERSEDED])
    return _pdf_response(certificate)


def _problem(status: int, title: str, detail: str) -> Response:
    return Response({"type": "about:blank", "title": title, "status": status, "detail": detail},
                    status=status, content_type="application/problem+json")


class CertificateApiView(APIView):
    """GET the current signed certificate of a lot (or a given version) as PDF."""

    def get(self, request, lot_number: str, version: int | None = None):
        batch = Batch.objects.filter(lot_number=lot_number).first()
        if batch is None:
            return _problem(404, "Unknown lot", f"No batch has lot number {lot_number}.")
        certificates = batch.certificates.all()
        if version is not None:
            certificate = certificates.filter(version=version).first()
            if certificate is None or certificate.status not in (
                    CertificateStatus.ISSUED, CertificateStatus.SUPERSEDED):
                return _problem(404, "No such certificate version",
                                f"Lot {lot_number} has no issued certificate version {version}.")
            return _pdf_response(certificate)
        certificate = certificates.filter(status=CertificateStatus.ISSUED).first()
        if certificate is None:
            pending = certificates.filter(status=CertificateStatus.PENDING).exists()
            reason = ("its certificate is being issued; try again in a second" if pending
                      else f"the batch is {batch.get_status_display().lower()} and has not been "
                      "released")
            return _problem(404, "No certificate yet",
                            f"Lot {lot_number} has no current certificate: {reason}.")
        return _pdf_response(certificate)


class VerifyForm(forms.Form):
    file = forms.FileField(label="Certificate PDF")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_VERIFY_BYTES:
            raise forms.ValidationError("This file is larger than any certificate we issue.")
        return upload


def certificate_verify_page(request):
    """Anyone holding a certificate may check it here, without logging in."""
    check, error = None, ""
    form = VerifyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            check = certificate_verify(form.cleaned_data["file"].read())
        except SigningIdentityMissing as exc:
            error = str(exc)
    return render(request, "batches/certificate_verify.html",
                  {"form": form, "check": check, "error": error})


