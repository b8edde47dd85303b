"""A request id for every request, carried into the Celery tasks it enqueues, so one line of
a log search finds the web request and the evaluation or certificate work it caused."""

import logging
import re
import time
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
HEADER = "X-Request-ID"
# What a proxy or client may send: anything longer or stranger is replaced, not logged.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Probes and scrapes every few seconds would drown the request log.
_QUIET_PATHS = ("/healthz", "/readyz", "/metrics")

log = logging.getLogger("alpharelease.request")


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Takes X-Request-ID from the proxy (nginx: `proxy_set_header X-Request-ID
    $request_id`) or makes one, echoes it in the response and logs the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.headers.get(HEADER, "")
        request_id = offered if _ACCEPTABLE.match(offered) else new_request_id()
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            if request.path not in _QUIET_PATHS:
                user = getattr(request, "user", None)
                log.info("%s %s %s", request.method, request.path, response.status_code,
                         extra={"method": request.method, "path": request.path,
                                "status": response.status_code,
                                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                                "user_id": user.pk if user is not None
                                and user.is_authenticated else None})
            return response
        finally:
            request_id_var.reset(token)


# ---------------------------------------------------------------- Celery


def stamp_published_task(headers=None, **kwargs) -> None:
    """before_task_publish: the message carries the id of the request that sent it."""
    request_id = request_id_var.get()
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id


_task_tokens: dict[str, object] = {}


def enter_task(task_id=None, task=None, **kwargs) -> None:
    """task_prerun: the task's log lines carry the request id it was sent with (or its own
    task id, for periodic work that no request started)."""
    request_id = getattr(task.request, "request_id", None) if task is not None else None
    if task_id:
        _task_tokens[task_id] = request_id_var.set(request_id or f"task-{task_id}")


def leave_task(task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is not None:
        request_id_var.reset(token)
