"""RFC 9457 problem details: every refusal says what is wrong, field by field."""

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
from django.views.defaults import page_not_found
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from qc.errors import RuleViolation

PROBLEM_CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Refused by a GMP rule",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid data",
    429: "Too many requests",
}


def problem_type(code: str) -> str:
    return f"urn:alpharelease:problem:{code.replace('_', '-')}"


class Problem(exceptions.APIException):
    """A refusal with its own status, code and field errors."""

    def __init__(self, status_code: int, code: str, detail: str,
                 errors: list[dict[str, Any]] | None = None, title: str = ""):
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.problem_code = code
        self.title = title or TITLES.get(status_code, "Error")
        self.errors = errors or []


def problem_body(status_code: int, code: str, detail: str, errors=None, title: str = ""
                 ) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title or TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    return body


def field_errors(detail: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Flatten DRF's nested error structure into [{field, message}] with dotted paths."""
    out: list[dict[str, Any]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "non_field_errors" if key in ("non_field_errors", "__all__") else str(key)
            out += field_errors(value, f"{prefix}.{name}" if prefix else name)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out += [{"field": prefix or "non_field_errors", "message": str(item)}
                    for item in detail]
        else:
            for index, item in enumerate(detail):
                out += field_errors(item, f"{prefix}.{index}" if prefix else str(index))
    else:
        out.append({"field": prefix or "non_field_errors", "message": str(detail)})
    return out


def django_errors(exc: DjangoValidationError, rename: dict[str, str] | None = None
                  ) -> list[dict[str, Any]]:
    rename = rename or {}
    if hasattr(exc, "error_dict"):
        return [{"field": rename.get(field, "non_field_errors" if field == "__all__" else field),
                 "message": message}
                for field, messages in exc.message_dict.items() for message in messages]
    return [{"field": "non_field_errors", "message": message} for message in exc.messages]


def summary(errors: list[dict[str, Any]]) -> str:
    first = errors[0]
    where = f"item {first['index']}, " if "index" in first else ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}{first['field']}: {first['message']}{more}"


def rule_violation_problem(exc: RuleViolation) -> Problem:
    status_code = 403 if exc.code == "forbidden" else 409
    return Problem(status_code, exc.code, exc.message)


def validation_problem(errors: list[dict[str, Any]]) -> Problem:
    return Problem(422, "validation_error", f"The data is invalid: {summary(errors)}",
                   errors=errors)


def _as_problem(exc: Exception) -> Problem | None:
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, RuleViolation):
        return rule_violation_problem(exc)
    if isinstance(exc, DjangoValidationError):
        return validation_problem(django_errors(exc))
    if isinstance(exc, exceptions.ValidationError):
        return validation_problem(field_errors(exc.detail))
    if isinstance(exc, Http404):
        return Problem(404, "not_found", str(exc) or "Not found.")
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return Problem(401, "not_authenticated", str(exc.detail) + " Send an instrument API key "
                       "as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>', or log in.")
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        return Problem(exc.status_code, str(code), str(exc.detail))
    # A lost database connection is left to qc.middleware.DatabaseUnavailableMiddleware,
    # which answers it for the API and the pages alike (503 with Retry-After).
    return None


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    problem = _as_problem(exc)
    if problem is None:
        return None
    body = problem_body(problem.status_code, problem.problem_code, str(problem.detail),
                        problem.errors, problem.title)
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    set_rollback()
    request = context.get("request")
    renderer = getattr(request, "accepted_renderer", None)
    # The browsable API renders problems as HTML; machines get problem+json.
    content_type = None if getattr(renderer, "format", "json") == "api" else PROBLEM_CONTENT_TYPE
    return Response(body, status=problem.status_code, headers=headers,
                    content_type=content_type)


def not_found(request, exception):
    """handler404: a URL under /api/ that matches nothing answers problem+json like every
    other API refusal; pages get the site's 404 page."""
    if request.path.startswith("/api/"):
        body = problem_body(404, "not_found", f"No API endpoint or object at {request.path!r}; "
                            "the endpoints are listed at /api/v1/schema/.")
        return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)
    return page_not_found(request, exception)


def bad_request(request, exception):
    """handler400: what Django refuses before any view (a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE, too many form fields) answers problem+json under /api/, a
    body too large as 413 with the limit; pages get the site's 400 page."""
    if not request.path.startswith("/api/"):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = problem_body(413, "payload_too_large", f"The request body is larger than "
                            f"{limit} bytes, the most a JSON body may be; send raw data as a "
                            "multipart file, or fewer results per request.")
        return JsonResponse(body, status=413, content_type=PROBLEM_CONTENT_TYPE)
    body = problem_body(400, "bad_request", str(exception) or "The request cannot be read.")
    return JsonResponse(body, status=400, content_type=PROBLEM_CONTENT_TYPE)
