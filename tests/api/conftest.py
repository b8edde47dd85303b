"""Instruments with keys, and API clients that authenticate as them or as staff."""

import json
import uuid

import pytest
from rest_framework.test import APIClient

from qc.api_keys import api_key_create
from qc.models import InstrumentKind
from tests.factories import make_instrument

ALL_RESULT_CODES = ["rcp", "ph", "endotoxin", "activity", "identity", "appearance",
                    "filter-integrity", "vector-integrity", "sterility", "activity-conc",
                    "ra224-breakthrough"]


class Api:
    """A client that sends JSON with a fresh Idempotency-Key unless told otherwise."""

    def __init__(self, client: APIClient):
        self.client = client

    def post(self, path, data=None, *, key: str | None = "fresh", fmt="json", **extra):
        if key == "fresh":
            key = str(uuid.uuid4())
        if key is not None:
            extra["HTTP_IDEMPOTENCY_KEY"] = key
        if fmt == "raw":
            return self.client.post(path, data, content_type="application/json", **extra)
        return self.client.post(path, data, format=fmt, **extra)

    def get(self, path, params=None, **extra):
        return self.client.get(path, params or {}, **extra)


def problem(response) -> dict:
    assert response["Content-Type"] == "application/problem+json", response.content[:300]
    body = json.loads(response.content)
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == response.status_code
    return body


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in problem(response)["errors"]}


@pytest.fixture
def tlc(db):
    return make_instrument(kind=InstrumentKind.RADIO_TLC, serial="TLC-0001",
                           name="miniGITA radio-TLC")


@pytest.fixture
def synthesis_module(db):
    return make_instrument(kind=InstrumentKind.SYNTHESIS_MODULE, serial="SYN-0001",
                           name="Modular-Lab synthesis module")


@pytest.fixture
def make_key(products, admin_user):
    def make(instrument, codes=ALL_RESULT_CODES, can_register_batches=False):
        return api_key_create(actor=admin_user, instrument=instrument, test_codes=codes,
                              can_register_batches=can_register_batches)
    return make


def _client(**credentials) -> Api:
    client = APIClient()
    client.credentials(**credentials)
    return Api(client)


@pytest.fixture
def tlc_key(make_key, tlc):
    return make_key(tlc)


@pytest.fixture
def api(tlc_key) -> Api:
    """The radio-TLC scanner, allowed every result test code."""
    return _client(HTTP_AUTHORIZATION=f"Bearer {tlc_key[1]}")


@pytest.fixture
def anonymous() -> Api:
    return Api(APIClient())


@pytest.fixture
def as_key():
    return lambda plaintext: _client(HTTP_X_API_KEY=plaintext)


@pytest.fixture
def as_user():
    def login(user) -> Api:
        client = APIClient()
        client.force_login(user)
        return Api(client)
    return login
