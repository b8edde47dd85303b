import time

from django.conf import settings
from django.contrib.auth import logout

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
