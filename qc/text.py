"""Free text that is stored and shown again (pages, the audit trail, CSV exports, signed
certificates) holds only what prints as itself. A control character (an escape code, a bell)
or a bidi override (U+202E makes an audit line read backwards) would show something else than
what was stored, so it is refused wherever text enters: one rule, two flavours. A single-line
field refuses every control character; a text area (reasons, notes) keeps line breaks and
tabs. Pure: plain strings in, a message or None out."""

import unicodedata
from collections.abc import Mapping

from django.core.exceptions import ValidationError

# Bidi embeddings and overrides (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI, PDI).
BIDI_CONTROLS = frozenset(chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
AREA_ALLOWED = frozenset("\n\t")

_KNOWN = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab",
          "\x1b": "an escape code", "\x07": "a bell", "\x00": "a NUL character"}


def _describe(ch: str) -> str:
    if ch in BIDI_CONTROLS:
        return f"a text-direction control (U+{ord(ch):04X} {unicodedata.name(ch)})"
    what = _KNOWN.get(ch)
    return f"a control character ({what + ', ' if what else ''}U+{ord(ch):04X})"


def _refused(text: str, multiline: bool) -> tuple[int, str] | None:
    for index, ch in enumerate(text):
        if multiline and (ch in AREA_ALLOWED or (ch == "\r" and text[index + 1:index + 2] == "\n")):
            continue
        if ch in BIDI_CONTROLS or unicodedata.category(ch) == "Cc":
            return index, ch
    return None


def text_problem(text: str | None, *, label: str, multiline: bool = False) -> str | None:
    """What is wrong with `text` for the field called `label`, or None when it prints as
    itself. `multiline`: a text area, where line breaks (\\n, \\r\\n) and tabs are kept."""
    found = _refused(text or "", multiline)
    if found is None:
        return None
    index, ch = found
    fix = ("keep to printable text, line breaks and tabs" if multiline
           else "type it as one line of printable text")
    return (f"The {label} holds {_describe(ch)} at character {index + 1}, which would not show "
            f"as typed on pages, certificates and exports; {fix} (copied text may carry "
            "hidden characters: retype it).")


def text_errors(*, lines: Mapping[str, str | None] | None = None,
                areas: Mapping[str, str | None] | None = None,
                labels: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """Field errors ({field: [message]}) for single-line fields (`lines`) and text areas
    (`areas`), keyed by field name; a field is named by `labels`, else by its name."""
    labels = labels or {}
    errors: dict[str, list[str]] = {}
    for fields, multiline in ((lines or {}, False), (areas or {}, True)):
        for field, text in fields.items():
            label = labels.get(field, field.replace("_", " "))
            if problem := text_problem(text, label=label, multiline=multiline):
                errors[field] = [problem]
    return errors


def require_printable(*, lines: Mapping[str, str | None] | None = None,
                      areas: Mapping[str, str | None] | None = None,
                      labels: Mapping[str, str] | None = None) -> None:
    """Raise ValidationError({field: [message]}) for what text_errors finds; the services
    call it before they write, so every entry path (web, API, admin, command) is covered."""
    if errors := text_errors(lines=lines, areas=areas, labels=labels):
        raise ValidationError(errors)
