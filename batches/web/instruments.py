"""Instruments: calibration due dates, in service or not, and their API keys (an
administrator creates a key, which is shown once, and revokes it)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qc.api_keys import api_key_create, api_key_revoke
from qc.errors import RuleViolation
from qc.models import Instrument, InstrumentApiKey
from qc.roles import Role

from ..forms import ApiKeyForm
from .common import add_service_errors, may, role_required, staff_required


@require_GET
@staff_required
def instrument_list(request):
    today = timezone.localdate()
    instruments = Instrument.objects.annotate(
        active_keys=Count("api_keys", filter=Q(api_keys__revoked_at__isnull=True)))
    return render(request, "instruments/list.html",
                  {"instruments": instruments, "today": today})


def _detail(request, instrument, form, created=None, plaintext=""):
    keys = InstrumentApiKey.objects.filter(instrument=instrument).select_related(
        "created_by", "revoked_by")
    return render(request, "instruments/detail.html", {
        "instrument": instrument, "keys": keys, "form": form, "created": created,
        "plaintext": plaintext, "today": timezone.localdate(),
        "can_manage": may(request.user, "api_keys")})


@require_GET
@staff_required
def instrument_detail(request, serial: str):
    instrument = get_object_or_404(Instrument, serial=serial)
    return _detail(request, instrument, ApiKeyForm())


@never_cache
@require_POST
@role_required(Role.ADMIN, what="create instrument API keys")
def api_key_create_view(request, serial: str):
    instrument = get_object_or_404(Instrument, serial=serial)
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            key, plaintext = api_key_create(
                actor=request.user, instrument=instrument,
                test_codes=form.cleaned_data["test_codes"],
                can_register_batches=form.cleaned_data["can_register_batches"],
                read_scopes=form.cleaned_data["read_scopes"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        except RuleViolation as exc:
            form.add_error(None, exc.message)
        else:
            # The plaintext is rendered in this response only: never stored, never redirected
            # to, never cached.
            return _detail(request, instrument, ApiKeyForm(), created=key, plaintext=plaintext)
    return _detail(request, instrument, form)


@require_http_methods(["POST"])
@role_required(Role.ADMIN, what="revoke instrument API keys")
def api_key_revoke_view(request, serial: str, prefix: str):
    key = get_object_or_404(InstrumentApiKey, instrument__serial=serial, prefix=prefix)
    try:
        api_key_revoke(actor=request.user, key=key,
                       reason=request.POST.get("reason", "").strip())
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Key {key.prefix}… revoked; the instrument can no longer "
                         "post with it.")
    return redirect("instrument-detail", serial)
