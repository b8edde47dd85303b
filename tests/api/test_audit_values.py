"""Values an instrument posts end up in the audit trail in a form every database reads back
as it was hashed: the chain stays intact whatever number or text is posted."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from qc.models import AuditEvent

pytestmark = pytest.mark.django_db
URL = "/api/v1/results/"
SIXTY_THREE_DIGITS = 123456789012345678901234567890123456789012345678901234567890123


@pytest.mark.parametrize("test_code, value, unit", [
    ("activity", SIXTY_THREE_DIGITS, "GBq"),
    ("activity", 1e308, "GBq"),
    ("activity", 5e-324, "GBq"),
    ("activity", -0.0, "MBq"),
    ("ph", SIXTY_THREE_DIGITS, "pH"),
    ("ph", 7.000000000000001, "pH"),
])
def test_an_extreme_value_posted_leaves_the_audit_trail_intact(api, ac225_batch, now, capsys,
                                                               test_code, value, unit):
    response = api.post(URL, {"lot_number": ac225_batch.lot_number, "test_code": test_code,
                              "value": value, "unit": unit,
                              "measured_at": (now - timedelta(minutes=2)).isoformat()})
    assert response.status_code in (201, 422), response.content[:500]
    assert AuditEvent.objects.exists()
    call_command("verify_audit")
    assert "Audit trail intact" in capsys.readouterr().out


def test_a_nul_in_a_posted_reason_or_text_is_answered_as_bad_input(api, ac225_batch, now):
    response = api.post(URL, {"lot_number": ac225_batch.lot_number, "test_code": "appearance",
                              "value_text": "clear\x00colourless",
                              "measured_at": (now - timedelta(minutes=2)).isoformat()})
    assert 400 <= response.status_code < 500, response.content[:500]
    call_command("verify_audit")
