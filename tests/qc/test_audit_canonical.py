"""What the audit trail hashes is what the database gives back: any value the API accepts is
recorded in a form that reads back identically on SQLite and PostgreSQL (jsonb), and what
cannot be stored that way is refused before anything is written. The same tests run on
PostgreSQL in the services run (DATABASE_URL set)."""

import math

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qc.audit import _event_content, audit_record, event_hash, verify_chain
from qc.canonical import CanonicalValueError, canonical_json, jsonable
from qc.models import AuditEvent

pytestmark = pytest.mark.django_db

SIXTY_THREE_DIGITS = 123456789012345678901234567890123456789012345678901234567890123
EXTREME_NUMBERS = [SIXTY_THREE_DIGITS, -SIXTY_THREE_DIGITS, float(SIXTY_THREE_DIGITS), 1e308,
                   -1e308, 1.7976931348623157e308, -0.0, 0.0, 5e-324, -5e-324,
                   2.2250738585072014e-308, 1e16, 9007199254740993, 2**53 + 1.0, 1e-7,
                   0.1 + 0.2, 123.0, 10**999, -(10**999)]
UNICODE = ["e\u0301", "\U0001d518\U0001d52b\U0001d526", "\U0001f9ea 225Ac", "\u2028\u2029",
           "\ufeff", "Ａｃ-２２５", "\u00b5Ci/mL", "x\u0300\u0301\u0302\u0303", "\U0010ffff",
           "\\u0000 (written out, not a NUL)", "\"quoted\" 'and' \\ back"]

# Everything a JSON body can carry except NUL (refused, see below): astral characters,
# combining marks, integers far past 2**53, every finite float including the subnormals.
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=20) | st.sampled_from(UNICODE)
numbers = (st.integers(min_value=-(10**70), max_value=10**70)
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.sampled_from(EXTREME_NUMBERS))
values = st.recursive(st.none() | st.booleans() | numbers | texts,
                      lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(texts, inner, max_size=4),
                      max_leaves=12)


def record(after, *, before=None, reason=""):
    with transaction.atomic():
        return audit_record(actor=None, action="test.value", object_type="test", object_id=1,
                            before=before, after=after, reason=reason)


def reads_back_identically(event: AuditEvent) -> bool:
    stored = AuditEvent.objects.get(pk=event.pk)
    return (canonical_json(_event_content(stored)) == canonical_json(_event_content(event))
            and event_hash(stored.prev_hash, stored) == stored.hash)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(after=values, before=values, reason=texts)
def test_any_accepted_value_reads_back_as_it_was_hashed(after, before, reason):
    event = record(after, before=before, reason=reason)
    assert reads_back_identically(event)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(after=values)
def test_the_chain_of_recorded_values_verifies(after):
    record(after)
    report = verify_chain()
    assert report.ok, report


@pytest.mark.parametrize("number", EXTREME_NUMBERS, ids=repr)
def test_an_extreme_number_reads_back_identically_and_the_chain_verifies(number):
    event = record({"value": number, "nested": [{"value": number}]})
    assert reads_back_identically(event)
    assert verify_chain().ok


def test_the_63_digit_value_that_broke_the_chain_on_postgresql_is_stored_as_it_reads_back():
    as_the_api_takes_it = float(SIXTY_THREE_DIGITS) * 1e9  # GBq -> Bq
    event = record({"value": as_the_api_takes_it})
    stored = AuditEvent.objects.get(pk=event.pk)
    # jsonb writes such a number back in plain decimal notation: it is stored that way.
    assert stored.after == {"value": int("12345678901234568" + "0" * 55)}
    assert float(stored.after["value"]) == as_the_api_takes_it
    assert verify_chain().ok


def test_negative_zero_is_stored_as_zero_because_jsonb_has_no_negative_zero():
    event = record({"value": -0.0})
    value = AuditEvent.objects.get(pk=event.pk).after["value"]
    assert value == 0.0 and math.copysign(1, value) == 1


@pytest.mark.parametrize("text", UNICODE)
def test_unicode_reads_back_unchanged(text):
    event = record({text: text}, reason=text)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.after == {text: text} and stored.reason == text
    assert verify_chain().ok


@pytest.mark.parametrize("where", ["after", "key", "reason", "object_id"])
def test_a_nul_character_is_refused_with_a_clear_error_and_nothing_is_stored(where):
    nul = "lot\x00 42"
    kwargs = {"after": {"lot": nul} if where == "after" else {nul: 1} if where == "key" else 1,
              "reason": nul if where == "reason" else ""}
    with pytest.raises(CanonicalValueError, match=r"NUL character \(\\u0000\)"), \
            transaction.atomic():
        audit_record(actor=None, action="test.value", object_type="test",
                     object_id=nul if where == "object_id" else 1, **kwargs)
    assert not AuditEvent.objects.exists()


def test_a_lone_surrogate_is_refused():
    with pytest.raises(CanonicalValueError, match="lone UTF-16 surrogate"):
        record({"name": "\ud83e"})


@pytest.mark.parametrize("value, message", [
    (float("nan"), "cannot be recorded"),
    (float("inf"), "cannot be recorded"),
    (10**1001, "more than 1000 digits"),
    (10**5000, "cannot be recorded"),
], ids=["nan", "inf", "1001 digits", "5001 digits"])
def test_numbers_no_store_can_keep_are_refused(value, message):
    with pytest.raises(CanonicalValueError, match=message):
        record({"value": value})
    assert not AuditEvent.objects.exists()


def test_nesting_deeper_than_the_limit_is_refused_without_a_recursion_error():
    deep: list = []
    inner = deep
    for _ in range(5000):
        inner.append([])
        inner = inner[0]
    with pytest.raises(CanonicalValueError, match="nested more than 64 levels"):
        record(deep)


def test_text_longer_than_its_column_is_refused_rather_than_cut_by_the_database():
    with pytest.raises(CanonicalValueError, match="object_id is 61 characters long; at most 60"
                       ), transaction.atomic():
        audit_record(actor=None, action="test.value", object_type="test", object_id="x" * 61)


def test_a_refusal_is_a_validation_error_so_the_interfaces_answer_it_as_bad_input():
    with pytest.raises(ValidationError):
        jsonable({"a": "\x00"})
