"""What every lab view needs: who may open it, and how a service's refusal reaches the page."""

from collections.abc import Callable, Iterable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from qc.roles import Role, has_role

STAFF = (Role.OPERATOR, Role.ANALYST, Role.REVIEWER, Role.QP, Role.ADMIN)
QA = (Role.REVIEWER, Role.QP)

# Background polls (live activity, certificate progress) carry this header so that the idle
# logout still happens while a page sits open (EU GMP Annex 11 cl. 12).
POLL_HEADERS = '{"X-Background-Poll": "1"}'


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _to_login(request: HttpRequest) -> HttpResponse:
    if is_htmx(request):
        # a partial must not swap the login page into the middle of a page: reload it instead
        page = request.headers.get("HX-Current-URL") or request.get_full_path()
        response = HttpResponse(status=204)
        response["HX-Redirect"] = f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': page})}"
        return response
    return redirect_to_login(request.get_full_path())


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "403.html", {"message": message}, status=403)


def role_required(*roles: Role, what: str = "open this page") -> Callable:
    """Anonymous users go to the login page; a user without one of `roles` gets 403 with
    the roles that may."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return _to_login(request)
            if not any(has_role(request.user, role) for role in roles):
                allowed = " or ".join(role.value for role in roles)
                return forbidden(request, f"Only a {allowed} may {what}.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


staff_required = role_required(*STAFF)

# Who may do what beyond reading, in one place: the views' decorators and the navigation use it.
AREAS: dict[str, tuple[Role, ...]] = {
    "register": (Role.OPERATOR,),
    "record": (Role.ANALYST,),
    "review": (Role.REVIEWER,),
    "dispose": (Role.QP,),
    "invalidate": (Role.REVIEWER,),
    "qa_correct": (Role.REVIEWER,),
    "specifications": QA,
    "audit": QA,
    "api_keys": (Role.ADMIN,),
}


def may(user, area: str) -> bool:
    return user_has_any(user, AREAS[area])


def user_has_any(user, roles: Iterable[Role]) -> bool:
    return any(has_role(user, role) for role in roles)


def add_service_errors(form, error: ValidationError, field_map: dict[str, str] | None = None
                       ) -> None:
    """Put a service's ValidationError({field: [messages]}) next to the form's fields; what
    matches no field shows above the form. The typed input stays in the bound form."""
    field_map = field_map or {}
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for field, messages in error.message_dict.items():
        target = field_map.get(field, field)
        if target not in form.fields:
            target = None
        for message in messages:
            form.add_error(target, message)
