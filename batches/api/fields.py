"""Edge parsing: refuse what is not what it claims to be before any rule is judged."""

import codecs
import json
import math
from datetime import UTC
from typing import NamedTuple

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding

from qc.entered import (
    EXACT_FIGURES,
    MAX_SIGNIFICANT_FIGURES,
    EnteredNumber,
    is_decimal,
    precision_problem,
    significant_figures,
    underflows,
)
from qc.time_range import clamped, time_range_problem

from ..records.checks import split_censored

MAX_NUMBER_TEXT = 60


# A result is a flat object with one nested object (method_times); a bulk body adds two
# levels. Anything deeper is not a result, and very deep nesting exhausts the parser's stack.
MAX_JSON_DEPTH = 8


def _depth(value, limit: int) -> int:
    """How deeply `value` nests lists and objects, counted up to `limit` + 1."""
    deepest, level = 0, [value]
    while level and deepest <= limit:
        deepest += 1
        level = [child for item in level if isinstance(item, dict | list)
                 for child in (item.values() if isinstance(item, dict) else item)
                 if isinstance(child, dict | list)]
    return deepest


# Python will not convert a longer digit string to an int (sys.get_int_max_str_digits()).
MAX_JSON_NUMBER_DIGITS = 4300


class TooManyDigits(ValueError):
    pass


class PostedText(float):
    """A JSON number whose float cannot stand for what was sent: one too large for a float
    (1e999 reads as infinity) or with more significant figures than a float holds. It keeps
    its text, so that the field refusing it can say what was sent."""

    text: str

    def __new__(cls, text: str, number: float) -> "PostedText":
        posted = super().__new__(cls, number)
        posted.text = text
        return posted


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _refuse_too_many_digits(text: str) -> None:
    if (digits := _digits(text)) > MAX_JSON_NUMBER_DIGITS:
        raise TooManyDigits(f"a number has {digits} digits; a number may have at most "
                            f"{MAX_JSON_NUMBER_DIGITS}")


def _json_int(text: str) -> int:
    _refuse_too_many_digits(text)
    return int(text)


def _json_float(text: str) -> float:
    """Every check of a JSON float's text is made here, once: the field takes an EnteredNumber
    as it is and refuses a PostedText saying what is wrong with it."""
    _refuse_too_many_digits(text)
    number = float(text)
    figures = significant_figures(text)
    if not math.isfinite(number) or underflows(text, number) or \
            figures > MAX_SIGNIFICANT_FIGURES:
        return PostedText(text, number)
    if figures <= EXACT_FIGURES:
        return EnteredNumber(text)  # the digits sent are the precision ("96.10" keeps its 0)
    return number


class LenientJSONParser(JSONParser):
    """Parses NaN and Infinity so the serializer can refuse them field by field, rather than
    failing the whole body with a parse error that names no field; refuses JSON nested deeper
    than a result can be, and numbers longer than Python converts (with their length, not
    Python's advice to raise its limit)."""

    strict = False

    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = ParseError(f"JSON parse error - the JSON is nested more than {MAX_JSON_DEPTH} "
                              "levels deep; a result is a flat object (method_times one level "
                              "down).")
        encoding = get_encoding(parser_context or {})
        try:
            data = json.load(codecs.getreader(encoding)(stream), parse_int=_json_int,
                             parse_float=_json_float)
        except RecursionError:
            raise too_deep from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if _depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            raise too_deep
        return data


def _is_form(field) -> bool:
    """A multipart form carries every value as text; JSON carries typed values."""
    return bool(field.context.get("form"))


