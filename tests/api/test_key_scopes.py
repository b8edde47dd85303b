"""Instrument key read scopes: a key reads only the lots it reports on unless it was minted
with a scope; a certificate or a whole batch record needs `read_certificates` or
`read_batch_records`."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from qc.api_keys import READ_BATCH_RECORDS, READ_CERTIFICATES, api_key_create, api_key_verify
from qc.models import AuditEvent, InstrumentApiKey
from tests.api.conftest import problem
from tests.batches.test_certificate_issue import issue
from tests.factories import make_bi213_batch, record_release_required_results

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_with(products, admin_user, tlc, as_key):
    """An API client with a new key of the radio-TLC scanner and the given read scopes."""
    def make(*scopes, codes=("ph", "rcp")):
        _, plaintext = api_key_create(actor=admin_user, instrument=tlc, test_codes=list(codes),
                                      read_scopes=scopes)
        return as_key(plaintext)
    return make


@pytest.fixture
def released(signing_identity, ac225_batch, analyst, qp, now, committed):
    with committed():
        record_release_required_results(ac225_batch, analyst, now=now)
    ac225_batch.refresh_from_db()
    issue(ac225_batch, qp, committed)
    return ac225_batch


def certificate_url(batch):
    return f"/api/v1/batches/{batch.lot_number}/certificate/"


def detail_url(batch):
    return f"/api/v1/batches/{batch.lot_number}/"


def test_a_plain_key_may_not_read_a_certificate(client_with, released):
    response = client_with().get(certificate_url(released))
    assert response.status_code == 403
    body = problem(response)
    assert body["code"] == "out_of_scope"
    assert body["detail"].endswith("may not read release certificates; an administrator must "
                                   "issue a key with --scope read_certificates.")


def test_a_key_with_the_certificate_scope_reads_the_certificate(client_with, released):
    response = client_with(READ_CERTIFICATES).get(certificate_url(released))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    # The certificate scope does not open the batch record.
    assert client_with(READ_CERTIFICATES).get(detail_url(released)).status_code == 403


def test_a_plain_key_may_not_read_a_batch_record(client_with, ac225_batch):
    response = client_with().get(detail_url(ac225_batch))
    assert response.status_code == 403
    assert "--scope read_batch_records" in problem(response)["detail"]
    assert "results" not in response.json()


def test_a_key_with_the_batch_record_scope_reads_the_batch_record(client_with, ac225_batch):
    response = client_with(READ_BATCH_RECORDS).get(detail_url(ac225_batch))
    assert response.status_code == 200
    assert response.json()["lot_number"] == ac225_batch.lot_number
    assert "results" in response.json()


def test_a_plain_key_lists_only_the_lots_it_reports_on(client_with, ac225_batch, products,
                                                       operator, now):
    bi213 = make_bi213_batch(product=products["bi213-dotatoc"], operator=operator,
                             eos=now - timedelta(minutes=5))
    ac225_only = "ac227-share"  # a test of the 225Ac specification only
    lots = {b["lot_number"] for b in client_with(codes=[ac225_only]).get(
        "/api/v1/batches/").json()["results"]}
    assert lots == {ac225_batch.lot_number}
    everything = {b["lot_number"] for b in client_with(READ_BATCH_RECORDS, codes=[ac225_only])
                  .get("/api/v1/batches/").json()["results"]}
    assert everything == {ac225_batch.lot_number, bi213.lot_number}


def test_staff_read_certificates_and_batch_records_without_any_key_scope(as_user, reviewer,
                                                                         released):
    client = as_user(reviewer)
    assert client.get(detail_url(released)).status_code == 200
    assert client.get(certificate_url(released)).status_code == 200


def test_the_command_mints_a_key_with_a_scope_and_the_audit_trail_says_so(tlc, products):
    out = io.StringIO()
    call_command("instrument_key", tlc.serial, "--test-code", "ph", "--scope",
                 READ_CERTIFICATES, stdout=out)
    plaintext = out.getvalue().strip().splitlines()[-1]
    key = api_key_verify(plaintext).key
    assert key.read_scopes == [READ_CERTIFICATES]
    assert "may read release certificates" in out.getvalue()
    event = AuditEvent.objects.get(action="api_key.create")
    assert event.after["read_scopes"] == [READ_CERTIFICATES]


def test_the_command_refuses_an_unknown_scope(tlc, products):
    with pytest.raises(CommandError, match="invalid choice: 'read_everything'"):
        call_command("instrument_key", tlc.serial, "--test-code", "ph", "--scope",
                     "read_everything")
    assert not InstrumentApiKey.objects.exists()
