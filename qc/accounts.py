"""Accounts made outside the web pages (the first administrator of a new site)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from .audit import audit_record
from .roles import Role


def administrator_create(*, username: str, email: str, full_name: str, password: str,
                         created_by: str):
    """A superuser with the Administrator role; the creation is an audit event naming who ran
    the command (an operating-system account, as there is no user yet)."""
    User = get_user_model()
    first, _, last = full_name.strip().partition(" ")
    user = User(username=username, email=email, first_name=first, last_name=last,
                is_staff=True, is_superuser=True)
    validate_password(password, user)  # the site's rules, as for any other account
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise ValueError(f"a user named {username!r} already exists")
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get_or_create(name=Role.ADMIN.value)[0])
        audit_record(actor=None, actor_name=created_by, action="user.create_administrator",
                     obj=user, after={"username": username, "email": email,
                                      "full_name": full_name, "roles": [Role.ADMIN.value]})
    return user
