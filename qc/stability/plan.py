"""The plan of a stability protocol: which criterion is tested at which time point (read once,
three queries, then asked in memory by the pages, the result checks and the estimate)."""

from dataclasses import dataclass

from qc.models import Criterion
from qc.stability.models import StabilityCriterion, StabilityProtocol, StabilityTimePoint


@dataclass(frozen=True)
class PlanRow:
    time_point: StabilityTimePoint
    tested: tuple[bool, ...]  # in the order of ProtocolPlan.criteria


@dataclass(frozen=True)
class ProtocolPlan:
    time_points: tuple[StabilityTimePoint, ...]
    criteria: tuple[StabilityCriterion, ...]
    cells: frozenset[tuple[int, int]]  # (time point id, qc.Criterion id)

    def is_planned(self, time_point: StabilityTimePoint, criterion: Criterion) -> bool:
        return (time_point.pk, criterion.pk) in self.cells

    def tests_at(self, time_point: StabilityTimePoint) -> list[Criterion]:
        return [sc.criterion for sc in self.criteria
                if (time_point.pk, sc.criterion_id) in self.cells]

    def points_for(self, criterion: Criterion) -> list[StabilityTimePoint]:
        return [tp for tp in self.time_points if (tp.pk, criterion.pk) in self.cells]

    def rows(self) -> list[PlanRow]:
        """The matrix, time points down and criteria across, for the pages."""
        return [PlanRow(tp, tuple((tp.pk, sc.criterion_id) in self.cells
                                  for sc in self.criteria)) for tp in self.time_points]


def protocol_plan(protocol: StabilityProtocol) -> ProtocolPlan:
    points = tuple(protocol.time_points.order_by("position"))
    criteria = tuple(protocol.criteria.select_related("criterion").order_by("position"))
    cells = frozenset(protocol.planned_tests.values_list("time_point_id",
                                                         "criterion__criterion_id"))
    return ProtocolPlan(points, criteria, cells)
