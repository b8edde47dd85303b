"""Lot numbers over the API: the same alphabet as the form; a lot with "/" round-trips
through the batch and certificate URLs."""

from datetime import timedelta

import pytest
from django.urls import resolve, reverse

from batches.models import Batch
from tests.api.conftest import problem
from tests.factories import make_elution

pytestmark = pytest.mark.django_db


@pytest.fixture
def module_client(make_key, synthesis_module, as_key):
    _, plaintext = make_key(synthesis_module, codes=[], can_register_batches=True)
    return as_key(plaintext)


def body(now, elution, lot):
    return {"lot_number": lot, "product": "pb212-dotamtate",
            "eos": (now - timedelta(minutes=5)).isoformat(),
            "calibration_time": (now + timedelta(hours=1)).isoformat(),
            "activity": 300, "activity_unit": "MBq", "volume_ml": 5.0, "elution": elution.id}


def test_the_api_registers_a_lot_with_slashes_and_reads_it_back(module_client, now):
    elution = make_elution("ra224_pb212", eluted_at=now - timedelta(minutes=50))
    response = module_client.post("/api/v1/batches/", body(now, elution, "PB212/2612/102"))
    assert response.status_code == 201, response.content
    assert Batch.objects.filter(lot_number="PB212/2612/102").exists()
    detail = module_client.get("/api/v1/batches/PB212/2612/102/")
    assert detail.status_code in (200, 403)  # the key may not read; the route must resolve
    assert resolve("/api/v1/batches/PB212/2612/102/").kwargs["lot_number"] == "PB212/2612/102"
    assert reverse("api-certificate", args=["PB212/2612/102"]) == \
        "/api/v1/batches/PB212/2612/102/certificate/"
    assert resolve("/api/v1/batches/PB212/2612/102/certificate/").url_name == "api-certificate"
    assert resolve("/batches/PB212/2612/102/certificates/2.pdf").kwargs == {
        "lot_number": "PB212/2612/102", "version": 2}


@pytest.mark.parametrize("lot", ["<script>alert(1)</script>", "PB 212", "PB212/", "a\tb"])
def test_the_api_refuses_a_lot_outside_the_alphabet_with_the_format(module_client, now, lot):
    elution = make_elution("ra224_pb212", eluted_at=now - timedelta(minutes=50))
    response = module_client.post("/api/v1/batches/", body(now, elution, lot))
    assert response.status_code in (400, 422), response.content
    assert "BI213/2612/102" in str(problem(response))
    assert not Batch.objects.exists()
