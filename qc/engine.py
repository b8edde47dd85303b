"""The site's decay engine: ICRP-107 plus the half-life overrides the site chose."""

from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=4)
def _engine_for(raw_overrides: str):
    from .physics.decay import get_engine
    from .units import parse_duration

    overrides: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in raw_overrides.split(","))):
        nuclide, _, duration = item.partition("=")
        overrides[nuclide.strip()] = parse_duration(duration.strip())
    return get_engine(overrides)


def site_engine():
    return _engine_for(settings.DECAY_HALF_LIFE_OVERRIDES)


def warm_up(nuclides=("Ac-225", "Pb-212", "Bi-213", "Ra-224", "Ac-227")) -> None:
    """Load the nuclear data and build the product chains before the first request or task
    needs them (called at worker start)."""
    engine = site_engine()
    for nuclide in nuclides:
        engine.project({nuclide: 1.0}, [0.0, 1.0])
