"""Certificate downloads (web and API) and the public verification page. Thin views."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404, render
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer

from .api.permissions import READ, READ_CERTIFICATES
from .api.problems import Problem
from .api.schema import problems
from .api.views import ApiView
from .certificates.identity import SigningIdentityMissing
from .certificates.lookup import LookupRefused, certificate_lookup
from .certificates.verify import certificate_verify
from .models import Batch, Certificate, CertificateStatus
from .records.lots import storage_name

MAX_VERIFY_BYTES = 20 * 1024 * 1024


def _pdf_response(certificate: Certificate) -> FileResponse:
    response = FileResponse(certificate.pdf.open("rb"), content_type="application/pdf",
                            filename=f"{storage_name(certificate.document_id)}.pdf")
    response["X-Certificate-Status"] = certificate.status
    response["X-Content-SHA256"] = certificate.signed_sha256
    return response


@login_required
def certificate_download(request, lot_number: str, version: int):
    certificate = get_object_or_404(Certificate, batch__lot_number=lot_number, version=version,
                                    status__in=[CertificateStatus.ISSUED,
                                                CertificateStatus.SUPERSEDED])
    return _pdf_response(certificate)


def _problem(status: int, title: str, detail: str) -> Problem:
    return Problem(status, "no_certificate", detail, title=title)


class PdfRenderer(BaseRenderer):
    """Lets a client ask for application/pdf; the view answers with the stored file."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class CertificateApiView(ApiView):
    """GET the current signed certificate of a lot (or a given version) as PDF."""

    api_actions = {"GET": READ}
    api_read_scope = READ_CERTIFICATES
    renderer_classes = [PdfRenderer, JSONRenderer]

    @extend_schema(
        summary="The signed release certificate (PDF) of a lot: current, or a given version",
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY,
                                                             description="signed PDF"),
                   **problems(401, 403, 404)},
    )
    def get(self, request, lot_number: str, version: str | None = None):
        batch = Batch.objects.filter(lot_number=lot_number).first()
        if batch is None:
            raise _problem(404, "Unknown lot", f"No batch has lot number {lot_number}.")
        certificates = batch.certificates.all()
        if version is not None:
            if not version.isdigit():
                raise _problem(404, "No such certificate version",
                               f"{version!r} is not a version number; versions are 1, 2, ...")
            certificate = certificates.filter(version=int(version)).first()
            if certificate is None or certificate.status not in (
                    CertificateStatus.ISSUED, CertificateStatus.SUPERSEDED):
                raise _problem(404, "No such certificate version",
                                f"Lot {lot_number} has no issued certificate version {version}.")
            return _pdf_response(certificate)
        certificate = certificates.filter(status=CertificateStatus.ISSUED).first()
        if certificate is None:
            pending = certificates.filter(status=CertificateStatus.PENDING).exists()
            reason = ("its certificate is being issued; try again in a second" if pending
                      else f"the batch is {batch.get_status_display().lower()} and has not been "
                      "released")
            raise _problem(404, "No certificate yet",
                            f"Lot {lot_number} has no current certificate: {reason}.")
        return _pdf_response(certificate)


class VerifyForm(forms.Form):
    file = forms.FileField(label="Certificate PDF")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_VERIFY_BYTES:
            raise forms.ValidationError("This file is larger than any certificate we issue.")
        return upload


def certificate_lookup_page(request):
    """What the QR code on a printed certificate opens: ?document=CoR-...&sha256=..."""
    try:
        lookup = certificate_lookup(document_id=request.GET.get("document", ""),
                                    sha256=request.GET.get("sha256", ""))
    except LookupRefused as exc:
        return render(request, "batches/certificate_lookup.html", {"error": str(exc)},
                      status=400)
    return render(request, "batches/certificate_lookup.html", {"lookup": lookup},
                  status=404 if lookup.verdict == "unknown" else 200)


def certificate_verify_page(request):
    """Anyone holding a certificate may check it here, without logging in."""
    if request.method == "GET" and request.GET.get("document"):
        return certificate_lookup_page(request)
    check, error = None, ""
    form = VerifyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            check = certificate_verify(form.cleaned_data["file"].read())
        except SigningIdentityMissing as exc:
            error = str(exc)
    return render(request, "batches/certificate_verify.html",
                  {"form": form, "check": check, "error": error})


