"""The site-wide audit trail for QA and the QP: filters, pages, CSV export."""

from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from qc.audit_selectors import audit_events, audit_events_csv

from ..forms import AuditFilterForm
from .common import QA, role_required

PAGE_SIZE = 100


def _filtered(request):
    form = AuditFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    events = audit_events(user=data.get("actor") or None,
                          object_type=data.get("object_type") or None,
                          action=data.get("action") or None, since=data.get("date_from"),
                          until=data.get("date_to"), batch_lot=data.get("lot") or None)
    return form, events


@require_GET
@role_required(*QA, what="read the audit trail")
def audit_trail(request):
    form, events = _filtered(request)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/trail.html",
                  {"form": form, "page": page, "query": query.urlencode()})


@require_GET
@role_required(*QA, what="export the audit trail")
def audit_export(request):
    form, events = _filtered(request)
    if form.is_bound and not form.is_valid():
        # An export that ignored a filter it could not read would hand over the whole trail.
        errors = "; ".join(f"{name}: {' '.join(messages)}"
                           for name, messages in form.errors.items())
        return HttpResponseBadRequest(f"The filter is invalid and nothing was exported: "
                                      f"{errors}", content_type="text/plain; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(audit_events_csv(events), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.csv"'
    return response
