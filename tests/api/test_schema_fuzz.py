"""Schemathesis against the project's own OpenAPI schema, in process (WSGI), authenticated
with a real instrument key: no server error, and every response (status code, content type,
headers, body) as the schema documents it. Each operation is fuzzed with schema-valid data,
with schema-violating data, and with valid data pointed at a real lot (so that successful
answers are checked too). Runs with the normal suite, capped at 30 examples per operation
and mode (FUZZ_EXAMPLES=1000 for a deep run)."""

import json
import math
import os
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from config.wsgi import application
from qc.api_keys import READ_BATCH_RECORDS, READ_CERTIFICATES, api_key_create
from qc.models import InstrumentKind
from tests.api.conftest import ALL_RESULT_CODES
from tests.batches.stability_helpers import approved_protocol
from tests.factories import make_ac225_batch, make_elution, make_instrument

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))


def _schema_dict() -> dict:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema))


# A schema cannot say that a lot exists or that a pH is at most 14: a schema-valid request
# refused by those rules gets 422, which the positive-data check must accept.
CONFIG = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}}})
SCHEMA = schemathesis.openapi.from_dict(_schema_dict(), config=CONFIG)
SCHEMA.app = application
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture
def fuzz(products, operator, admin_user, reviewer, qp, now, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    # A batch under the lot number of the schema's examples, so examples can succeed.
    make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                     eos=now - timedelta(minutes=50), lot_number="AC225-2611-003")
    # and a stability protocol whose T0 pull (+-45 min) the anchored results can reach
    approved_protocol(products["ac225-psma-it"], reviewer=reviewer, qp=qp)
    instrument = make_instrument(kind=InstrumentKind.HPLC, serial="FUZZ-0001")
    # Every read scope, so that every operation can answer 200.
    _, plaintext = api_key_create(actor=admin_user, instrument=instrument,
                                  test_codes=ALL_RESULT_CODES, can_register_batches=True,
                                  read_scopes=[READ_BATCH_RECORDS, READ_CERTIFICATES])
    # Requests run in this test's transaction; Django must not close its connection after
    # each one (its test client does the same).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    elution = make_elution("ra224_pb212", eluted_at=now - timedelta(minutes=50))
    yield {"headers": {"Authorization": f"Bearer {plaintext}"},
           "data": {"lot_number": "AC225-2611-003", "elution": elution.id, "n": 0}}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _anchor_result(item, lot_number: str):
    """Point a generated result at a real batch and test, keeping the rest as generated."""
    if not isinstance(item, dict):
        return item
    value = item.get("value")
    item.update(lot_number=lot_number, test_code="ph", unit="pH",
                measured_at=(timezone.now() - timedelta(minutes=1)).isoformat())
    item["value"] = abs(value) % 14 if isinstance(value, float | int) and math.isfinite(
        value) and not isinstance(value, bool) else 7.0
    item.pop("instrument", None)
    item.pop("method_times", None)
    return item


def anchored(case, data):
    """Generated requests almost never name a real lot, so without this the successful
    responses (201, 200 with results) would go unchecked."""
    lot = data["lot_number"]
    if "lot_number" in case.path_parameters:
        case.path_parameters["lot_number"] = lot
    if case.path == "/api/v1/results/":
        _anchor_result(case.body, lot)
    elif case.path == "/api/v1/results/bulk/" and isinstance(case.body, dict):
        case.body["results"] = [_anchor_result(i, lot) for i in case.body["results"]]
    elif case.path == "/api/v1/products/{code}/stability/":
        case.path_parameters["code"] = "ac225-psma-it"
    elif case.path == "/api/v1/stability/results/" and isinstance(case.body, dict):
        _anchor_result(case.body, lot)
        case.body.update(time_point_h=0, protocol_version=1)
    elif case.path == "/api/v1/decay/":
        case.query = {"nuclide": "Ac-225", "activity": "1 GBq", "at": ["30min", "6h"]}
    elif case.method == "POST" and case.path == "/api/v1/batches/":
        data["n"] += 1
        case.body.update(lot_number=f"PB-FUZZ-{data['n']}", product="pb212-dotamtate",
                         elution=data["elution"], source_lot=None, activity_unit="MBq",
                         eos=(timezone.now() - timedelta(minutes=5)).isoformat(),
                         calibration_time=(timezone.now() + timedelta(hours=1)).isoformat())
        for field in ("activity", "volume_ml"):
            case.body[field] = abs(case.body[field]) % 1000 + 1
    return case


@pytest.mark.parametrize("mode", ["positive", "negative", "anchored"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_the_api_conforms_to_its_schema_and_never_fails_with_a_server_error(operation, mode,
                                                                            fuzz):
    generation = GenerationMode.NEGATIVE if mode == "negative" else GenerationMode.POSITIVE
    strategy = operation.as_strategy(generation_mode=generation)
    if mode == "anchored":
        strategy = strategy.map(lambda case: anchored(case, fuzz["data"]))
    seen = set()

    @given(case=strategy)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call_and_validate(headers=fuzz["headers"])
        seen.add(response.status_code)

    run()
    # The fuzzed lot has no release, so its certificate endpoints can only answer 404; the
    # certificate downloads are tested in tests/batches/test_certificate_issue.py.
    if mode == "anchored" and "certificate" not in operation.path:
        assert seen & {200, 201}, f"no request succeeded: {sorted(seen)}"


def test_the_schema_covers_every_endpoint_of_the_api():
    labels = {op.label for op in OPERATIONS}
    assert {"POST /api/v1/results/", "POST /api/v1/results/bulk/", "GET /api/v1/batches/",
            "POST /api/v1/batches/", "GET /api/v1/batches/{lot_number}/"} <= labels

