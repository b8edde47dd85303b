"""Accessibility rules that can be checked without a person: every input has a label, status
words come with their colours, and the colour pairs meet WCAG AA contrast."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from qc.models import Instrument, Specification
from tests.factories import make_instrument

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "site.css"


class Controls(HTMLParser):
    def __init__(self):
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self._label_depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self._label_depth += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in (
                "hidden", "submit", "button"):
            self.controls.append({**attrs, "_wrapped": self._label_depth > 0})

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth -= 1


def unlabelled(html: str) -> list[dict]:
    parser = Controls()
    parser.feed(html)
    return [c for c in parser.controls if not c["_wrapped"] and c.get("id") not in
            parser.label_for and not c.get("aria-label")]


@pytest.mark.django_db
def test_every_input_on_every_form_has_a_label(
        client_for, operator, analyst, reviewer, qp, admin_user, settled_ac225):
    instrument = make_instrument()
    spec = Specification.objects.get(product__code="ac225-psma-it")
    rcp = spec.criteria.get(test_code="rcp")
    lot = settled_ac225.lot_number
    result = settled_ac225.results.first()
    pages = [
        (operator, reverse("batch-register")),
        (operator, reverse("batch-list")),
        (analyst, reverse("result-record", args=[lot, "rcp"])),
        (analyst, reverse("result-record", args=[lot, "appearance"])),
        (analyst, reverse("result-correct", args=[lot, result.pk])),
        (reviewer, reverse("result-invalidate", args=[lot, result.pk])),
        (reviewer, reverse("batch-review", args=[lot])),
        (qp, reverse("batch-release", args=[lot])),
        (qp, reverse("batch-reject", args=[lot])),
        (reviewer, reverse("specification-draft", args=["ac225-psma-it"])),
        (reviewer, reverse("criterion-edit", args=[spec.pk, rcp.pk])),
        (qp, reverse("specification-approve", args=[spec.pk])),
        (analyst, reverse("lot-detail", args=[settled_ac225.source_lot.lot_number])),
        (admin_user, reverse("instrument-detail", args=[instrument.serial])),
        (reviewer, reverse("audit-trail")),
    ]
    assert Instrument.objects.exists()
    for user, url in pages:
        response = client_for(user).get(url)
        assert response.status_code == 200, url
        assert unlabelled(response.content.decode()) == [], url


def test_the_login_form_labels_its_inputs(client, db):
    assert unlabelled(client.get(reverse("login")).content.decode()) == []


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_and_badge_colours_meet_wcag_aa_contrast():
    variables = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", CSS.read_text()))
    pairs = [("ink", "paper"), ("ink", "wash"), ("muted", "paper"), ("muted", "wash"),
             ("link", "paper"), ("link", "wash")]
    pairs += [(f"{kind}-ink", f"{kind}-bg") for kind in ("ok", "bad", "warn", "info", "neutral")]
    for fg, bg in pairs:
        ratio = contrast(variables[fg], variables[bg])
        assert ratio >= 4.5, (fg, bg, round(ratio, 2))
    assert contrast("#ffffff", variables["brand"]) >= 7


def test_every_status_badge_carries_a_word_and_a_symbol_not_only_a_colour():
    from batches.templatetags import lab

    for table in (lab.BATCH_STATUS, lab.QC_STATUS, lab.CERTIFICATE):
        for symbol, css in table.values():
            assert symbol.strip() and css in ("ok", "bad", "warn", "info", "neutral")
    for value, (symbol, _, word) in lab.VERDICT.items():
        html = lab.verdict(value)
        assert symbol in html and word in html
