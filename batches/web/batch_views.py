"""Batch pages: the list, registration, the batch record with its live parts, and the
batch's audit trail tab."""

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.sql import planned_for_values
from qc.errors import RuleViolation
from qc.roles import Role
from qc.rules import limit_text

from .. import selectors
from ..certificates.services import certificate_retry as certificate_retry_service
from ..disposition.blockers import Picture, action_states
from ..disposition.record import signatures_integrity
from ..forms import REGISTER_FIELDS, BatchFilterForm, BatchRegisterForm
from ..lifecycle import RESULT_ACCEPTING_STATUSES
from ..models import Batch, Certificate, Elution, SourceLot
from ..records import registration
from ..records.results import correction_blockers
from . import charts, physics
from .common import POLL_HEADERS, QA, add_service_errors, may, role_required, staff_required

PAGE_SIZE = 50
LIVE_EVERY_S = 5
CERTIFICATE_POLL_S = 1
RESULTS_POLL_S = 2


def _batch_or_404(lot_number: str) -> selectors.BatchPage:
    try:
        return selectors.batch_page(lot_number=lot_number)
    except Batch.DoesNotExist:
        raise Http404(f"No batch has lot number {lot_number}.") from None


# ---------------------------------------------------------------------------- list


@require_GET
@staff_required
@planned_for_values()
def batch_list(request):
    form = BatchFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    batches = selectors.batch_list(status=filters.get("status", ""),
                                 product=filters.get("product", ""),
                                 search=filters.get("q", ""))
    page = selectors.IndexPaginator(batches, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "batches/batch_list.html",
                  {"form": form, "page": page, "query": query.urlencode()})


# ---------------------------------------------------------------------------- register


@require_http_methods(["GET", "POST"])
@role_required(Role.OPERATOR, what="register a batch")
def batch_register(request):
    now = timezone.now()
    initial = {"eos": timezone.localtime(now).replace(second=0, microsecond=0),
               # the operator's queue links here with the elution chosen
               "source": request.GET.get("source", "")}
    form = BatchRegisterForm(request.POST or None, now=now, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            batch = registration.batch_register(actor=request.user, **form.service_arguments())
        except ValidationError as exc:
            add_service_errors(form, exc, REGISTER_FIELDS)
        except RuleViolation as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Lot {batch.lot_number} registered against "
                             f"{batch.product.code} specification v{batch.specification.version}.")
            return redirect("batch-detail", batch.lot_number)
    return render(request, "batches/batch_register.html", {"form": form})


@require_GET
@staff_required
def source_info(request):
    """The chosen source's activity now, shown beside the registration form."""
    kind, _, pk = request.GET.get("source", "").partition(":")
    now = timezone.now()
    context: dict = {"now": now}
    if kind == "elution" and pk.isdigit():
        elution = Elution.objects.select_related("generator").filter(pk=pk).first()
        if elution:
            context.update(elution=elution,
                           activity_now=physics.elution_activity_now(elution, now))
    elif kind == "lot" and pk.isdigit():
        lot = SourceLot.objects.filter(pk=pk).first()
        if lot:
            context.update(lot=lot, activity_now=physics.lot_activity_now(lot, now),
                           share_now=physics.ac227_share_percent(lot, [now])[0])
    return render(request, "batches/_source_info.html", context)


# ---------------------------------------------------------------------------- batch page


def _decay_chart(batch: Batch, now: datetime):
    table = batch.decay_table
    if not table or len(table.get("times", [])) < 2:
        return None
    times = [datetime.fromisoformat(t) for t in table["times"]]
    activities = table["activities_Bq"]
    divisor, unit = charts.activity_axis([v for values in activities.values() for v in values])
    series = [charts.Series(name, [v / divisor for v in values])
              for name, values in activities.items()]
    markers = [charts.Marker(batch.calibration_time, "calibration"), charts.Marker(now, "now")]
    if batch.expiry:
        markers.append(charts.Marker(batch.expiry, "expiry"))
    chart = charts.Chart(
        title=f"Decay of lot {batch.lot_number} from calibration to expiry: "
        + ", ".join(activities), times=times, series=series,
        y_format=lambda v: f"{v:g}", y_label=f"Activity ({unit})", markers=markers)
    rows = [{"at": t, "values": [activities[name][i] for name in activities]}
            for i, t in enumerate(times)]
    return {"svg": charts.render(chart), "nuclides": list(activities), "rows": rows,
            "data_source": table.get("data_source", "")}


