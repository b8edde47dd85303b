"""The instrument REST API: thin views that validate at the edge, call one service and render.

Results go through batches.records.results only; its validation and GMP rules are the single
source of truth, mapped here to problem+json (422 field errors, 409 rule refusals)."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import generics
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.sql import planned_for_values
from qc.api_keys import key_label
from qc.errors import RuleViolation

from ..models import Batch, Channel, RawDataFile
from ..records.registration import batch_register
from ..records.results import ResultInput, ResultsRefused, result_record, result_record_many
from ..selectors import batch_detail, batch_list, criterion_statuses
from . import schema as docs
from .authentication import InstrumentKeyAuthentication, request_key
from .fields import LenientJSONParser
from .idempotency import idempotent
from .permissions import (
    READ,
    READ_BATCH_RECORDS,
    RECORD_RESULTS,
    REGISTER_BATCHES,
    ApiAccess,
    check_test_code_scope,
    scope_batches,
)
from .problems import (
    PROBLEM_CONTENT_TYPE,
    Problem,
    django_errors,
    field_errors,
    problem_exception_handler,
    rule_violation_problem,
    summary,
    validation_problem,
)
from .serializers import (
    MAX_BULK,
    BatchFilterSerializer,
    BatchInSerializer,
    BatchSummarySerializer,
    Catalogue,
    ResultInSerializer,
    ResultUploadSerializer,
    batch_detail_data,
    fresh_result_body,
)

# Multipart bodies carry the raw data file plus a few short fields.
MULTIPART_OVERHEAD = 64 * 1024


class ApiView(APIView):
    authentication_classes = [InstrumentKeyAuthentication, SessionAuthentication]
    permission_classes = [ApiAccess]
    parser_classes = [LenientJSONParser]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]
    api_actions: dict[str, str] = {}

    def get_exception_handler(self):
        return problem_exception_handler

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.get("Content-Type") == PROBLEM_CONTENT_TYPE or (
                getattr(response, "content_type", None) == PROBLEM_CONTENT_TYPE):
            # Problems are JSON whatever renderer the view negotiated (YAML, HTML, ...).
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = PROBLEM_CONTENT_TYPE
        return response


def _actor(request) -> tuple[object, str]:
    key = request_key(request)
    return request.user, (key_label(key) if key is not None else "")


def _is_form(request) -> bool:
    return request.content_type.startswith(("multipart/", "application/x-www-form-urlencoded"))


def _body_object(request) -> dict:
    data = request.data
    if not isinstance(data, dict):
        raise Problem(422, "validation_error", "Send a JSON object.",
                      errors=[{"field": "non_field_errors", "message": "Send a JSON object."}])
    return data


def _service_errors(exc: DjangoValidationError, method_times) -> list[dict]:
    rename = {name: f"method_times.{name}" for name in method_times}
    return django_errors(exc, rename)


class ResultCreateView(ApiView):
    parser_classes = [LenientJSONParser, MultiPartParser]
    api_actions = {"POST": RECORD_RESULTS}

    @extend_schema(**docs.RESULT_CREATE)
    def post(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.RAW_DATA_MAX_BYTES + MULTIPART_OVERHEAD:
            raise Problem(413, "payload_too_large",
                          f"The request is {length} bytes; raw data files may be at most "
                          f"{settings.RAW_DATA_MAX_BYTES} bytes.")
        data = _body_object(request)
        check_test_code_scope(request, [(None, data.get("test_code"))])
        return idempotent(request, lambda: self._create(request, data))

    def _create(self, request, data) -> Response:
        # In the transaction idempotent() opened: the batch is locked as it is looked up.
        catalogue = Catalogue(lots=[data.get("lot_number")], serials=[data.get("instrument")],
                              lock=True)
        serializer = ResultUploadSerializer(data=data, context={
            "catalogue": catalogue, "key": request_key(request), "form": _is_form(request)})
        serializer.is_valid(raise_exception=True)
        v = serializer.validated_data
        actor, actor_name = _actor(request)
        try:
            result = result_record(
                actor=actor, actor_name=actor_name, batch=v["batch"], criterion=v["criterion"],
                measured_at=v["measured_at"], value=v.get("value"), unit=v["unit"],
                value_text=v["value_text"], method_times=v["method_times"],
                instrument=v["instrument_obj"], channel=Channel.API,
                raw_data_upload=v.get("raw_data"), censor=v["censor"],
                counting_window=v["counting_window"], batch_locked=True)
        except DjangoValidationError as exc:
            raise validation_problem(_service_errors(exc, v["method_times"])) from None
        body = fresh_result_body(result)
        return Response(body, status=201,
                        headers={"Location": f"/api/v1/batches/{result.batch.lot_number}/"})


class BulkResultCreateView(ApiView):
    api_actions = {"POST": RECORD_RESULTS}

    @extend_schema(**docs.RESULT_BULK)
    def post(self, request):
        data = _body_object(request)
        items = data.get("results")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BULK:
            message = f'Send {{"results": [...]}} with 1 to {MAX_BULK} results.'
            raise Problem(422, "validation_error", message,
                          errors=[{"field": "results", "message": message}])
        check_test_code_scope(request, [(i, item.get("test_code")) for i, item in
                                        enumerate(items) if isinstance(item, dict)])
        return idempotent(request, lambda: self._create_all(request, items))

    def _create_all(self, request, items: list) -> Response:
        dicts = [item for item in items if isinstance(item, dict)]
        catalogue = Catalogue(lots=[i.get("lot_number") for i in dicts],
                              serials=[i.get("instrument") for i in dicts])
        context = {"catalogue": catalogue, "key": request_key(request)}
        errors: list[dict] = []
        # One serializer for every item: its fields are built once, not once per item.
        serializer = ResultInSerializer(context=context)
        validated = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                errors.append({"index": index, "field": "non_field_errors",
                               "message": "Each result must be a JSON object."})
                continue
            try:
                validated.append((index, serializer.run_validation(item)))
            except ValidationError as exc:
                errors += [{"index": index, **e} for e in field_errors(exc.detail)]
        if errors:
            raise validation_problem(errors)
        inputs = [ResultInput(
            batch=v["batch"], criterion=v["criterion"], measured_at=v["measured_at"],
            value=v.get("value"), unit=v["unit"], value_text=v["value_text"],
            method_times=v["method_times"], instrument=v["instrument_obj"], censor=v["censor"],
            counting_window=v["counting_window"]) for _, v in validated]
        actor, actor_name = _actor(request)
        try:
            results = result_record_many(actor=actor, actor_name=actor_name, items=inputs,
                                         channel=Channel.API)
        except ResultsRefused as exc:
            # The service numbers the items it was given; the request numbers every item.
            for position, error in exc.errors.items():
                index, v = validated[position]
                errors += [{"index": index, **e}
                           for e in _service_errors(error, v["method_times"])]
            refusals = [{"index": validated[position][0], "field": "non_field_errors",
                         "message": refusal.message, "code": refusal.code}
                        for position, refusal in exc.refusals.items()]
            problem = (validation_problem(errors + refusals) if errors
                       else rule_violation_problem(RuleViolation(refusals[0]["message"],
                                                                 code=refusals[0]["code"])))
            problem.errors = errors + refusals
            problem.detail = (f"Nothing was stored. {summary(problem.errors)}")
            raise problem from None
        created = [(index, result) for (index, _), result in zip(validated, results,
                                                                   strict=True)]
        body = {"count": len(created), "results": [
            {"index": index, "id": r.id, "lot_number": r.batch.lot_number,
             "test_code": r.criterion.test_code, "value": r.value, "unit": r.unit}
            for index, r in created]}
        return Response(body, status=201)


class BatchListView(ApiView, generics.ListAPIView):
    api_actions = {"GET": READ, "POST": REGISTER_BATCHES}
    parser_classes = [LenientJSONParser]
    serializer_class = BatchSummarySerializer

    def get_queryset(self):
        # A plain dict, so that an empty `?status=` is refused rather than ignored.
        query = BatchFilterSerializer(data=self.request.query_params.dict())
        if not query.is_valid():
            errors = field_errors(query.errors)
            raise Problem(400, "invalid_filter", f"Invalid filter: {summary(errors)}",
                          errors=errors)
        return scope_batches(self.request, query.apply(batch_list()))

    @extend_schema(**docs.BATCH_LIST)
    @planned_for_values()
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(**docs.BATCH_CREATE)
    def post(self, request):
        data = _body_object(request)
        return idempotent(request, lambda: self._create(request, data))

    def _create(self, request, data) -> Response:
        serializer = BatchInSerializer(data=data, context={"form": _is_form(request)})
        serializer.is_valid(raise_exception=True)
        v = serializer.validated_data
        actor, actor_name = _actor(request)
        try:
            batch = batch_register(
                actor=actor, actor_name=actor_name, lot_number=v["lot_number"],
                product=v["product"], eos=v["eos"], calibration_time=v["calibration_time"],
                activity_bq=v["activity_bq"], volume_ml=v["volume_ml"], elution=v["elution"],
                source_lot=v["source_lot"], channel=Channel.API,
                daughters_separated_at=v.get("daughters_separated_at"),
                daughters_not_separated=v.get("daughters_not_separated", False))
        except DjangoValidationError as exc:
            raise validation_problem(django_errors(exc, {"activity_bq": "activity"})) from None
        return Response(_detail(batch.lot_number), status=201,
                        headers={"Location": f"/api/v1/batches/{batch.lot_number}/"})


def _detail(lot_number: str) -> dict:
    try:
        batch = batch_detail(lot_number=lot_number)
    except Batch.DoesNotExist:
        raise Problem(404, "not_found", f"No batch with lot number {lot_number}.") from None
    statuses = criterion_statuses(batch=batch)
    for status in statuses:
        for result in status.history:
            result.batch = batch
    raw_ids = {r.raw_data_id for s in statuses for r in s.history if r.raw_data_id}
    raw_data = {raw.id: raw for raw in RawDataFile.objects.filter(id__in=raw_ids)} if raw_ids \
        else {}
    return batch_detail_data(batch, statuses, raw_data)


class BatchDetailView(ApiView):
    api_actions = {"GET": READ}
    api_read_scope = READ_BATCH_RECORDS

    @extend_schema(**docs.BATCH_DETAIL)
    def get(self, request, lot_number: str):
        if len(lot_number) > 40 or not lot_number.isprintable():
            raise Problem(404, "not_found", "No batch with that lot number.")
        return Response(_detail(lot_number))


class SchemaView(ApiView, SpectacularAPIView):
    renderer_classes = SpectacularAPIView.renderer_classes
    api_actions = {"GET": READ}


class DocsView(ApiView, SpectacularSwaggerView):
    renderer_classes = SpectacularSwaggerView.renderer_classes
    api_actions = {"GET": READ}
