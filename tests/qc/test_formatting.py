"""How values read, in one home: activities with an SI prefix, durations in the largest
readable unit, acceptance limits on pages and in verdict messages."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from qc.formatting import (
    DISPLAY,
    MESSAGE,
    bound_text,
    compact_value_text,
    format_activity,
    format_duration,
    limit_text,
    nice_step,
    si_prefix,
)
from qc.units import parse_duration

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0


@dataclass(frozen=True)
class Limits:
    unit: str
    lower: float | None = None
    lower_inclusive: bool = True
    upper: float | None = None
    upper_inclusive: bool = True
    text_requirement: str = ""


def test_activities_get_an_si_prefix_with_three_significant_figures():
    assert format_activity(41.234e6) == "41.2 MBq"
    assert format_activity(1.5e9) == "1.50 GBq"
    assert format_activity(987.0) == "987 Bq"
    assert format_activity(12_345.0) == "12.3 kBq"
    assert format_activity(2.05e6, "Bq/mL") == "2.05 MBq/mL"
    assert format_activity(0.0) == "0 Bq"


def test_an_activity_is_rounded_before_its_prefix_is_chosen():
    assert format_activity(999.7e3) == "1.00 MBq"
    assert compact_value_text(999_999.0, "Bq") == "1 MBq"


def test_an_activity_below_a_millibecquerel_reads_as_zero_and_below_a_becquerel_unprefixed():
    assert format_activity(4e-4) == "0 Bq"
    assert format_activity(0.5) == "0.500 Bq"


def test_the_prefix_brings_a_value_below_a_thousand():
    assert si_prefix(3.7e12) == (1e12, "T")
    assert si_prefix(412e6) == (1e6, "M")
    assert si_prefix(0.5) == (1.0, "")


def test_a_message_value_drops_trailing_zeros_and_leaves_ph_bare():
    assert compact_value_text(8.21e6, "Bq") == "8.21 MBq"
    assert compact_value_text(4e5, "Bq/mL") == "400 kBq/mL"
    assert compact_value_text(7.2, "pH") == "7.2"
    assert compact_value_text(0.4, "MBq/mL") == "0.4 MBq/mL"


def test_limits_read_with_signs_and_ranges_on_pages():
    assert limit_text(Limits("%", lower=95)) == "≥ 95 %"
    assert limit_text(Limits("pH", lower=5.5, upper=9)) == "5.5 – 9"
    assert limit_text(Limits("Bq/mL", lower=4e5, upper=2.8e6)) == "400 kBq/mL – 2.80 MBq/mL"
    assert limit_text(Limits("%", lower=1, lower_inclusive=False, upper=2)) == "> 1 and ≤ 2 %"
    assert limit_text(Limits("", text_requirement="clear | colourless ")) == "clear or colourless"
    assert limit_text(Limits("%")) == "report"


def test_limits_read_in_plain_ascii_in_messages_each_bound_with_its_unit():
    assert limit_text(Limits("%", lower=95, upper=105), MESSAGE) == ">= 95 % and <= 105 %"
    assert limit_text(Limits("pH", lower=5.5, upper=9), MESSAGE) == ">= 5.5 and <= 9"
    assert limit_text(Limits("", text_requirement="clear|colourless"), MESSAGE) == (
        "clear | colourless")
    assert limit_text(Limits("%"), MESSAGE) == "(no limit)"
    assert bound_text(Limits("MBq/mL", lower=0.4), "lower", MESSAGE) == ">= 0.4 MBq/mL"
    assert bound_text(Limits("%", upper=0.7, upper_inclusive=False), "upper", DISPLAY) == "< 0.7 %"


def test_an_axis_step_is_one_two_two_and_a_half_or_five_times_a_power_of_ten():
    assert nice_step(10.0, 5) == 2.0
    assert nice_step(7.0, 6) == 2.0
    assert nice_step(0.9, 6) == 0.2
    assert nice_step(11.0, 5) == 2.5


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45.0 s"), (31.9 * MINUTE, "31.9 min"), (4.9 * HOUR, "4.90 h"), (9.92 * DAY, "9.92 d")],
)
def test_durations_print_in_the_largest_readable_unit(seconds, text):
    assert format_duration(seconds) == text


def test_durations_print_exact_values_without_trailing_zeros_when_asked():
    assert format_duration(3 * HOUR, trim=True) == "3 h"
    assert math.isclose(parse_duration(format_duration(3 * HOUR, trim=True)), 3 * HOUR)



def test_the_times_a_stored_message_holds_read_in_the_site_zone_with_utc_in_brackets():
    from zoneinfo import ZoneInfo

    from qc.formatting import person_time, person_times_in

    zone = ZoneInfo("Europe/Amsterdam")
    assert person_times_in("Count again after 2026-11-28 10:00:00 UTC (31 min from the "
                           "count).", zone) == ("Count again after 2026-11-28 11:00:00 CET "
                                                "(10:00:00 UTC) (31 min from the count).")
    assert person_times_in("valid from 2026-11-28T23:30:00+00:00", zone) == \
        "valid from 2026-11-29 00:30:00 CET (2026-11-28 23:30:00 UTC)"
    assert person_times_in("at 2026-11-28T10:00:00Z.", zone) == \
        "at 2026-11-28 11:00:00 CET (10:00:00 UTC)."
    # a time already read the one way, and a time without a zone, are left as they are
    done = person_time(datetime(2026, 11, 28, 23, 30, tzinfo=UTC), zone, seconds=True)
    assert person_times_in(f"after {done}", zone) == f"after {done}"
    assert person_times_in("at 2026-11-28T10:00:00", zone) == "at 2026-11-28T10:00:00"
