"""GET /api/v1/decay/ with the API's keys, roles and problem responses (the calculator
itself lives in qc)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from qc.api import DECAY_PARAMETERS, decay_query

from .permissions import READ
from .problems import Problem
from .schema import problems
from .views import ApiView


class DecayApiView(ApiView):
    api_actions = {"GET": READ}

    @extend_schema(
        summary="Project an activity through its decay chain, or the wait for equilibrium",
        parameters=DECAY_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, **problems(401, 403, 422)},
    )
    def get(self, request):
        try:
            return Response(decay_query(request.query_params))
        except ValueError as exc:
            raise Problem(422, "invalid_decay_query", str(exc)) from None
