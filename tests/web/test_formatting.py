"""How values read: activities SI-prefixed, times with their zone, durations short."""

from datetime import UTC, datetime, timedelta

import pytest

from batches.web import charts, formatting


@pytest.mark.parametrize(("bq", "text"), [
    (8e6, "8.00 MBq"), (412e6, "412 MBq"), (1.1e9, "1.10 GBq"), (999.7e3, "1.00 MBq"),
    (0.5, "0.500 Bq"), (0, "0 Bq"), (3.7e12, "3.70 TBq")])
def test_activities_take_an_si_prefix_and_three_significant_figures(bq, text):
    assert formatting.si_prefixed(bq, "Bq") == text


def test_times_carry_the_sites_zone(settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    winter = datetime(2026, 1, 10, 8, 30, tzinfo=UTC)
    summer = datetime(2026, 7, 10, 8, 30, tzinfo=UTC)
    assert formatting.when(winter) == "2026-01-10 09:30 CET (08:30 UTC)"
    assert formatting.when(summer, seconds=True) == "2026-07-10 10:30:00 CEST (08:30:00 UTC)"
    late = datetime(2026, 1, 10, 23, 30, tzinfo=UTC)  # the UTC date only when it differs
    assert formatting.when(late) == "2026-01-11 00:30 CET (2026-01-10 23:30 UTC)"


@pytest.mark.parametrize(("seconds", "text"), [
    (45, "45 s"), (125 * 60, "2 h 05 min"), (3 * 86400 + 4 * 3600, "3 d 4 h"), (600, "10 min")])
def test_durations_read_in_at_most_two_units(seconds, text):
    assert formatting.duration(timedelta(seconds=seconds)) == text


def test_a_chart_draws_every_series_with_its_name_and_a_limit_line():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    times = [start + timedelta(hours=h) for h in range(5)]
    svg = charts.render(charts.Chart(
        title="t", times=times, series=[charts.Series("Ac-225", [8, 7, 6, 5, 4]),
                                        charts.Series("Fr-221", [0, 6, 6, 5, 4])],
        y_format=str, y_label="MBq", limits=[(7.5, "limit")]))
    assert svg.count('class="series"') == 2
    assert ">Ac-225</text>" in svg and ">Fr-221</text>" in svg
    assert 'class="limit"' in svg and "stroke-dasharray" in svg
