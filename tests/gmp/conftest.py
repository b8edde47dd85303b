"""GMP tests: personas beyond the shared ones, a movable clock, and certificate requests
captured instead of rendered (the certificate tests live in tests/batches)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from qc.roles import Role
from tests.conftest import _persona


@pytest.fixture(autouse=True)
def certificate_requests(monkeypatch):
    """Release signatures ask for a certificate on commit; record the requests."""
    import batches.certificates.services

    calls = []
    monkeypatch.setattr(batches.certificates.services, "certificate_request_issue",
                        lambda **kw: calls.append(kw))
    return calls


class Clock:
    """Moves the application's clock forward (sterility takes 14 days, a Ra-224 recount
    72 h), the way time passes at a site; measurements stay in the past of `now`."""

    def __init__(self, monkeypatch):
        self.offset = timedelta(0)
        real_now = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real_now() + self.offset)

    def advance(self, **delta) -> None:
        self.offset += timedelta(**delta)

    def now(self):
        return timezone.now()


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def other_reviewer(db):
    return _persona("rita", "Rita Second-Reviewer", Role.REVIEWER)


@pytest.fixture
def other_qp(db):
    return _persona("paula", "Paula Second-QP", Role.QP)


def add_role(user, role: Role):
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    user.__dict__.pop("_role_names", None)
    return user
