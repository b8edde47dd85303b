"""The dashboard: batches by status, the batches in work with their activity now, and what
needs attention. The live part re-renders on the server every few seconds."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .. import selectors
from . import physics
from .common import POLL_HEADERS, staff_required

LIVE_EVERY_S = 5


def _live_context(now) -> dict:
    active = selectors.active_batches(now=now)
    activities = physics.current_activities(active, now)
    rows = [{"batch": b, "activity_now": activities.get(b.id),
             "expired": b.expiry is not None and b.expiry <= now,
             "seconds_left": (b.expiry - now).total_seconds() if b.expiry else None}
            for b in active]
    accepting = selectors.accepting_batch_ids()
    waiting = [{"result": r, "ready": r.evaluation.valid_from <= now,
                "seconds_left": (r.evaluation.valid_from - now).total_seconds()}
               for r in selectors.waiting_results(now=now, batch_ids=accepting)]
    return {"now": now, "rows": rows, "waiting": waiting,
            "failing": selectors.failing_results(batch_ids=accepting),
            "pending_post_release": selectors.pending_post_release(),
            "oos": selectors.post_release_alerts(), "live_every_s": LIVE_EVERY_S,
            "poll_headers": POLL_HEADERS}


@require_GET
@staff_required
def dashboard(request):
    now = timezone.now()
    return render(request, "batches/dashboard.html",
                  {**_live_context(now), "counts": selectors.status_counts()})


@require_GET
@staff_required
def dashboard_live(request):
    return render(request, "batches/_dashboard_live.html", _live_context(timezone.now()))
