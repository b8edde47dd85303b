"""OpenAPI descriptions of the endpoints: what each accepts, returns and refuses."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from .idempotency import KEY_PATTERN
from .problems import PROBLEM_CONTENT_TYPE
from .serializers import (
    BatchDetailSerializer,
    BatchFilterSerializer,
    BatchInSerializer,
    BatchSummarySerializer,
    BulkOutSerializer,
    BulkResultsInSerializer,
    ProblemSerializer,
    ResultInSerializer,
    ResultOutSerializer,
    ResultUploadSerializer,
)

WHY = {
    400: "Malformed request: unparsable body, missing or invalid Idempotency-Key, bad filter.",
    401: "No credentials, or an unknown or revoked API key.",
    403: "Authenticated but not allowed: a test code or action outside the key's scope, or a "
         "staff role without this right.",
    404: "No such batch (or page).",
    409: "Refused by a GMP rule: instrument out of service or past calibration "
         "(instrument_unusable), or batch released, rejected or expired (batch_closed).",
    413: "Body larger than the raw data size limit.",
    415: "Unsupported content type.",
    422: "Invalid data, field by field; or an Idempotency-Key reused for a different request "
         "(idempotency_key_reused). Nothing was stored.",
}


def problems(*codes: int) -> dict:
    return {(code, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, description=WHY[code])
            for code in codes}


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "pattern": KEY_PATTERN}, OpenApiParameter.HEADER,
    required=True,
    description="Unique per submission (1-200 visible ASCII characters), e.g. a UUID or a "
                "hash of the row. A retry with the same key and body returns the first response "
                "and stores nothing new; the same key with another body is refused (422). "
                "Keys are kept at least 24 h. Staff using the browsable API may omit it.")

_EXAMPLE_RESULT = {
    "lot_number": "AC225-2611-003", "test_code": "rcp", "value": 96.1, "unit": "%",
    "measured_at": "2026-11-22T10:12:00+01:00",
    "method_times": {"developed_at": "2026-11-22T09:38:00+01:00"},
}

RESULT_CREATE = {
    "operation_id": "results_create",
    "summary": "Record one result",
    "description": "Records one result (JSON, or multipart with a raw data file). The result "
                   "and its audit event are one transaction; evaluation is queued on commit, "
                   "so the response says `evaluating`.",
    "request": {"application/json": ResultInSerializer,
                "multipart/form-data": ResultUploadSerializer},
    "parameters": [IDEMPOTENCY_KEY],
    "responses": {201: ResultOutSerializer, **problems(400, 401, 403, 409, 413, 415, 422)},
    "examples": [OpenApiExample("radio-TLC result", value=_EXAMPLE_RESULT, request_only=True)],
}

RESULT_BULK = {
    "operation_id": "results_bulk_create",
    "summary": "Record up to 500 results, all or nothing",
    "description": "Every item is validated; if any fails, each failing item is reported by "
                   "index and field and nothing is stored.",
    "request": BulkResultsInSerializer,
    "parameters": [IDEMPOTENCY_KEY],
    "responses": {201: BulkOutSerializer, **problems(400, 401, 403, 409, 415, 422)},
    "examples": [OpenApiExample("two results", request_only=True, value={"results": [
        _EXAMPLE_RESULT,
        {"lot_number": "AC225-2611-003", "test_code": "ph", "value": 7.1, "unit": "pH",
         "measured_at": "2026-11-22T09:59:00+01:00"}]})],
}

BATCH_LIST = {
    "operation_id": "batches_list",
    "summary": "List batches",
    "description": "Newest EOS first, 50 a page; filter by status, QC status, product and EOS.",
    "parameters": [BatchFilterSerializer],
    "responses": {200: BatchSummarySerializer(many=True), **problems(400, 401, 403, 404)},
}

BATCH_CREATE = {
    "operation_id": "batches_create",
    "summary": "Register a batch (synthesis module)",
    "description": "Same rules as the web form. Needs a key with batch registration in its "
                   "scope, or the production operator role.",
    "request": BatchInSerializer,
    "parameters": [IDEMPOTENCY_KEY],
    "responses": {201: BatchDetailSerializer, **problems(400, 401, 403, 415, 422)},
}

BATCH_DETAIL = {
    "operation_id": "batches_retrieve",
    "summary": "One batch: identity, times, status, every result with its evaluation",
    "responses": {200: BatchDetailSerializer, **problems(401, 403, 404)},
}
