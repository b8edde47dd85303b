"""User accounts and roles: who may do what is GMP-relevant, so every account change is a
service with an audit event in its transaction (21 CFR 11.10(d)(g), EU GMP Annex 11 cl. 12).
Accounts are deactivated, never deleted: the audit trail and signatures name them."""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction

from .audit import AuditEntry, audit_entry, audit_record_many
from .errors import RuleViolation
from .roles import Role, has_role
from .text import require_printable, text_errors

ACCOUNT_FIELDS = ("username", "first_name", "last_name", "email", "is_staff", "is_superuser")


def account_snapshot(user) -> dict[str, Any]:
    """What an account may do and who it is, as the audit trail records it (never the
    password hash)."""
    saved = user.pk is not None
    return {
        **{name: getattr(user, name) for name in ACCOUNT_FIELDS},
        "is_active": user.is_active,
        "roles": sorted(user.groups.values_list("name", flat=True)) if saved else [],
        "permissions": sorted(f"{p.content_type.app_label}.{p.codename}"
                              for p in user.user_permissions.select_related("content_type")
                              ) if saved else [],
    }


def require_account_admin(actor) -> None:
    # actor None is the command line: whoever runs manage.py already controls the server.
    if actor is None:
        return
    if not (has_role(actor, Role.ADMIN) or (actor.is_active and actor.is_superuser)):
        raise RuleViolation("Only an administrator manages user accounts and roles.",
                            code="forbidden")


def _entries(user, before: dict[str, Any] | None, after: dict[str, Any], reason: str,
             password_changed: bool) -> list[AuditEntry]:
    def entry(action: str, keys: Iterable[str] | None = None) -> AuditEntry:
        if keys is None:
            return audit_entry(action=action, obj=user, object_type="auth.user",
                               before=before, after=after, reason=reason)
        keys = list(keys)
        return audit_entry(action=action, obj=user, object_type="auth.user",
                           before={k: before[k] for k in keys},
                           after={k: after[k] for k in keys}, reason=reason)

    if before is None:
        return [entry("user.create")]
    entries = []
    if before["is_active"] != after["is_active"]:
        entries.append(entry("user.deactivate" if before["is_active"] else "user.reactivate",
                             ["is_active"]))
    if before["roles"] != after["roles"]:
        entries.append(entry("user.roles", ["roles"]))
    if before["permissions"] != after["permissions"]:
        entries.append(entry("user.permissions", ["permissions"]))
    changed = [k for k in ACCOUNT_FIELDS if before[k] != after[k]]
    if changed:
        entries.append(entry("user.change", changed))
    if password_changed:
        entries.append(audit_entry(action="user.password_set", obj=user,
                                   object_type="auth.user", after={"password_set": True},
                                   reason=reason))
    return entries


USER_TEXT_FIELDS = ("username", "first_name", "last_name", "email")


def user_save(*, actor, user, roles: Iterable[Group] | None = None,
              permissions: Iterable[Permission] | None = None, reason: str = "",
              actor_name: str = ""):
    """Create `user` (unsaved) or store the changes made to it, and set its roles
    (groups) and permissions when given, with one audit event per kind of change:
    user.create, user.deactivate / user.reactivate, user.roles, user.permissions,
    user.change (name, e-mail, staff and superuser flags) and user.password_set."""
    require_account_admin(actor)
    # The full name is the printed name of every signature the user applies (11.50).
    if errors := text_errors(lines={f: getattr(user, f, "") for f in USER_TEXT_FIELDS}):
        raise ValidationError(errors)
    require_printable(areas={"reason": reason})
    User = get_user_model()
    with transaction.atomic():
        stored = None
        if user.pk is not None:
            stored = User.objects.select_for_update().filter(pk=user.pk).first()
        before = account_snapshot(stored) if stored is not None else None
        password_changed = stored is not None and stored.password != user.password
        user.save()
        if roles is not None:
            user.groups.set(roles)
        if permissions is not None:
            user.user_permissions.set(permissions)
        user.__dict__.pop("_role_names", None)
        after = account_snapshot(user)
        entries = _entries(user, before, after, reason, password_changed)
        if entries:
            audit_record_many(actor=actor, actor_name=actor_name, entries=entries)
    return user


def user_create(*, actor, username: str, password: str | None, email: str = "",
                first_name: str = "", last_name: str = "", roles: Iterable[Role] = (),
                is_staff: bool = False, is_superuser: bool = False, reason: str = "",
                actor_name: str = ""):
    User = get_user_model()
    user = User(username=username, email=email, first_name=first_name, last_name=last_name,
                is_staff=is_staff, is_superuser=is_superuser)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    groups = [Group.objects.get_or_create(name=Role(role).value)[0] for role in roles]
    return user_save(actor=actor, user=user, roles=groups, reason=reason, actor_name=actor_name)


def user_deactivate(*, actor, user, reason: str, actor_name: str = ""):
    """Switch an account off (it can no longer log in or sign); it stays in the trail."""
    if not reason.strip():
        raise RuleViolation("Say why the account is deactivated.", code="reason_required")
    User = get_user_model()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.is_active:
            raise RuleViolation(f"{locked.get_username()} is already deactivated.",
                                code="invalid_state")
        locked.is_active = False
        return user_save(actor=actor, user=locked, reason=reason, actor_name=actor_name)


def user_set_roles(*, actor, user, roles: Iterable[Role], reason: str = "",
                   actor_name: str = ""):
    groups = [Group.objects.get_or_create(name=Role(role).value)[0] for role in roles]
    User = get_user_model()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        return user_save(actor=actor, user=locked, roles=groups, reason=reason,
                         actor_name=actor_name)


def user_password_recorded(*, actor, user, reason: str = "", actor_name: str = "") -> bool:
    """Record a password set for `user` by another screen (Django's admin password form)
    in the same transaction, if the stored hash changed; True when it did. The trail says
    that it changed, never what to."""
    require_account_admin(actor)
    User = get_user_model()
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("user_password_recorded must run inside the change's transaction")
    current = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
    if current is None or current == user.password:
        return False
    user.password = current
    audit_record_many(actor=actor, actor_name=actor_name, entries=[audit_entry(
        action="user.password_set", obj=user, object_type="auth.user",
        after={"password_set": True}, reason=reason)])
    return True
