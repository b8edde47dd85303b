"""Units at the edges: activities and durations typed by a person, read by Pint."""

import pytest

from qc.units import parse_activity, parse_duration

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0


@pytest.mark.parametrize(
    ("text", "bq"),
    [
        ("1 GBq", 1e9),
        ("27 mCi", 27 * 3.7e7),
        ("27mCi", 27 * 3.7e7),
        ("500 kBq", 5e5),
        ("3.7e7 Bq", 3.7e7),
        ("2 MBq", 2e6),
        ("3 µCi", 3 * 3.7e4),
        ("3 uCi", 3 * 3.7e4),
        ("1 Ci", 3.7e10),
    ],
)
def test_activities_are_read_in_bq_and_ci_units(text, bq):
    assert parse_activity(text) == pytest.approx(bq)


@pytest.mark.parametrize("text", ["1 Hz", "1 m", "5 GBq/mL", "12 h", "GBq", "", "3.7e7", "lots"])
def test_a_value_that_is_not_an_activity_is_refused_listing_the_accepted_units(text):
    with pytest.raises(ValueError, match=r"Bq, kBq, MBq, GBq, uCi/µCi, mCi, Ci"):
        parse_activity(text)


def test_a_negative_activity_is_refused():
    with pytest.raises(ValueError, match=">= 0"):
        parse_activity("-1 GBq")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30min", 1800),
        ("6h", 6 * HOUR),
        ("10d", 10 * DAY),
        ("90s", 90),
        ("1.5 h", 1.5 * HOUR),
        ("2y", 2 * 365.25 * DAY),
        ("2w", 14 * DAY),
        ("1 h 30 min", 90 * MINUTE),
        ("3 hours", 3 * HOUR),
    ],
)
def test_durations_are_read_in_seconds(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "h", "5", "5 fortnights", "1h30", "soon"])
def test_a_duration_in_an_unknown_form_is_refused_saying_which_forms_are_accepted(text):
    with pytest.raises(ValueError, match=r"30min.*units: s, min, h, d, w, y"):
        parse_duration(text)


def test_a_negative_duration_is_refused():
    with pytest.raises(ValueError, match="negative"):
        parse_duration("-5 min")
