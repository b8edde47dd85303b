"""Line charts drawn on the server as inline SVG: no JavaScript, no chart library, prints as
it shows. Lines differ by dash pattern and carry their name at the end, so a chart does not
depend on colour alone."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from qc.formatting import nice_step, si_prefix

from . import formatting

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 78, 120, 16, 44
DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4", "1 2")
# colour-blind-safe palette (Okabe-Ito), dark enough for contrast on white
COLOURS = ("#0b4f8a", "#b3590e", "#0a7a5a", "#9b3d7a", "#6b5a00", "#3b3b3b")


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Marker:
    at: datetime
    label: str


@dataclass
class Chart:
    title: str
    times: Sequence[datetime]
    series: list[Series]
    y_format: Callable[[float], str]
    y_label: str
    limits: list[tuple[float, str]] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)


_TIME_STEPS = [timedelta(minutes=m) for m in (5, 10, 15, 30)] + [
    timedelta(hours=h) for h in (1, 2, 3, 6, 12)] + [timedelta(days=d) for d in (1, 2, 7, 14)]


def _time_ticks(start: datetime, end: datetime) -> list[datetime]:
    span = end - start
    step = next((s for s in _TIME_STEPS if span / s <= 7), _TIME_STEPS[-1])
    local_start = formatting.local(start)
    # align to the step in local time so ticks fall on round clock times
    anchor = local_start.replace(minute=0, second=0, microsecond=0)
    if step >= timedelta(days=1):
        anchor = anchor.replace(hour=0)
    tick = anchor
    ticks = []
    while tick <= end:
        if tick >= start:
            ticks.append(tick)
        tick += step
    return ticks


def _tick_label(tick: datetime, span: timedelta) -> str:
    local = formatting.local(tick)
    if span > timedelta(days=2):
        return local.strftime("%d %b")
    return local.strftime("%H:%M")


def render(chart: Chart) -> SafeString:
    times = list(chart.times)
    if len(times) < 2 or not chart.series:
        return mark_safe("")
    start, end = times[0], times[-1]
    span_s = max((end - start).total_seconds(), 1.0)
    values = [v for s in chart.series for v in s.values if v is not None]
    values += [limit for limit, _ in chart.limits]
    y_max = max(values) if values else 1.0
    y_max = y_max if y_max > 0 else 1.0
    step = nice_step(y_max, 5)
    y_top = step * math.ceil(y_max / step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: datetime) -> float:
        return LEFT + plot_w * (moment - start).total_seconds() / span_s

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / y_top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(chart.title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(chart.title)}</title>",
    ]
    # grid and y axis
    tick = 0.0
    while tick <= y_top * (1 + 1e-9):
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" '
                     f'text-anchor="end">{escape(chart.y_format(tick))}</text>')
        tick += step
    parts.append(f'<text class="axis-label" x="12" y="{TOP + plot_h / 2:.0f}" '
                 f'transform="rotate(-90 12 {TOP + plot_h / 2:.0f})" text-anchor="middle">'
                 f"{escape(chart.y_label)}</text>")
    # x axis
    zone = formatting.local(start).strftime("%Z")
    for moment in _time_ticks(start, end):
        parts.append(f'<line class="grid" x1="{x(moment):.1f}" x2="{x(moment):.1f}" y1="{TOP}" '
                     f'y2="{TOP + plot_h}"/>')
        parts.append(f'<text class="tick" x="{x(moment):.1f}" y="{TOP + plot_h + 16}" '
                     f'text-anchor="middle">{escape(_tick_label(moment, end - start))}</text>')
    parts.append(f'<text class="axis-label" x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 6}" '
                 f'text-anchor="middle">Time ({escape(zone)})</text>')
    parts.append(f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}"/>')
    for limit, label in chart.limits:
        parts.append(f'<line class="limit" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(limit):.1f}" '
                     f'y2="{y(limit):.1f}"/>')
        parts.append(f'<text class="limit-label" x="{LEFT + plot_w + 4}" y="{y(limit) + 4:.1f}">'
                     f"{escape(label)}</text>")
    placed: list[float] = []
    for marker in sorted(chart.markers, key=lambda m: m.at):
        if start <= marker.at <= end:
            mx = x(marker.at)
            # markers close together get their labels on successive lines
            row = sum(1 for px in placed if abs(px - mx) < 40)
            placed.append(mx)
            anchor = "end" if mx > LEFT + plot_w - 30 else "start"
            lx = mx - 3 if anchor == "end" else mx + 3
            parts.append(f'<line class="marker" x1="{mx:.1f}" x2="{mx:.1f}" '
                         f'y1="{TOP}" y2="{TOP + plot_h}"/>')
            parts.append(f'<text class="marker-label" x="{lx:.1f}" y="{TOP + 11 + 12 * row}" '
                         f'text-anchor="{anchor}">{escape(marker.label)}</text>')
    label_slots: list[float] = []
    for index, series in enumerate(chart.series):
        points = [(x(t), y(v)) for t, v in zip(times, series.values, strict=True)
                  if v is not None]
        if not points:
            continue
        dash = DASHES[index % len(DASHES)]
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<polyline class="series" points="{path}" stroke="{colour}"{dash_attr}/>')
        # end labels, nudged apart so that lines ending together stay readable
        end_x, end_y = points[-1]
        label_y = end_y + 4
        while any(abs(label_y - taken) < 12 for taken in label_slots):
            label_y += 12
        label_slots.append(label_y)
        if abs(label_y - 4 - end_y) > 3:
            # a label pushed away from its line's end gets a leader back to it
            parts.append(f'<polyline class="leader" points="{end_x:.1f},{end_y:.1f} '
                         f'{end_x + 6:.1f},{label_y - 4:.1f} {end_x + 10:.1f},{label_y - 4:.1f}" '
                         f'stroke="{colour}"/>')
        parts.append(f'<text class="series-label" x="{LEFT + plot_w + 12}" y="{label_y:.1f}" '
                     f'fill="{colour}">{escape(series.label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def activity_axis(values_bq: Sequence[float]) -> tuple[float, str]:
    """The SI prefix that suits the largest activity: (divisor, unit)."""
    factor, prefix = si_prefix(max((v for v in values_bq if v), default=1.0))
    return factor, f"{prefix}Bq"
