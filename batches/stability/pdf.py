"""The stability summary of a product as a PDF for the product file (pure: plain values in,
bytes out): the study's protocol, the supported and approved shelf life, and per criterion
the ICH Q1E model with the same chart as the page (lots' results, limit, fitted line(s),
one-sided 95 % bound, estimate)."""

import io
import math
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table

from batches.pdf.fonts import register_fonts
from batches.pdf.page import CELL_FONT

COLOURS = [colors.HexColor(c) for c in ("#0b4f8a", "#b3590e", "#0a7a5a", "#9b3d7a",
                                         "#6b5a00", "#3b3b3b")]
LIMIT = colors.HexColor("#b00020")


@dataclass(frozen=True)
class CriterionChart:
    name: str
    unit: str
    limit_text: str
    model: str  # "pooled", "common_slope", "separate", or a sentence for text / no data
    observed_h: float | None
    statistical_h: float | None
    shelf_life_h: float | None
    reason: str = ""
    limits: tuple[float, ...] = ()
    points: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    curve_times_h: tuple[float, ...] = ()
    curves: dict[str, dict[str, tuple[float, ...]]] = field(default_factory=dict)


@dataclass(frozen=True)
class StabilitySummary:
    product: str
    protocol: str
    approved_h: float
    supported_h: float | None
    reason: str
    lots: tuple[str, ...]
    criteria: tuple[CriterionChart, ...]
    printed_at: str


def _h(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g} h"


def nice_step(span: float, ticks: int = 6) -> float:
    """A round axis step (1, 2, 2.5 or 5 x a power of ten) giving about `ticks` ticks."""
    raw = max(span, 1e-9) / ticks
    base = 10 ** math.floor(math.log10(raw))
    return next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= raw)


def _chart(c: CriterionChart, font: str, width: float) -> Drawing:
    height = 150.0
    d = Drawing(width, height, initialFontName=font)
    x0, y0, w, h = 44.0, 28.0, width - 44.0 - 92.0, height - 28.0 - 10.0
    xs = [t for pts in c.points.values() for t, _ in pts] + list(c.curve_times_h[-1:])
    ys = [v for pts in c.points.values() for _, v in pts] + list(c.limits)
    ys += [v for curve in c.curves.values() for v in curve["mean"] + curve["bound"]]
    x_step = nice_step(max(xs + [1e-3]))
    x_max = x_step * math.ceil(max(xs + [1e-3]) / x_step)
    pad = (max(ys) - min(ys)) * 0.08 or 1.0
    y_step = nice_step(max(ys) - min(ys) + 2 * pad, 5)
    y_min = y_step * math.floor((min(ys) - pad) / y_step)
    y_max = y_step * math.ceil((max(ys) + pad) / y_step)

    def px(t: float) -> float:
        return x0 + w * t / x_max

    def py(v: float) -> float:
        return y0 + h * (v - y_min) / (y_max - y_min)

    grey = colors.Color(0.85, 0.85, 0.85)
    tick = y_min
    while tick <= y_max + 1e-9 * y_step:
        d.add(Line(x0, py(tick), x0 + w, py(tick), strokeColor=grey, strokeWidth=0.3))
        d.add(String(x0 - 3, py(tick) - 2, f"{tick:g}", fontName=font, fontSize=6,
                     textAnchor="end"))
        tick += y_step
    tick = 0.0
    while tick <= x_max + 1e-9:
        d.add(String(px(tick), y0 - 9, f"{tick:g}", fontName=font, fontSize=6,
                     textAnchor="middle"))
        tick += x_step
    d.add(Rect(x0, y0, w, h, fillColor=None, strokeColor=colors.black, strokeWidth=0.5))
    d.add(String(x0 + w / 2, 4, "Hours after EOS", fontName=font, fontSize=7,
                 textAnchor="middle"))
    label = Group(String(0, 0, f"{c.name}{f' ({c.unit})' if c.unit else ''}", fontName=font,
                         fontSize=7, textAnchor="middle"))
    label.translate(8, y0 + h / 2)
    label.rotate(90)
    d.add(label)
    for limit in c.limits:
        d.add(Line(x0, py(limit), x0 + w, py(limit), strokeColor=LIMIT, strokeWidth=0.8,
                   strokeDashArray=(4, 2)))
        d.add(String(x0 + 3, py(limit) + 2, f"limit {limit:g}", fontName=font, fontSize=6,
                     fillColor=LIMIT))
    lots = list(c.points)
    for i, lot in enumerate(lots if c.model != "pooled" else lots[:1]):
        curve = c.curves.get(lot)
        if not curve:
            continue
        colour = colors.HexColor("#3b3b3b") if c.model == "pooled" else COLOURS[i % 6]
        for kind, dash in (("mean", None), ("bound", (3, 2))):
            pts = [(px(t), py(v)) for t, v in zip(c.curve_times_h, curve[kind], strict=True)
                   if y_min <= v <= y_max]
            if len(pts) > 1:
                d.add(PolyLine([p for xy in pts for p in xy], strokeColor=colour,
                               strokeWidth=0.9, strokeDashArray=dash))
    for hours, text, row in ((c.statistical_h, "estimate", 0), (c.shelf_life_h, "supported", 1)):
        if hours is not None and hours <= x_max:
            d.add(Line(px(hours), y0, px(hours), y0 + h, strokeColor=colors.black,
                       strokeWidth=0.5, strokeDashArray=(1.5, 1.5)))
            d.add(String(px(hours) + 2, y0 + h - 8 - 8 * row, f"{text} {hours:.3g} h",
                         fontName=font, fontSize=6))
    for i, lot in enumerate(lots):
        colour = COLOURS[i % 6]
        for t, v in c.points[lot]:
            d.add(Circle(px(t), py(v), 1.8, fillColor=colour, strokeColor=None))
        d.add(Circle(x0 + w + 10, y0 + h - 6 - 10 * i, 2, fillColor=colour, strokeColor=None))
        d.add(String(x0 + w + 15, y0 + h - 8 - 10 * i, lot, fontName=font, fontSize=6.5))
    return d


