"""The site's decay engine: ICRP-107 plus the half-life overrides the site chose."""

from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=4)
def _engine_for(raw_overrides: str):
    from .physics.decay import get_engine, parse_duration

    overrides: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in raw_overrides.split(","))):
        nuclide, _, duration = item.partition("=")
        overrides[nuclide.strip()] = parse_duration(duration.strip())
    return get_engine(overrides)


def site_engine():
    return _engine_for(settings.DECAY_HALF_LIFE_OVERRIDES)
