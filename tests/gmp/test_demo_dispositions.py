"""The demo site's dispositions are made through the services, so its trail and signatures
are those of a real site."""

import pytest
from django.core.management import call_command

from batches import demo, disposition
from batches.models import Batch, BatchStatus
from qc.models import Signature

pytestmark = pytest.mark.django_db


def test_the_demo_has_signed_dispositions_of_each_family(capsys, certificate_requests,
                                                         committed):
    with committed():
        seeded = demo.seed()
        made = demo.seed_dispositions(seeded["users"])
    statuses = {b.lot_number: (b.product.family, b.status) for b in Batch.objects.all()}
    assert statuses["AC225-2611-001"] == ("central_ac225", BatchStatus.CONDITIONALLY_RELEASED)
    assert statuses["PB212-2611-003"] == ("generator_pb212",
                                          BatchStatus.CONDITIONALLY_RELEASED)
    assert statuses["BI213-2611-013"] == ("generator_bi213", BatchStatus.REVIEWED)
    assert {b.lot_number for b in made["conditionally_released"]} == {"AC225-2611-001",
                                                                      "PB212-2611-003"}
    for signature in Signature.objects.filter(object_type="batches.batch"):
        assert disposition.signature_integrity(signature)
    assert {(s.printed_name, s.meaning) for s in Signature.objects.filter(
        object_type="batches.batch")} == {("Rui Reviewer", "reviewed"),
                                          ("Quinn Person", "conditionally_released")}
    assert len(certificate_requests) == 2
    # The QP's decision on the 213Bi batch is open; the conditional release is offered.
    bi = Batch.objects.get(lot_number="BI213-2611-013")
    assert disposition.available_actions(user=seeded["users"]["qp"], batch=bi) == [
        "release_conditionally", "reject"]
    call_command("verify_audit")
    assert "Audit trail intact" in capsys.readouterr().out
    assert demo.seed_dispositions(seeded["users"]) == {}  # idempotent