def render_summary(summary: StabilitySummary) -> bytes:
    regular, bold = register_fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=8.5, leading=11)
    head = ParagraphStyle("head", parent=body, fontName=bold, fontSize=13, leading=16)
    sub = ParagraphStyle("sub", parent=body, fontName=bold, fontSize=10, leading=13)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=16 * mm,
                            title=f"Stability summary: {summary.product}",
                            initialFontName=regular)
    width = doc.width

    def para(text: str, style=body) -> Paragraph:
        return Paragraph(escape(text), style)

    supported = (f"{_h(summary.supported_h)} (ICH Q1E)" if summary.supported_h is not None
                 else f"not yet supported by stability data: {summary.reason}")
    story = [para(f"Stability summary: {summary.product}", head), Spacer(0, 4),
             Table([[para("Protocol"), para(summary.protocol)],
                    [para("Approved shelf life"), para(_h(summary.approved_h))],
                    [para("Supported shelf life"), para(supported)],
                    [para("Lots with every result"), para(", ".join(summary.lots) or "none")],
                    [para("Printed"), para(summary.printed_at)]],
                   colWidths=[48 * mm, width - 48 * mm], style=[CELL_FONT]), Spacer(0, 6)]
    for c in summary.criteria:
        facts = (f"Specification {c.limit_text} · model {c.model} · observed support "
                 f"{_h(c.observed_h)} · statistical estimate {_h(c.statistical_h)} · "
                 f"supported {_h(c.shelf_life_h)}" + (f" · {c.reason}" if c.reason else ""))
        block = [para(c.name, sub), para(facts)]
        if c.points and any(c.points.values()):
            block.append(_chart(c, regular, width))
        story.append(KeepTogether(block + [Spacer(0, 6)]))
    story.append(para("Points: results by lot. Solid: fitted line; dashed: one-sided 95 % "
                      "confidence bound of the mean; red: the acceptance limit. Estimate: "
                      "where the bound meets the limit (ICH Q1E, Appendix B)."))
    doc.build(story)
    return buffer.getvalue()
