"""One API key per demo instrument, so `make demo` can show how an instrument connects."""

from django.contrib.auth import get_user_model

from qc.api_keys import api_key_create
from qc.models import Criterion, Instrument, InstrumentKind

from ..demo import demo_instrument_serials


def demo_instrument_keys() -> list[tuple[str, str]]:
    """Create a key for each demo instrument that has no active key; return
    (serial, plaintext key) for the keys created now (the only time they can be shown)."""
    admin = get_user_model().objects.filter(username="admin").first()
    known = set(Criterion.objects.values_list("test_code", flat=True))
    created = []
    for instrument in Instrument.objects.filter(serial__in=demo_instrument_serials()):
        if instrument.api_keys.filter(revoked_at__isnull=True).exists():
            continue
        codes = [c for c in instrument.qualified_test_codes or [] if c in known]
        registers = instrument.kind == InstrumentKind.SYNTHESIS_MODULE
        if not codes and not registers:
            continue
        _, plaintext = api_key_create(actor=admin, instrument=instrument, test_codes=codes,
                                      can_register_batches=registers,
                                      actor_name="" if admin else "demo seed")
        created.append((instrument.serial, plaintext))
    return created
