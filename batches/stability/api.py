"""/api/v1/ for stability: a product's study (ICH Q1E estimate) and stability results posted
by instruments. Thin views: validate at the edge, call one service or selector, render."""

from datetime import timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from qc.models import Instrument, Product
from qc.time_range import MAX_DURATION_H

from ..api.fields import (
    AwareDateTimeField,
    FiniteNumberField,
    MethodTimesField,
    StrictCharField,
    StrictIntegerField,
)
from ..api.idempotency import idempotent
from ..api.permissions import READ, RECORD_RESULTS, check_test_code_scope
from ..api.problems import Problem, django_errors, validation_problem
from ..api.schema import IDEMPOTENCY_KEY, problems
from ..api.views import ApiView, _actor, _body_object
from ..models import Batch, Channel
from .selectors import current_protocol, product_stability
from .services import stability_result_record


class CriterionStudyOutSerializer(serializers.Serializer):
    test_code = serializers.CharField()
    model = serializers.CharField(allow_null=True, help_text="pooled, common_slope or "
                                  "separate (ICH Q1E); null for a text criterion or too "
                                  "little data.")
    observed_s = serializers.FloatField(allow_null=True, help_text="Longest time point at "
                                        "which every batch met the criterion.")
    statistical_s = serializers.FloatField(
        allow_null=True, help_text="Where the one-sided 95 % confidence bound of the mean "
        "meets the limit; null when it does not within 10 x the study or for a text result.")
    batches = serializers.IntegerField()
    points = serializers.IntegerField()


class ProductStabilityOutSerializer(serializers.Serializer):
    product = serializers.CharField()
    approved_shelf_life_s = serializers.FloatField()
    supported_shelf_life_s = serializers.FloatField(allow_null=True)
    criteria = CriterionStudyOutSerializer(many=True)
    reason = serializers.CharField(allow_blank=True, help_text="Why there is no supported "
                                   "shelf life (not enough data, with the counts).")


class StabilityResultInSerializer(serializers.Serializer):
    lot_number = StrictCharField(max_length=40, help_text="Lot number of the study batch.")
    protocol_version = StrictIntegerField(
        required=False, min_value=1, help_text="Version of the product's stability protocol; "
        "default the approved one.")
    time_point_h = FiniteNumberField(help_text="The protocol time point the pull is for, in "
                                     "hours after EOS (e.g. 4).")
    test_code = StrictCharField(max_length=40)
    value = FiniteNumberField(required=False, allow_null=True)
    unit = StrictCharField(required=False, allow_blank=True, max_length=20, default="")
    value_text = StrictCharField(required=False, allow_blank=True, max_length=200, default="")
    measured_at = AwareDateTimeField(help_text="When it was measured, with its UTC offset.")
    method_times = MethodTimesField(required=False, default=dict)
    counting_window = StrictCharField(
        required=False, allow_blank=True, max_length=20, default="",
        help_text="product_line or wide, where the test needs the strip's counting window.")
    instrument = StrictCharField(required=False, max_length=60)

    def validate_time_point_h(self, hours: float) -> float:
        # 1e308 h was an OverflowError (a 500) when it became a timedelta.
        if not 0 <= hours <= MAX_DURATION_H:
            raise serializers.ValidationError(
                f"{hours:g} h is not a time point: time points are from 0 to {MAX_DURATION_H} h "
                "(ten years) after EOS.")
        return hours


class StabilityResultOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lot_number = serializers.CharField(source="batch.lot_number")
    protocol_version = serializers.IntegerField(source="protocol.version")
    time_point_s = serializers.SerializerMethodField()
    test_code = serializers.CharField(source="criterion.test_code")
    value = serializers.FloatField(allow_null=True)
    value_text = serializers.CharField(allow_blank=True)
    measured_at = serializers.DateTimeField()
    after_eos_s = serializers.FloatField()
    deviation_s = serializers.FloatField(allow_null=True, help_text="Difference from the "
                                         "nominal time of a pull outside its tolerance.")
    verdict = serializers.CharField()
    dose_gy = serializers.FloatField(help_text="Radiolysis measure since EOS (Gy).")

    def get_time_point_s(self, obj) -> float:
        return obj.time_point.after_eos.total_seconds()


