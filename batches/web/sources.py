"""Generators with their elution history and the activity ingrowth makes available at the
next elution; 225Ac lots with their Ac-227 share now and at a chosen time."""

from datetime import timedelta

from django.db.models import Count, Max, Prefetch
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..forms import AtForm
from ..models import Batch, Elution, Generator, SourceLot
from . import charts, physics
from .common import staff_required

HISTORY_ROWS = 100
LOOK_AHEAD = timedelta(days=14)


def _chosen_time(request, default):
    form = AtForm(request.GET or None, initial={"at": timezone.localtime(default).replace(
        microsecond=0)})
    at = form.cleaned_data.get("at") if form.is_valid() else None
    return form, at or default


@require_GET
@staff_required
def source_list(request):
    now = timezone.now()
    generators = list(Generator.objects.annotate(last_eluted=Max("elutions__eluted_at"),
                                                 elution_count=Count("elutions"))
                      .order_by("-loaded_at"))
    today = timezone.localdate(now)
    generator_rows = [{"generator": g, "expired": g.expires_on < today,
                       "prediction": physics.predict_elution(
                           g, last_elution_at=g.last_eluted, at=now)} for g in generators]
    lots = list(SourceLot.objects.annotate(batch_count=Count("batches"))
                .order_by("-reference_time"))
    shares = {lot.pk: physics.ac227_share_percent(lot, [now])[0] for lot in lots}
    lot_rows = [{"lot": lot, "activity_now": physics.lot_activity_now(lot, now),
                 "share_now": shares[lot.pk]} for lot in lots]
    return render(request, "sources/list.html",
                  {"now": now, "generators": generator_rows, "lots": lot_rows})


@require_GET
@staff_required
def generator_detail(request, serial: str):
    now = timezone.now()
    generator = get_object_or_404(Generator, serial=serial)
    elutions = list(Elution.objects.filter(generator=generator)
                    .prefetch_related(Prefetch("batches", queryset=Batch.objects.only(
                        "id", "lot_number", "elution_id", "status")))
                    .order_by("-eluted_at")[:HISTORY_ROWS])
    yields = physics.elution_yields(generator, elutions)
    form, at = _chosen_time(request, now)
    last = max((e.eluted_at for e in elutions if e.eluted_at <= at), default=None)
    prediction = physics.predict_elution(generator, last_elution_at=last, at=at)
    rows = [{"elution": e, "yield": yields.get(e.id),
             "activity_now": physics.elution_activity_now(e, now)} for e in elutions]
    return render(request, "sources/generator.html", {
        "generator": generator, "rows": rows, "prediction": prediction, "form": form,
        "now": now, "parent_now": physics.decayed(generator.parent_nuclide,
                                                  generator.loaded_activity_bq,
                                                  generator.loaded_at, now)})


@require_GET
@staff_required
def lot_detail(request, lot_number: str):
    now = timezone.now()
    lot = get_object_or_404(SourceLot, lot_number=lot_number)
    # unless asked otherwise, look two weeks ahead: long enough for the share to have moved
    form, at = _chosen_time(request, now + LOOK_AHEAD)
    share_now, share_at = physics.ac227_share_percent(lot, [now, at])
    end = max(at, now)
    points = 40
    times = [lot.reference_time + (end - lot.reference_time) * (i / (points - 1))
             for i in range(points)] if end > lot.reference_time else []
    svg = ""
    if times:
        svg = charts.render(charts.Chart(
            title=f"Ac-227/Ac-225 activity share of lot {lot.lot_number}", times=times,
            series=[charts.Series("Ac-227 share", physics.ac227_share_percent(lot, times))],
            y_format=lambda v: f"{v:.3g} %", y_label="Ac-227/Ac-225 (%)",
            markers=[charts.Marker(now, "now")] + ([charts.Marker(at, "chosen")]
                                                   if at != now else [])))
    batches = Batch.objects.filter(source_lot=lot).select_related("product").order_by("-eos")
    return render(request, "sources/lot.html", {
        "lot": lot, "now": now, "at": at, "form": form, "share_now": share_now,
        "share_at": share_at, "activity_now": physics.lot_activity_now(lot, now),
        "activity_at": physics.lot_activity_now(lot, at), "svg": svg, "batches": batches})
