"""Roles are Django groups; services check them (not only views)."""

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "Production operator"
    ANALYST = "QC analyst"
    REVIEWER = "QA reviewer"
    QP = "Qualified Person"
    ADMIN = "Administrator"


def has_role(user, role: Role) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    cache = getattr(user, "_role_names", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._role_names = cache
    return role.value in cache


def role_names(user) -> list[str]:
    return [role.value for role in Role if has_role(user, role)]