def stability_data(product: Product) -> dict:
    stability = product_stability(product)
    return {
        "product": product.code,
        "approved_shelf_life_s": stability.approved_shelf_life_s,
        "supported_shelf_life_s": stability.supported_shelf_life_s,
        "criteria": [{"test_code": s.criterion.test_code, "model": s.model,
                      "observed_s": s.observed_s, "statistical_s": s.statistical_s,
                      "batches": s.batches, "points": s.points} for s in stability.criteria],
        "reason": stability.reason,
    }


class ProductStabilityView(ApiView):
    api_actions = {"GET": READ}

    @extend_schema(operation_id="products_stability_retrieve",
                   summary="A product's stability study: supported shelf life (ICH Q1E)",
                   responses={200: ProductStabilityOutSerializer, **problems(401, 403, 404)})
    def get(self, request, code: str):
        product = Product.objects.filter(code=code[:40]).first() if code.isprintable() else None
        if product is None:
            raise Problem(404, "not_found", "No product with that code.")
        return Response(stability_data(product))


class StabilityResultCreateView(ApiView):
    api_actions = {"POST": RECORD_RESULTS}

    @extend_schema(
        operation_id="stability_results_create", summary="Record one stability result",
        description="A pull of a lot's study sample at a protocol time point, tested for one "
        "criterion. A pull outside its tolerance is recorded as a deviation with the "
        "difference, one far outside it refused (422).",
        request=StabilityResultInSerializer, parameters=[IDEMPOTENCY_KEY],
        responses={201: StabilityResultOutSerializer,
                   **problems(400, 401, 403, 409, 415, 422)},
        examples=[OpenApiExample("RCP at 4 h", request_only=True, value={
            "lot_number": "AC225-2611-003", "time_point_h": 4, "test_code": "rcp",
            "value": 96.8, "unit": "%", "measured_at": "2026-11-22T13:40:00+01:00",
            "method_times": {"developed_at": "2026-11-22T13:02:00+01:00"}})])
    def post(self, request):
        data = _body_object(request)
        check_test_code_scope(request, [(None, data.get("test_code"))])
        return idempotent(request, lambda: self._create(request, data))

    def _create(self, request, data) -> Response:
        serializer = StabilityResultInSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        v = serializer.validated_data
        batch = Batch.objects.select_related("product", "specification").filter(
            lot_number=v["lot_number"]).first()
        if batch is None:
            raise validation_problem([{"field": "lot_number", "message":
                                       f"No batch with lot number {v['lot_number']}."}])
        protocol = current_protocol(batch.product) if "protocol_version" not in v else \
            batch.product.stability_protocols.filter(version=v["protocol_version"]).first()
        if protocol is None:
            raise validation_problem([{"field": "protocol_version", "message":
                                       f"{batch.product.code} has no such approved stability "
                                       "protocol."}])
        actor, actor_name = _actor(request)
        instrument = None
        if actor_name:  # an instrument key reports as its own instrument
            from ..api.authentication import request_key

            instrument = request_key(request).instrument
        elif v.get("instrument"):
            instrument = Instrument.objects.filter(serial=v["instrument"]).first()
        try:
            result = stability_result_record(
                actor=actor, actor_name=actor_name, batch=batch, protocol=protocol,
                time_point_after_eos=timedelta(hours=v["time_point_h"]),
                test_code=v["test_code"], measured_at=v["measured_at"], value=v.get("value"),
                unit=v["unit"], value_text=v["value_text"], method_times=v["method_times"],
                instrument=instrument, channel=Channel.API,
                counting_window=v["counting_window"])
        except DjangoValidationError as exc:
            raise validation_problem(django_errors(exc)) from None
        return Response(StabilityResultOutSerializer(result).data, status=201)