class StrictCharField(serializers.CharField):
    """A JSON string, not a number that happens to convert to one."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not (isinstance(data, int) or (
                _is_form(self) and isinstance(data, str))):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "number", "format": "double"})
class FiniteNumberField(serializers.Field):
    default_error_messages = {
        "invalid": "{input} is not a number; send a number such as 97.4.",
        "not_finite": "The value must be a finite number (not NaN or infinity).",
        "too_large": "{input} is too large for a number (the largest is about 1.8e308).",
        "too_small": "{input} is too small to tell from zero (the smallest number is about "
                     "5e-324); send 0 if it is zero.",
        "string": "{input} is a string; send the number itself, without quotes.",
        "too_long": "{input} has {length} characters, too many digits; a number has at most "
                    "{limit} characters.",
    }

    def to_internal_value(self, data):
        if isinstance(data, str) and not _is_form(self) and is_decimal(data):
            self.number(data)  # a number too long or too precise is refused as such
            self.fail("string", input=json.dumps(data))
        if isinstance(data, bool) or not isinstance(data, int | float | str) or (
                isinstance(data, str) and not _is_form(self)):
            self.fail("invalid", input=json.dumps(data, default=str)[:MAX_NUMBER_TEXT])
        return self.number(data)

    def number(self, data):
        """The float of a JSON number or of a number's text (a form field, a censored
        string), refused with what is wrong with it."""
        if isinstance(data, EnteredNumber):
            return data  # a JSON float _json_float found sound: its digits are kept
        if isinstance(data, str):
            text = data.strip()
            if len(text) > MAX_NUMBER_TEXT:
                self.fail("too_long", input=repr(text[:MAX_NUMBER_TEXT] + "…"),
                          length=len(text), limit=MAX_NUMBER_TEXT)
        else:
            text = data.text if isinstance(data, PostedText) else str(data)
        shown = text if len(text) <= 40 else f"{text[:40]}…"
        if isinstance(data, str) and not is_decimal(text):
            self.fail("invalid", input=repr(text))  # float() also reads '١٢' and '1_000'
        try:
            number = float(data)
        except OverflowError:  # an int beyond any float
            self.fail("too_large", input=shown)
        except (TypeError, ValueError):
            self.fail("invalid", input=repr(data))
        if not math.isfinite(number):
            if is_decimal(text):
                self.fail("too_large", input=shown)
            self.fail("not_finite")
        if number == 0 and isinstance(data, PostedText):
            self.fail("too_small", input=shown)
        if is_decimal(text) and (problem := precision_problem(text)):
            raise serializers.ValidationError(problem, code="too_precise")
        return _as_posted(data, number)

    def to_representation(self, value):
        return value


def _as_posted(data, number: float) -> float:
    """The number with the digits it was posted with (qc.entered): a form field's text, a
    JSON number's digits as sent up to EXACT_FIGURES; a JSON float with more (a computed
    value's binary noise, 7.1000000000000005) reads as its derived text ('7.1')."""
    if isinstance(data, EnteredNumber):
        return data
    if isinstance(data, str | int):
        try:
            return EnteredNumber(str(data))
        except ValueError:
            return number
    return number


class Censored(NamedTuple):
    censor: str  # "<" or ">"
    value: float


@extend_schema_field({"oneOf": [{"type": "number", "format": "double"},
                                {"type": "string", "pattern": r"^\s*[<>]\s*[0-9.eE+-]+\s*$"}]})
class CensoredNumberField(FiniteNumberField):
    """A number, or a result beyond a quantitation limit as a string with its sign:
    "< 2.5" (below), "> 99" (above). Returns a float or a Censored."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            censor, text = split_censored(data)
            if censor:
                return Censored(censor, self.number(text))
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that must carry its UTC offset: a naive time from an instrument clock
    is ambiguous (DST, the instrument's own zone) and is never guessed."""

    default_error_messages = {
        **serializers.DateTimeField.default_error_messages,
        "naive": "This time has no time zone; give it with its offset, e.g. "
                 "2026-11-22T09:30:00+01:00 or 2026-11-22T08:30:00Z.",
        "invalid": "{input} is not an ISO 8601 date and time; use e.g. "
                   "2026-11-22T09:30:00+01:00.",
    }

    def __init__(self, *args, clamp: bool = False, **kwargs):
        # clamp: a query bound out of range is answered at the nearer limit (nothing is
        # recorded beyond it), not refused.
        self.clamp = clamp
        super().__init__(*args, **kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str) or len(value) > 40:
            self.fail("invalid", input=json.dumps(value, default=str)[:MAX_NUMBER_TEXT])
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid", input=repr(value))
        if timezone.is_naive(parsed):
            self.fail("naive")
        if self.clamp:
            return clamped(parsed)
        problem = time_range_problem(parsed, shown=repr(value))
        if problem:
            raise serializers.ValidationError(problem, code="out_of_range")
        # Stored in UTC; PostgreSQL also refuses offsets beyond ±15:59 that Python takes.
        return parsed.astimezone(UTC)

    def to_representation(self, value):
        return value.isoformat() if value else None


@extend_schema_field({"type": "object", "additionalProperties": {
    "type": "string", "format": "date-time"}, "maxProperties": 10})
class MethodTimesField(serializers.Field):
    """Method-specific times, e.g. {"developed_at": "..."} for a radio-TLC strip. In a
    multipart form it is sent as a JSON string."""

    MAX_ENTRIES = 10
    default_error_messages = {
        # DRF formats these messages, hence the doubled braces.
        "invalid": 'Send an object of named times, e.g. {{"developed_at": '
                   '"2026-11-22T09:30:00+01:00"}}.',
        "too_many": f"At most {MAX_ENTRIES} method times.",
        "bad_name": "{name!r} is not a method time name; use lower-case names ending in _at, "
                    "e.g. developed_at.",
    }

    def to_internal_value(self, data):
        if isinstance(data, str) and _is_form(self):
            try:
                data = json.loads(data) if data.strip() else {}
            except ValueError:
                self.fail("invalid")
        if not isinstance(data, dict):
            self.fail("invalid")
        if len(data) > self.MAX_ENTRIES:
            self.fail("too_many")
        times, errors = {}, {}
        field = AwareDateTimeField()
        for name, value in data.items():
            if not (isinstance(name, str) and name.endswith("_at") and name[:-3].replace(
                    "_", "").isalpha() and name.islower() and len(name) <= 40):
                self.fail("bad_name", name=str(name)[:40])
            try:
                times[name] = field.to_internal_value(value)
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return times

    def to_representation(self, value):
        return value

