"""The dashboard: each role's work queue (what to do next, the most urgent first), batches by
status, the batches in work with their activity now, and what needs attention. The live part
re-renders on the server every few seconds."""

from datetime import datetime

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from config.sql import planned_for_values
from qc.engine import site_engine
from qc.roles import Role, has_role

from .. import selectors
from ..stability.alerts import stability_alerts
from . import physics
from .common import POLL_HEADERS, QA, staff_required, user_has_any

LIVE_EVERY_S = 5


def _start_of_day(now: datetime) -> datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def _queues(user, now: datetime, accepting: list, current: list) -> dict:
    """The queues of the roles `user` holds; a role's queries run only for its holders."""
    queues: dict = {}
    if has_role(user, Role.OPERATOR):
        engine = site_engine()
        # the product nuclides of the generators (Generator.product_nuclide)
        half_lives = {n: engine.half_life_s(n) for n in ("Pb-212", "Bi-213")}
        queues["register"] = selectors.elutions_to_register(today_from=_start_of_day(now),
                                                            now=now,
                                                            half_lives=half_lives)
    roles = [r for r in (Role.ANALYST, Role.REVIEWER, Role.QP) if has_role(user, r)]
    if roles:
        batch_queues = selectors.batch_queues(batches=accepting, now=now, current=current)
        if Role.ANALYST in roles:
            queues["record"] = batch_queues.record
        if Role.REVIEWER in roles:
            queues["review"] = batch_queues.review
        if Role.QP in roles:
            queues["release"] = batch_queues.release
    return queues


def _live_context(request, now) -> dict:
    active = selectors.active_batches(now=now)
    activities = physics.current_activities(active, now)
    rows = [{"batch": b, "activity_now": activities.get(b.id),
             "expired": b.expiry is not None and b.expiry <= now,
             "seconds_left": (b.expiry - now).total_seconds() if b.expiry else None}
            for b in active]
    accepting = selectors.accepting_batches()
    current = selectors.current_results(batch_ids=[b.id for b in accepting])
    alerts = selectors.result_alerts(now=now, batches=accepting, current=current)
    waiting = [{"result": r, "ready": r.evaluation.valid_from <= now,
                "seconds_left": (r.evaluation.valid_from - now).total_seconds()}
               for r in alerts.waiting]
    return {"now": now, "rows": rows, "waiting": waiting,
            "queues": _queues(request.user, now, accepting, current),
            "failing": alerts.failing,
            "pending_post_release": selectors.pending_post_release(),
            "oos": selectors.post_release_alerts(), "live_every_s": LIVE_EVERY_S,
            "poll_headers": POLL_HEADERS,
            # QA's and the QP's: the running shelf-life studies
            "stability": stability_alerts(now=now)
            if user_has_any(request.user, QA) else None}


@require_GET
@staff_required
@planned_for_values()
def dashboard(request):
    now = timezone.now()
    return render(request, "batches/dashboard.html",
                  {**_live_context(request, now), "counts": selectors.status_counts()})


@require_GET
@staff_required
@planned_for_values()
def dashboard_live(request):
    return render(request, "batches/_dashboard_live.html",
                  _live_context(request, timezone.now()))
