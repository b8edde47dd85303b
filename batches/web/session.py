"""The idle-timeout warning's "stay logged in": any request by the user counts as activity."""

from django.http import HttpResponse
from django.views.decorators.http import require_POST

from .common import staff_required


@require_POST
@staff_required
def session_keepalive(request):
    return HttpResponse(status=204)
