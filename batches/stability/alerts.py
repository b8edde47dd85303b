"""What needs QA's attention in the running stability studies, for the dashboard: a current
result out of specification, a pull recorded outside its tolerance, a pull overdue (late
beyond its tolerance with nothing recorded). Reads only, a fixed number of queries however
many lots and results the studies hold."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from qc.stability.models import ProtocolStatus, StabilityProtocol, StabilityTimePoint

from ..web.formatting import duration
from .models import StabilityResult, StabilityVerdict
from .pulls import DEVIATION_FACTOR

ALERT_ROWS = 30
# A deviation or an overdue pull stays on the dashboard this long; a result out of
# specification stays while it is the current result of an approved protocol.
RECENT = timedelta(days=7)


@dataclass(frozen=True)
class StabilityAlertRow:
    kind: str  # "oos", "deviation", "overdue", "missed"
    product_code: str
    product_name: str
    protocol_pk: int
    lot_number: str
    message: str
    at: datetime


def _h(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours:g} h" if abs(hours) >= 1 or hours == 0 else f"{seconds / 60:.0f} min"


def _row(kind: str, protocol: StabilityProtocol, lot: str, message: str, at) -> StabilityAlertRow:
    return StabilityAlertRow(kind, protocol.product.code, protocol.product.name, protocol.pk,
                             lot, message, at)


def _failures(protocols: dict[int, StabilityProtocol]) -> list[StabilityAlertRow]:
    failing = (StabilityResult.objects.filter(
        protocol_id__in=protocols, verdict=StabilityVerdict.FAIL, superseded_by__isnull=True)
        .select_related("batch", "alert", "criterion", "time_point")
        .order_by("-recorded_at")[:ALERT_ROWS])
    rows = []
    for r in failing:
        alert = getattr(r, "alert", None)
        message = alert.message if alert else (
            f"{r.criterion.name} at T+{_h(r.time_point.after_eos.total_seconds())} failed.")
        rows.append(_row("oos", protocols[r.protocol_id], r.batch.lot_number, message,
                         r.recorded_at))
    return rows


def _deviations(protocols, now: datetime) -> list[StabilityAlertRow]:
    """One row per pull (lot and time point) recorded outside its tolerance lately."""
    deviating = (StabilityResult.objects.filter(
        protocol_id__in=protocols, deviation_s__isnull=False, superseded_by__isnull=True,
        recorded_at__gte=now - RECENT)
        .select_related("batch", "time_point").order_by("-recorded_at")[:ALERT_ROWS * 4])
    rows, seen = [], set()
    for r in deviating:
        if (r.batch_id, r.time_point_id) in seen:
            continue
        seen.add((r.batch_id, r.time_point_id))
        side = "late" if r.deviation_s > 0 else "early"
        rows.append(_row("deviation", protocols[r.protocol_id], r.batch.lot_number, (
            f"T+{_h(r.time_point.after_eos.total_seconds())} pull {duration(r.deviation_s)} "
            f"{side} (tolerance ± {duration(r.time_point.tolerance.total_seconds())}): recorded "
            "as a deviation; assess it."), r.recorded_at))
    return rows


def _overdue(protocols, now: datetime) -> list[StabilityAlertRow]:
    """A lot in a study (it has a result) with a later time point past its tolerance and
    nothing recorded there: still recordable as a deviation up to DEVIATION_FACTOR x the
    tolerance late, missed beyond (shown for RECENT after it fell due)."""
    points: dict[int, list[StabilityTimePoint]] = {}
    for tp in StabilityTimePoint.objects.filter(protocol_id__in=protocols).order_by("position"):
        points.setdefault(tp.protocol_id, []).append(tp)
    longest = max((tp.after_eos for tps in points.values() for tp in tps), default=timedelta(0))
    pulled: dict[tuple[int, int], dict] = {}
    for row in (StabilityResult.objects.filter(
            protocol_id__in=protocols, superseded_by__isnull=True,
            batch__eos__gte=now - RECENT - longest - timedelta(hours=1))
            .values("protocol_id", "batch_id", "batch__lot_number", "batch__eos",
                    "time_point_id").distinct()):
        lot = pulled.setdefault((row["protocol_id"], row["batch_id"]), {
            "lot": row["batch__lot_number"], "eos": row["batch__eos"], "points": set()})
        lot["points"].add(row["time_point_id"])
    rows = []
    for (protocol_id, _), lot in pulled.items():
        for tp in points.get(protocol_id, []):
            due = lot["eos"] + tp.after_eos
            late = (now - due).total_seconds()
            if tp.pk in lot["points"] or late <= tp.tolerance.total_seconds():
                continue
            if now - due > RECENT:
                continue
            missed = late > DEVIATION_FACTOR * tp.tolerance.total_seconds()
            tail = ("missed: further out than 3 × its tolerance, it no longer stands for that "
                    "time point" if missed else
                    f"pull it now: it is recorded as a deviation up to "
                    f"{duration(DEVIATION_FACTOR * tp.tolerance.total_seconds())} late")
            rows.append(_row("missed" if missed else "overdue", protocols[protocol_id],
                             lot["lot"], f"T+{_h(tp.after_eos.total_seconds())} pull overdue "
                             f"by {duration(late)} (tolerance ± "
                             f"{duration(tp.tolerance.total_seconds())}); {tail}.", due))
    return rows


def stability_alerts(*, now: datetime) -> list[StabilityAlertRow]:
    """The studies of the approved protocols: failures first, then overdue pulls, then
    deviations, each newest first."""
    protocols = {p.pk: p for p in StabilityProtocol.objects.filter(
        status=ProtocolStatus.APPROVED).select_related("product")}
    if not protocols:
        return []
    overdue = sorted(_overdue(protocols, now), key=lambda a: a.at, reverse=True)
    return (_failures(protocols) + overdue + _deviations(protocols, now))[:ALERT_ROWS]