def _ac227_share(batch: Batch, statuses, now: datetime):
    lot = batch.source_lot
    if lot is None:
        return None
    criterion = next((s.criterion for s in statuses
                      if s.criterion.quantity == "impurity_ratio"
                      and s.criterion.impurity_nuclide == "Ac-227"), None)
    end = batch.expiry or (batch.eos + batch.product.shelf_life)
    start = batch.eos
    points = 40
    times = [start + (end - start) * (i / (points - 1)) for i in range(points)]
    moments = [("Lot reference (supplier certificate)", lot.reference_time),
               ("End of synthesis", batch.eos), ("Calibration", batch.calibration_time),
               ("Now", now), ("Expiry", end)]
    with_progeny = bool(criterion and criterion.impurity_with_progeny)
    shares = physics.ac227_share_percent(lot, times + [m for _, m in moments],
                                         with_progeny=with_progeny)
    curve, at_moments = shares[:points], shares[points:]
    limit = criterion.upper_limit if criterion else None
    chart = charts.Chart(
        title=f"Ac-227/Ac-225 activity share of lot {batch.lot_number} over its shelf life",
        times=times, series=[charts.Series("Ac-227 share", curve)],
        y_format=lambda v: f"{v:.3g} %", y_label="Ac-227/Ac-225 (%)",
        limits=[(limit, f"limit {limit:g} %")] if limit is not None else [],
        markers=[charts.Marker(batch.calibration_time, "calibration"),
                 charts.Marker(now, "now")])
    return {"svg": charts.render(chart), "limit": limit, "criterion": criterion,
            "rows": [{"label": label, "at": at, "share": share,
                      "within": limit is None or share <= limit}
                     for (label, at), share in zip(moments, at_moments, strict=True)]}


def _method_time(result, name: str) -> datetime | None:
    value = (result.method_times or {}).get(name) if result else None
    return datetime.fromisoformat(value) if value else None


def _result_rows(page: selectors.BatchPage, actions: list[str], now: datetime, user):
    rows = []
    batch = page.batch
    # Once the record is closed (released, rejected, flagged) only QA records a correction.
    may_correct = "record_result" in actions or (
        batch.status not in RESULT_ACCEPTING_STATUSES and may(user, "qa_correct"))
    for status in page.statuses:
        current = status.current
        evaluation = getattr(current, "evaluation", None) if current else None
        history = []
        for result in status.history:
            if result is current:
                continue
            if hasattr(result, "invalidation"):
                state = "invalidated"
            elif hasattr(result, "superseded_by"):
                state = "superseded"
            else:
                state = "earlier"  # a recount or repeat: the later result counts
            history.append({"result": result, "state": state,
                            "evaluation": getattr(result, "evaluation", None)})
        rows.append({
            "criterion": status.criterion, "limit": limit_text(status.criterion),
            "current": current, "evaluation": evaluation, "verdict": status.verdict,
            "history": history, "developed_at": _method_time(current, "developed_at"),
            "wait_s": (evaluation.valid_from - now).total_seconds()
            if evaluation and evaluation.valid_from else None,
            # an invalid result (counted too early) is followed by a recount, a new result
            "can_record": "record_result" in actions
            and (current is None or status.verdict == "invalid")
            and status.criterion.quantity != "impurity_ratio",
            "can_correct": may_correct and current is not None
            and status.criterion.quantity != "impurity_ratio",
            # a failing result shows Correct disabled, with why and what unblocks it
            "correct_blockers": correction_blockers(current) if current is not None else [],
            "can_invalidate": "invalidate" in actions and current is not None,
        })
    return rows


def _signature_rows(signatures):
    """Each signature with whether what was signed is untampered (it still hashes to the
    signed SHA-256), and the legitimate amendments since: results corrected or invalidated
    after signing, which leave the signed record untampered but must be seen beside it."""
    return [{"signature": s, "untampered": untampered,
             "amendments": selectors.amendments_since(s)}
            for s, untampered in zip(signatures, signatures_integrity(signatures), strict=True)]


def _live(batch: Batch, now: datetime) -> dict:
    activity_now = physics.current_activities([batch], now)[batch.id]
    expired = batch.expiry is not None and batch.expiry <= now
    return {"activity_now": activity_now, "expired": expired, "now": now,
            "seconds_left": (batch.expiry - now).total_seconds() if batch.expiry else None,
            "concentration_now": activity_now / batch.volume_ml}


