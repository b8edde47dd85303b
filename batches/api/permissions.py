"""Who may call what. A key acts within its scope; staff act with their role's rights."""

from rest_framework.permissions import BasePermission

from qc.api_keys import READ_BATCH_RECORDS as READ_BATCH_RECORDS
from qc.api_keys import READ_CERTIFICATES as READ_CERTIFICATES
from qc.api_keys import READ_SCOPES
from qc.models import Criterion, Specification
from qc.roles import Role, has_role, role_names

from .authentication import request_key
from .problems import Problem
from .serializers import lookup_keys

READ = "read"
RECORD_RESULTS = "record_results"
REGISTER_BATCHES = "register_batches"

STAFF_ROLE_FOR = {
    RECORD_RESULTS: (Role.ANALYST, "Recording results needs the QC analyst role."),
    REGISTER_BATCHES: (Role.OPERATOR, "Registering a batch needs the production operator role."),
}


class ApiAccess(BasePermission):
    """The view names the action per method in `api_actions`, and a read that needs a key
    scope in `api_read_scope` (READ_CERTIFICATES, READ_BATCH_RECORDS)."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        action = view.api_actions.get(request.method, READ)
        key = request_key(request)
        if key is not None:
            if action == REGISTER_BATCHES and not key.can_register_batches:
                raise Problem(403, "out_of_scope", f"Key {key.prefix} may not register batches; "
                              "an administrator must issue a key with --can-register-batches.")
            if action == RECORD_RESULTS and not key.test_codes:
                raise Problem(403, "out_of_scope",
                              f"Key {key.prefix} may not report any test codes.")
            scope = getattr(view, "api_read_scope", None)
            if action == READ and scope and scope not in (key.read_scopes or ()):
                raise Problem(403, "out_of_scope", (
                    f"Key {key.prefix} may not read {READ_SCOPES[scope]}; an administrator "
                    f"must issue a key with --scope {scope}."))
            return True
        if action == READ:
            if not role_names(request.user):
                raise Problem(403, "forbidden", "Your account has no role in this system; ask "
                              "an administrator for one.")
            return True
        role, message = STAFF_ROLE_FOR[action]
        if not has_role(request.user, role):
            raise Problem(403, "forbidden", message)
        return True


def check_test_code_scope(request, test_codes: list[tuple[int | None, object]]) -> None:
    """Refuse (403) results for test codes outside the key's scope, naming each one."""
    key = request_key(request)
    if key is None:
        return
    allowed = set(key.test_codes)
    outside = lookup_keys((code for _, code in test_codes), 40) - allowed
    # A code no specification knows is a typo, answered by validation (422) with the list of
    # the batch's tests; only a real test outside the key's scope is a 403.
    known = set(Criterion.objects.filter(test_code__in=outside).values_list(
        "test_code", flat=True).distinct()) if outside else set()
    errors = []
    for index, code in test_codes:
        if isinstance(code, str) and code in known:
            error = {"field": "test_code",
                     "message": f"Key {key.prefix} may not report test {code}; it may report: "
                                f"{', '.join(sorted(allowed))}."}
            if index is not None:
                error = {"index": index, **error}
            errors.append(error)
    if errors:
        raise Problem(403, "out_of_scope", errors[0]["message"] + (
            f" ({len(errors)} items out of scope)" if len(errors) > 1 else ""), errors=errors)


def scope_batches(request, queryset):
    """The lots a caller may list: for a key with neither the batch-record scope nor batch
    registration, only lots whose specification has a test the key reports."""
    key = request_key(request)
    if key is None or key.can_register_batches or READ_BATCH_RECORDS in (key.read_scopes or ()):
        return queryset
    reported = Specification.objects.filter(criteria__test_code__in=key.test_codes or [])
    return queryset.filter(specification__in=reported.values("pk"))
