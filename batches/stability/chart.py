"""A criterion of a stability study as an inline SVG (drawn on the server like
batches.web.charts): every batch's results against hours after EOS, the limit, the fitted
line(s), the one-sided 95 % confidence bound and the estimate. Each point's title carries
its radiolysis dose, shown on hover."""

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ..web.charts import COLOURS
from .pdf import nice_step

WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 150, 16, 44
SHAPES = ("circle", "square", "diamond", "triangle")


def _shape(kind: str, x: float, y: float, colour: str, title: str) -> str:
    tip = f"<title>{escape(title)}</title>"
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">{tip}</circle>'
    if kind == "square":
        return (f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" '
                f'fill="{colour}">{tip}</rect>')
    points = ({"diamond": ((0, -5), (5, 0), (0, 5), (-5, 0)),
               "triangle": ((0, -5), (5, 4), (-5, 4))})[kind]
    path = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in points)
    return f'<polygon points="{path}" fill="{colour}">{tip}</polygon>'


def render_study(study, *, unit: str) -> SafeString:
    """`study` is a batches.stability.selectors.CriterionStudy."""
    series = study.series
    if not series:
        return mark_safe("")
    estimate = study.estimate
    xs = [r.after_eos_s / 3600 for rs in series.values() for r in rs]
    end = max(xs + ([estimate.curve_times_h[-1]] if estimate else []) + [1e-3])
    ys = [r.value for rs in series.values() for r in rs if r.value is not None]
    limits = [v for v in (study.criterion.lower_limit, study.criterion.upper_limit)
              if v is not None]
    if estimate:
        ys += [v for c in estimate.curves.values() for v in c["mean"] + c["bound"]]
    ys += limits
    if not ys:
        return mark_safe("")
    low, high = min(ys), max(ys)
    pad = (high - low) * 0.08 or 1.0
    step = nice_step(high - low + 2 * pad)
    y_min = step * math.floor((low - pad) / step)
    y_max = step * math.ceil((high + pad) / step)
    x_step = nice_step(end, 6)
    x_max = x_step * math.ceil(end / x_step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(hours: float) -> float:
        return LEFT + plot_w * hours / x_max

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - y_min) / (y_max - y_min))

    title = f"{study.criterion.name} against time after EOS"
    parts = [f'<svg class="chart stability" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    tick = y_min
    while tick <= y_max + 1e-9 * step:
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}"/><text class="tick" x="{LEFT - 6}" '
                     f'y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
        tick += step
    tick = 0.0
    while tick <= x_max + 1e-9:
        parts.append(f'<line class="grid" x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{TOP}" '
                     f'y2="{TOP + plot_h}"/><text class="tick" x="{x(tick):.1f}" '
                     f'y="{TOP + plot_h + 16}" text-anchor="middle">{tick:g}</text>')
        tick += x_step
    parts.append(f'<text class="axis-label" x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 6}" '
                 'text-anchor="middle">Hours after EOS (hover a point for its radiolysis '
                 'dose)</text>')
    parts.append(f'<text class="axis-label" x="12" y="{TOP + plot_h / 2:.0f}" transform="rotate'
                 f'(-90 12 {TOP + plot_h / 2:.0f})" text-anchor="middle">'
                 f"{escape(study.criterion.name)}{f' ({escape(unit)})' if unit else ''}</text>")
    parts.append(f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}"/>')
    for limit in limits:
        # labelled inside the frame, so the lots' legend on the right stays clear
        parts.append(f'<line class="limit" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(limit):.1f}" '
                     f'y2="{y(limit):.1f}"/><text class="limit-label" x="{LEFT + 4}" '
                     f'y="{y(limit) - 4:.1f}">limit {limit:g}</text>')
    lots = list(series)
    if estimate:
        times = estimate.curve_times_h
        shown = lots[:1] if estimate.model == "pooled" else lots
        for i, lot in enumerate(shown):
            colour = "#3b3b3b" if estimate.model == "pooled" else COLOURS[i % len(COLOURS)]
            curve = estimate.curves[lot]
            for kind, dash in (("mean", ""), ("bound", ' stroke-dasharray="5 3"')):
                path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(times, curve[kind],
                                                                            strict=True)
                                if y_min <= v <= y_max)
                parts.append(f'<polyline class="fit {kind}" points="{path}" stroke="{colour}" '
                             f'fill="none" stroke-width="{1.6 if kind == "mean" else 1.2}"{dash}>'
                             f"<title>{'fitted line' if kind == 'mean' else 'one-sided 95 % bound'}"
                             f"{'' if estimate.model == 'pooled' else ', ' + escape(lot)}</title>"
                             "</polyline>")
        for hours, label in ((study.statistical_s, "estimate"),
                             (study.shelf_life_s, "supported")):
            if hours is not None and hours / 3600 <= x_max:
                mx = x(hours / 3600)
                parts.append(f'<line class="marker" x1="{mx:.1f}" x2="{mx:.1f}" y1="{TOP}" '
                             f'y2="{TOP + plot_h}"/><text class="marker-label" '
                             f'x="{mx + 3:.1f}" y="{TOP + (11 if label == "estimate" else 24)}">'
                             f"{label} {hours / 3600:.3g} h</text>")
    for i, lot in enumerate(lots):
        colour, shape = COLOURS[i % len(COLOURS)], SHAPES[i % len(SHAPES)]
        for r in series[lot]:
            if r.value is None:
                continue
            tip = (f"{lot}, T+{r.time_point.after_eos.total_seconds() / 3600:g} h "
                   f"(pulled {r.after_eos_s / 3600:.2f} h): {r.value:g} {unit}; "
                   f"radiolysis dose {r.dose_gy:.3g} Gy")
            parts.append(_shape(shape, x(r.after_eos_s / 3600), y(r.value), colour, tip))
        parts.append(f'<text class="series-label" x="{LEFT + plot_w + 12}" '
                     f'y="{TOP + 40 + 14 * i}" fill="{colour}">{escape(lot)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
