"""The decay projection and equilibrium-wait reports shared by `manage.py decay` and
GET /api/v1/decay/ (pure: plain values in, a JSON-ready dict out)."""

from collections.abc import Sequence

from .physics.decay import DecayEngine
from .physics.nuclides import normalise_nuclide
from .units import parse_activity, parse_duration


def projection(engine: DecayEngine, *, nuclide: str, activity: str, at: Sequence[str],
               decimal_comma: bool = False) -> dict:
    """Activity of every member of the chain at each time after the reference."""
    name = normalise_nuclide(nuclide)
    bq = parse_activity(activity, decimal_comma=decimal_comma)
    if bq <= 0:
        raise ValueError(f"The activity must be positive, got {activity!r}.")
    if not at:
        raise ValueError("Give at least one time, e.g. --at 30min --at 6h --at 10d.")
    times = []
    for text in at:
        seconds = parse_duration(text)
        if seconds < 0:
            raise ValueError(f"Times count forward from the reference; {text!r} is negative.")
        times.append(seconds)
    activities = engine.project({name: bq}, times)
    return {
        "data_source": engine.data_source,
        "nuclide": name,
        "activity_Bq": bq,
        "times_s": times,
        "activities_Bq": {member: [float(v) for v in values]
                          for member, values in activities.items()},
    }


def equilibrium(engine: DecayEngine, *, nuclide: str, daughter: str,
                fraction: float = 0.99) -> dict:
    """Wait after separation until the daughter reaches `fraction` of equilibrium."""
    if not 0 < fraction < 1:
        raise ValueError(f"The fraction must lie strictly between 0 and 1, got {fraction}.")
    parent, child = normalise_nuclide(nuclide), normalise_nuclide(daughter)
    if child not in engine.chain(parent):
        raise ValueError(f"{child} is not in the decay chain of {parent}; its members are "
                         f"{', '.join(engine.chain(parent)[1:])}.")
    return {
        "data_source": engine.data_source,
        "nuclide": parent,
        "daughter": child,
        "fraction": fraction,
        "wait_s": engine.equilibrium_wait_s(parent, child, fraction),
    }
