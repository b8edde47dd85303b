from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from batches.api.demo_keys import demo_instrument_keys
from qc.api_keys import (
    VERIFIED_KEY_TTL_S,
    api_key_create,
    api_key_revoke,
    api_key_verify,
    hash_key,
)
from qc.errors import RuleViolation
from qc.models import AuditEvent, Instrument, InstrumentApiKey
from tests.orm import assert_loaded_alike

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_only_as_its_hash_and_its_creation_is_audited(make_key, tlc, admin_user):
    key, plaintext = make_key(tlc, codes=["rcp"])
    assert plaintext.startswith(key.prefix + "_")
    assert len(plaintext) > 40
    stored = InstrumentApiKey.objects.get(pk=key.pk)
    assert stored.key_hash == hash_key(plaintext) != plaintext
    assert plaintext not in str(InstrumentApiKey.objects.values().get(pk=key.pk))
    event = AuditEvent.objects.get(action="api_key.create")
    assert event.actor == admin_user
    assert event.after == {"prefix": key.prefix, "instrument": "TLC-0001", "test_codes": ["rcp"],
                           "can_register_batches": False, "read_scopes": []}
    assert plaintext not in str(event.after)


def test_a_verified_key_names_its_instrument_and_notes_its_use(make_key, tlc):
    key, plaintext = make_key(tlc, codes=["rcp"])
    assert api_key_verify(plaintext).instrument == tlc
    assert InstrumentApiKey.objects.get(pk=key.pk).last_used_at is not None
    assert api_key_verify(plaintext[:-1] + "x") is None
    assert api_key_verify("") is None


def test_a_verified_key_and_its_instrument_are_loaded_as_the_orm_loads_them(make_key, tlc):
    key, plaintext = make_key(tlc, codes=["rcp", "ph"], can_register_batches=True)
    api_key_verify(plaintext)  # stamps last_used_at, so the two loads below see the same row
    verified = api_key_verify(plaintext)
    loaded = InstrumentApiKey.objects.select_related("instrument").get(pk=key.pk)
    assert_loaded_alike(verified.key, loaded)
    assert_loaded_alike(verified.instrument, loaded.instrument)
    assert verified.key.test_codes == ["ph", "rcp"]
    assert verified.account_id == get_user_model().objects.get(username="instrument.TLC-0001").pk


def test_a_revoked_key_no_longer_verifies_and_the_revocation_is_audited(make_key, tlc,
                                                                       admin_user):
    key, plaintext = make_key(tlc, codes=["rcp"])
    api_key_revoke(actor=admin_user, key=key, reason="scanner replaced")
    assert api_key_verify(plaintext) is None
    key.refresh_from_db()
    assert key.revoked_by == admin_user and key.revoked_at is not None
    event = AuditEvent.objects.get(action="api_key.revoke")
    assert event.reason == "scanner replaced"
    with pytest.raises(RuleViolation):
        api_key_revoke(actor=admin_user, key=key)


def test_a_key_revoked_by_another_server_process_stops_verifying_within_the_ttl(
        make_key, tlc, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("qc.api_keys.time.monotonic", lambda: clock[0])
    key, plaintext = make_key(tlc, codes=["rcp"])
    assert api_key_verify(plaintext) is not None
    # Another process revokes it: this one hears nothing, and remembers the key a while.
    InstrumentApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    clock[0] += VERIFIED_KEY_TTL_S / 2
    assert api_key_verify(plaintext) is not None
    clock[0] += VERIFIED_KEY_TTL_S / 2
    assert api_key_verify(plaintext) is None


def test_an_instrument_changed_in_this_process_is_read_afresh_by_the_next_verification(
        make_key, tlc):
    _, plaintext = make_key(tlc, codes=["rcp"])
    assert api_key_verify(plaintext).instrument.in_service
    tlc.in_service = False
    tlc.save()
    assert not api_key_verify(plaintext).instrument.in_service


def test_each_verification_gets_its_own_copy_of_a_remembered_key(make_key, tlc):
    _, plaintext = make_key(tlc, codes=["rcp"])
    first = api_key_verify(plaintext)
    first.key.prefix = first.instrument.serial = "CHANGED"
    second = api_key_verify(plaintext)
    assert second.key.prefix != "CHANGED" and second.instrument.serial == "TLC-0001"


def test_only_an_administrator_issues_keys(products, tlc, analyst):
    with pytest.raises(RuleViolation) as refused:
        api_key_create(actor=analyst, instrument=tlc, test_codes=["rcp"])
    assert refused.value.code == "forbidden"
    assert not InstrumentApiKey.objects.exists()


def test_it_refuses_a_key_for_unknown_test_codes(products, tlc, admin_user):
    with pytest.raises(ValidationError) as refused:
        api_key_create(actor=admin_user, instrument=tlc, test_codes=["rcp", "purity"])
    message = refused.value.message_dict["test_codes"][0]
    assert "Unknown test code purity" in message and "rcp" in message
    assert not InstrumentApiKey.objects.exists()


def test_it_refuses_a_key_that_could_do_nothing(products, tlc, admin_user):
    with pytest.raises(ValidationError):
        api_key_create(actor=admin_user, instrument=tlc, test_codes=[])


def test_the_command_prints_the_key_once_and_it_works(products, tlc):
    out = StringIO()
    call_command("instrument_key", "TLC-0001", "--test-code", "rcp", "--test-code", "ph",
                 stdout=out)
    plaintext = out.getvalue().strip().splitlines()[-1]
    key = api_key_verify(plaintext).key
    assert key.test_codes == ["ph", "rcp"] and not key.can_register_batches
    event = AuditEvent.objects.get(action="api_key.create")
    assert event.actor is None and "instrument_key" in event.actor_name


def test_the_command_issues_batch_registration_keys_and_revokes(products, synthesis_module):
    out = StringIO()
    call_command("instrument_key", "SYN-0001", "--can-register-batches", stdout=out)
    plaintext = out.getvalue().strip().splitlines()[-1]
    key = api_key_verify(plaintext).key
    assert key.can_register_batches
    call_command("instrument_key", "SYN-0001", "--revoke", key.prefix, "--reason", "retired",
                 stdout=StringIO())
    assert api_key_verify(plaintext) is None


def test_the_command_names_known_instruments_for_an_unknown_serial(products, tlc):
    with pytest.raises(CommandError, match="TLC-0001"):
        call_command("instrument_key", "NOPE", "--test-code", "rcp", stdout=StringIO())


def test_demo_keys_are_created_once_per_instrument(products, admin_user):
    from batches.demo import DEMO_INSTRUMENTS, qualify_demo_instruments

    for serial, name, kind in DEMO_INSTRUMENTS:
        Instrument.objects.create(serial=serial, name=name, kind=kind,
                                  calibration_due="2099-01-01")
    qualify_demo_instruments(actor=admin_user)
    created = demo_instrument_keys()
    assert len(created) == len(DEMO_INSTRUMENTS)
    for serial, plaintext in created:
        assert api_key_verify(plaintext).instrument.serial == serial
    synthesis = InstrumentApiKey.objects.get(instrument__serial="SYN-MODULAB-02")
    assert synthesis.can_register_batches and synthesis.test_codes == []
    assert InstrumentApiKey.objects.get(instrument__serial="PH-SEVEN-0807").test_codes == ["ph"]
    assert demo_instrument_keys() == []
    assert InstrumentApiKey.objects.count() == len(DEMO_INSTRUMENTS)