# How each action reads on the batch page: its button and where it leads (record and
# invalidate are per result, in the results table).
ACTION_BUTTONS = {
    "record_result": ("Record results", "", ""),
    "review": ("Review and sign", "batch-review", "primary"),
    "release": ("Release", "batch-release", "primary"),
    "release_conditionally": ("Release conditionally", "batch-release-conditionally", ""),
    "reject": ("Reject", "batch-reject", "danger"),
    "invalidate": ("Invalidate a result", "", ""),
}


def _action_buttons(states, lot_number: str) -> list[dict]:
    buttons = []
    for state in states:
        label, url_name, style = ACTION_BUTTONS[state.action]
        buttons.append({"action": state.action, "label": label, "style": style,
                        "allowed": state.allowed, "reasons": state.reasons,
                        "url": reverse(url_name, args=[lot_number]) if url_name else ""})
    return buttons


def batch_context(request, page: selectors.BatchPage, now: datetime) -> dict:
    batch = page.batch
    states = action_states(user=request.user, batch=batch,
                           picture=Picture(batch, page.results, page.statuses))
    actions = [state.action for state in states if state.allowed]
    return {
        "batch": batch, "page": page, "now": now, "actions": actions,
        "action_buttons": _action_buttons(states, batch.lot_number),
        "blocked_actions": [s for s in _action_buttons(states, batch.lot_number)
                            if not s["allowed"]],
        "live": _live(batch, now), "live_every_s": LIVE_EVERY_S, "poll_headers": POLL_HEADERS,
        "certificate_poll_s": CERTIFICATE_POLL_S, "results_poll_s": RESULTS_POLL_S,
    }


@require_GET
@staff_required
def batch_detail(request, lot_number: str):
    now = timezone.now()
    page = _batch_or_404(lot_number)
    context = batch_context(request, page, now)
    batch = page.batch
    context.update(
        tab="record", rows=_result_rows(page, context["actions"], now, request.user),
        decay=_decay_chart(batch, now), ac227=_ac227_share(batch, page.statuses, now),
        signatures=_signature_rows(page.signatures),
    )
    return render(request, "batches/batch_detail.html", context)


@require_GET
@role_required(*QA, what="read the audit trail")
def batch_audit(request, lot_number: str):
    now = timezone.now()
    page = _batch_or_404(lot_number)
    context = batch_context(request, page, now)
    events = Paginator(selectors.batch_audit_events(batch=page.batch), 200)
    context.update(tab="audit", events=events.get_page(request.GET.get("page")))
    return render(request, "batches/batch_audit.html", context)


@require_GET
@staff_required
def batch_live(request, lot_number: str):
    batch = Batch.objects.select_related("product").filter(lot_number=lot_number).first()
    if batch is None:
        raise Http404(f"No batch has lot number {lot_number}.")
    return render(request, "batches/_batch_live.html",
                  {"batch": batch, "live": _live(batch, timezone.now()),
                   "live_every_s": LIVE_EVERY_S, "poll_headers": POLL_HEADERS})


@require_GET
@staff_required
def batch_results_partial(request, lot_number: str):
    now = timezone.now()
    page = _batch_or_404(lot_number)
    context = batch_context(request, page, now)
    context["rows"] = _result_rows(page, context["actions"], now, request.user)
    return render(request, "batches/_results.html", context)


@require_GET
@staff_required
def batch_certificates_partial(request, lot_number: str):
    batch = Batch.objects.filter(lot_number=lot_number).first()
    if batch is None:
        raise Http404(f"No batch has lot number {lot_number}.")
    certificates = selectors.batch_certificates(batch=batch)
    return render(request, "batches/_certificates.html", {
        "batch": batch, "certificates": certificates,
        "certificate_pending": any(c.status == "pending" for c in certificates),
        "certificate_poll_s": CERTIFICATE_POLL_S, "poll_headers": POLL_HEADERS})


@require_POST
@role_required(Role.QP, Role.REVIEWER, Role.ADMIN, what="re-issue a certificate")
def certificate_retry(request, lot_number: str, version: int):
    """Put a failed or stuck certificate back in the queue (e.g. once the signing identity
    is installed); the page then shows its progress."""
    certificate = Certificate.objects.filter(batch__lot_number=lot_number,
                                             version=version).first()
    if certificate is None:
        raise Http404(f"Lot {lot_number} has no certificate version {version}.")
    certificate_retry_service(actor=request.user, certificate=certificate)
    messages.info(request, f"Certificate version {version} is being issued again.")
    return redirect("batch-detail", lot_number)
