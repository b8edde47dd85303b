"""GET /api/v1/decay/: the decay calculator over HTTP, same JSON as `manage.py decay --json`."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

DECAY_PARAMETERS = [
    OpenApiParameter("nuclide", str, required=True, description="e.g. Ac-225"),
    OpenApiParameter("activity", str, description="e.g. '1 GBq' or '27 mCi'"),
    OpenApiParameter("at", str, many=True,
                     description="time after the reference, e.g. 30min, 6h, 10d"),
    OpenApiParameter("equilibrium", str, description="daughter, e.g. Fr-221"),
    OpenApiParameter("fraction", float, description="of equilibrium, default 0.99"),
]


class DecayView(APIView):
    """The calculator; batches.api serves it with the API's authentication and problems."""

    @extend_schema(
        summary="Project an activity through its decay chain, or the wait for equilibrium",
        parameters=DECAY_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT,
                   400: OpenApiResponse(OpenApiTypes.OBJECT, description="problem+json")},
    )
    def get(self, request):
        try:
            return Response(decay_query(request.query_params))
        except ValueError as exc:
            return Response({"type": "about:blank", "title": "Invalid decay query",
                             "status": 400, "detail": str(exc)},
                            status=400, content_type="application/problem+json")


def decay_query(params) -> dict:
    """The report for query parameters; ValueError says what is wrong and what is accepted."""
    from .decay_report import equilibrium, projection
    from .engine import site_engine

    if not params.get("nuclide"):
        raise ValueError("Give nuclide=..., e.g. nuclide=Ac-225.")
    if params.get("equilibrium"):
        fraction = _float(params.get("fraction", "0.99"), "fraction")
        return equilibrium(site_engine(), nuclide=params["nuclide"],
                           daughter=params["equilibrium"], fraction=fraction)
    if not params.get("activity"):
        raise ValueError("Give activity=... (e.g. activity=1 GBq) with at=... times, or "
                         "equilibrium=DAUGHTER.")
    return projection(site_engine(), nuclide=params["nuclide"], activity=params["activity"],
                      at=params.getlist("at"), decimal_comma=settings.DECIMAL_COMMA)


def _float(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number.") from None
