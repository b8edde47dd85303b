import time

from django.conf import settings
from django.contrib.auth import logout


class IdleTimeoutMiddleware:
    """Log a user out after SESSION_IDLE_TIMEOUT_S without a request (Annex 11 cl. 12)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last = request.session.get("last_activity", now)
            if now - last > settings.SESSION_IDLE_TIMEOUT_S:
                logout(request)
                request.idle_logged_out = True
            else:
                request.session["last_activity"] = now
        return self.get_response(request)
