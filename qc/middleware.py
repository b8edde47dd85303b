import json
import sys
import time

from django.conf import settings
from django.contrib.auth import logout
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.views import defaults

# How long a client waits before retrying when the database is unreachable (a restart or a
# failover takes seconds).
DATABASE_RETRY_AFTER_S = 5

IDLE_LOGOUT_SESSION_KEY = "logged_out_idle"


class IdleTimeoutMiddleware:
    """Log a user out after SESSION_IDLE_TIMEOUT_S without a request (Annex 11 cl. 12).

    The login page can tell why: the new, anonymous session carries IDLE_LOGOUT_SESSION_KEY
    and the request carries `idle_logged_out`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last = request.session.get("last_activity", now)
            if now - last > settings.SESSION_IDLE_TIMEOUT_S:
                # Set before logout() so that the logout audit event names the cause.
                request.idle_logged_out = True
                logout(request)
                request.session[IDLE_LOGOUT_SESSION_KEY] = True
            elif not request.headers.get("X-Background-Poll"):
                # A page polling for itself (live activity, certificate progress) is not the
                # user being active; without this an open dashboard would never time out.
                request.session["last_activity"] = now
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A lost or refused database connection answers 503 with Retry-After (problem+json
    under /api/, a short page elsewhere) instead of a 500: the transaction rolled back, so
    nothing was stored and the same request can be sent again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not database_unavailable(exception):
            return None
        return database_unavailable_response(request)


def database_unavailable(exception: BaseException | None) -> bool:
    """True when `exception`, or one it was raised from or while handling, is a lost or
    refused database connection (a session or user lookup in a middleware, a template that
    evaluates a query, a library that re-raises its own error)."""
    seen: set[int] = set()
    while exception is not None and id(exception) not in seen:
        if isinstance(exception, OperationalError | InterfaceError):
            return True
        seen.add(id(exception))
        exception = exception.__cause__ or exception.__context__
    return False


def database_unavailable_response(request) -> HttpResponse:
    detail = ("The database is unavailable just now and nothing was stored; try again in "
              f"{DATABASE_RETRY_AFTER_S} seconds.")
    if request.path.startswith("/api/"):
        detail += " Send the same request with the same Idempotency-Key."
        body = json.dumps({"type": "urn:alpharelease:problem:database-unavailable",
                           "title": "Service unavailable", "status": 503,
                           "detail": detail, "code": "database_unavailable"})
        response = HttpResponse(body, status=503, content_type="application/problem+json")
    else:
        response = HttpResponse(f"<!doctype html><title>Service unavailable</title>"
                                f"<h1>Service unavailable</h1><p>{detail}</p>", status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
    return response


def server_error(request):
    """handler500. An exception raised outside a view (the session and user lookups in the
    middleware run before any view, so process_exception never sees them) reaches here; a
    lost database is still a 503 with Retry-After, not a 500. Touches no database."""
    if database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response(request)
    return defaults.server_error(request)
