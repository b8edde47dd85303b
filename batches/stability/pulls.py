"""When a study sample is pulled: on time, a deviation, or too far from its time point
(pure). A pull within its tolerance is on time; up to DEVIATION_FACTOR x the tolerance away
it is recorded as a deviation with the difference; further away it is refused, because the
result no longer stands for that time point (pull again at the next one)."""

from dataclasses import dataclass

DEVIATION_FACTOR = 3.0


class PullRefused(ValueError):
    pass


@dataclass(frozen=True)
class Pull:
    on_time: bool
    difference_s: float  # actual - nominal: + late, - early

    @property
    def deviation_s(self) -> float | None:
        return None if self.on_time else self.difference_s


def _text(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.3g} s"


def classify_pull(*, nominal_s: float, tolerance_s: float, actual_s: float,
                  factor: float = DEVIATION_FACTOR) -> Pull:
    difference = actual_s - nominal_s
    if abs(difference) <= tolerance_s:
        return Pull(True, difference)
    if abs(difference) <= factor * tolerance_s:
        return Pull(False, difference)
    side = "late" if difference > 0 else "early"
    raise PullRefused(
        f"Pulled {_text(difference)} {side} for the T+{_text(nominal_s) if nominal_s else '0'} "
        f"time point, whose tolerance is ±{_text(tolerance_s) if tolerance_s else '0 s'}; a "
        f"pull more than {factor:g} x the tolerance away does not stand for that time point. "
        "Record it at the time point it was pulled for, or pull again at the next one.")
