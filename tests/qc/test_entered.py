"""A value keeps the digits it was entered with, and reads with them: '1.20 GBq' stays 1.20,
'0.95' never becomes '0.95000000001', and a float computed by a script reads to a sensible
precision ('1424.4374932728838' reads '1424')."""

import pytest

from qc.entered import (
    EnteredNumber,
    derived_text,
    entered_text,
    number_of_entered_text,
    significant_figures,
)
from qc.formatting import measured_text


def test_an_entered_number_computes_as_its_float_and_keeps_its_digits():
    number = EnteredNumber("1.20")
    assert number == 1.2 and number * 2 == pytest.approx(2.4)
    assert number.text == "1.20" and entered_text(number) == "1.20"
    assert f"{number} GBq" == "1.20 GBq" and str(number) == "1.20"
    assert f"{number:.1f}" == "1.2"


@pytest.mark.parametrize("text", ["1,2", "1.2.3", "seven", "1_000", "inf", "nan", ""])
def test_anything_but_a_plain_decimal_is_not_an_entered_number(text):
    with pytest.raises(ValueError):
        EnteredNumber(text)


@pytest.mark.parametrize(("value", "text"), [
    (96.1, "96.1"), (0.95, "0.95"), (0.95000000001, "0.95"), (300.0, "300"),
    (1424.4374932728838, "1424"), (1.2e9, "1200000000"), (1424437493.2728838, "1424000000"),
    (0.012345678, "0.01235"), (1e-9, "1e-9"),
])
def test_a_float_without_entered_digits_reads_to_a_sensible_precision(value, text):
    assert derived_text(value) == text


@pytest.mark.parametrize(("text", "figures"), [
    ("1.20", 3), ("0.95", 2), ("1424", 4), ("300", 1), ("3.7e7", 2), ("0.0", 1),
    ("1424000000", 4), ("96.10", 4),
])
def test_the_significant_figures_are_those_written(text, figures):
    assert significant_figures(text) == figures


def test_a_measured_value_reads_with_the_figures_it_was_entered_with():
    assert measured_text(1.2e9, "Bq", significant_figures("1.20")) == "1.20 GBq"
    assert measured_text(1.424e9, "Bq", significant_figures("1424")) == "1.424 GBq"
    assert measured_text(0.95000000001, "%", 2) == "0.95 %"
    assert measured_text(96.1, "%", significant_figures("96.10")) == "96.10 %"
    assert measured_text(6.8, "pH", 2) == "pH 6.8"


def test_an_earlier_result_reads_the_number_of_its_entered_text_to_a_sensible_precision():
    assert number_of_entered_text("1424.4374932728838 MBq") == "1424"  # its entered unit
    assert number_of_entered_text("0.95000000001 %") == "0.95"
    assert number_of_entered_text("< 2.5 EU/mL") == "2.5"
    assert number_of_entered_text("") == ""


def test_a_result_recorded_before_the_digits_were_kept_reads_its_entered_text_sensibly():
    from batches.models import Result

    legacy = Result(value=1424437493.2728838, unit="Bq", censor="", value_text="",
                    entered_value="1424.4374932728838 MBq", entered_number="")
    assert legacy.as_entered == "1424 MBq"
    assert legacy.figures == 4 and legacy.measured_shown == "1.424 GBq"
