"""Web tests: a logged-in Django test client per persona, and batches brought to the state a
page needs through the services (never by writing rows directly)."""

import pytest
from django.test import Client

from batches.disposition import services as disposition
from tests.conftest import PASSWORD
from tests.gmp.conftest import Clock
from tests.gmp.flows import release_required_results, settle


@pytest.fixture
def clock(monkeypatch):
    """The application's clock, moved forward by the test (e.g. past an incubation)."""
    return Clock(monkeypatch)


@pytest.fixture
def client_for(db):
    """client_for(user) -> a Client logged in as `user` (through the login page, so the
    session is real and the login audited)."""

    def make(user) -> Client:
        client = Client()
        response = client.post("/login/", {"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.content[:500]
        return client

    return make


@pytest.fixture
def settled_ac225(ac225_batch):
    """The 225Ac batch with its expiry, decay table and Ac-227 share evaluated."""
    return settle(ac225_batch)


@pytest.fixture
def tested_pb212(pb212_batch, analyst, committed):
    """A 212Pb batch with every release-required result passing (sterility and the Ra-224
    recount still to come)."""
    with committed():
        release_required_results(analyst, pb212_batch)
    pb212_batch.refresh_from_db()
    return pb212_batch


@pytest.fixture
def reviewed_pb212(tested_pb212, reviewer, committed):
    with committed():
        disposition.batch_review(actor=reviewer, password=PASSWORD, batch=tested_pb212)
    tested_pb212.refresh_from_db()
    return tested_pb212
