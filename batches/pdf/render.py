"""Release certificate as PDF: plain data in, PDF bytes out (reportlab platypus).

Printed and read on paper, so: black text, verdicts as words, times in the site zone
and in UTC, long text wraps inside table cells, and the bottom of the last page is
left free for the visible signature stamp (see SIGNATURE_BOX).
"""

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab import rl_config
from reportlab.graphics.charts.axes import LogYValueAxis
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Group, Line, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from batches.pdf import PAGE_MARGIN_BOTTOM, PAGE_MARGIN_TOP, PAGE_MARGIN_X, SIGNATURE_BOX
from batches.pdf.fonts import register_fonts
from qc.units import format_activity, si_prefix

# ASCII85 on top of Flate only makes streams 25 % larger and costs time; PDF readers
# have not needed 7-bit-clean files for decades. (reportlab-wide setting.)
rl_config.useA85 = 0

PaperSize = Literal["A4", "Letter"]
Verdict = Literal["pass", "fail", "pending"]
Disposition = Literal["released", "conditionally released"]

PENDING_CONSEQUENCE = (
    "If a pending test fails, the batch is flagged post-release out of specification "
    "(OOS), the Qualified Person and the receiving clinic are notified at once, and the "
    "batch is recalled."
)


@dataclass(frozen=True)
class GeneratorSource:
    serial: str
    parent_nuclide: str
    eluted_at: datetime
    eluate_activity_bq: float


@dataclass(frozen=True)
class AcSourceLot:
    """A 225Ac source lot; the Ac-227 share is stated at the supplier's reference time."""

    supplier: str
    lot: str
    production_route: str
    ac227_share_percent: float
    reference_time: datetime


@dataclass(frozen=True)
class CriterionRow:
    test: str
    method: str
    specification: str
    result: str  # as measured, with units, or a word ("clear, colourless")
    measured_at: datetime | None
    judged_at_label: str  # "measured", "calibration", "expiry"
    judged_at: datetime | None = None
    judged_value: str | None = None  # decay-corrected or projected value
    verdict: Verdict = "pass"


@dataclass(frozen=True)
class DecayTable:
    times: tuple[datetime, ...]
    activities_bq: Mapping[str, Sequence[float]]  # nuclide ("Ac-225") -> one per time


@dataclass(frozen=True)
class SignatureLine:
    printed_name: str
    role: str  # "Qualified Person"
    meaning: str  # "released", "reviewed"
    signed_at: datetime


@dataclass(frozen=True)
class CertificateData:
    site_name: str
    site_address: str
    product_name: str
    dosage_form: str
    product_nuclide: str  # "Ac-225"
    family_label: str
    lot_number: str
    document_id: str
    version: int
    source: GeneratorSource | AcSourceLot
    eos: datetime
    calibration_time: datetime
    expiry: datetime
    activity_at_calibration_bq: float
    volume_ml: float
    activity_concentration_bq_per_ml: float
    criteria: tuple[CriterionRow, ...]
    decay: DecayTable
    disposition: Disposition
    disposition_statement: str
    signatures: tuple[SignatureLine, ...]
    nuclear_data_source: str
    expiry_reason: str = "approved shelf life"
    supersedes_version: int | None = None
    paper_size: PaperSize = "A4"
    time_zone: str = "UTC"
    pending_tests: tuple[str, ...] = ()
    pending_consequence: str = PENDING_CONSEQUENCE
    half_life_overrides: tuple[str, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------- formatting

_SUPERSCRIPT = str.maketrans("0123456789+-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻")


def nuclide_label(name: str) -> str:
    """'Ac-225' -> '²²⁵Ac'; anything not in that form is returned unchanged."""
    symbol, _, mass = name.partition("-")
    if symbol.isalpha() and mass[:1].isdigit():
        return mass.translate(_SUPERSCRIPT) + symbol
    return name


def format_time(moment: datetime, zone: ZoneInfo) -> str:
    """Site-zone time with the UTC time beside it; the UTC date only when it differs."""
    if moment.tzinfo is None:
        raise ValueError("certificate times must be timezone-aware")
    local = moment.astimezone(zone)
    utc = moment.astimezone(UTC)
    if zone.key in ("UTC", "Etc/UTC"):
        return utc.strftime("%Y-%m-%d %H:%M UTC")
    utc_part = utc.strftime("%H:%M" if utc.date() == local.date() else "%Y-%m-%d %H:%M")
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({utc_part} UTC)"


def _esc(text: str) -> str:
    return escape(text).replace("\n", "<br/>")


# ---------------------------------------------------------------- styles


@dataclass(frozen=True)
class _Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    title: ParagraphStyle
    heading: ParagraphStyle
    banner: ParagraphStyle


def _styles(regular: str, bold: str) -> _Styles:
    body = ParagraphStyle("body", fontName=regular, fontSize=8.5, leading=11)
    return _Styles(
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=7, leading=8.8),
        cell=ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9.2),
        cell_bold=ParagraphStyle("cell_bold", parent=body, fontName=bold, fontSize=7.5,
                                 leading=9.2),
        title=ParagraphStyle("title", parent=body, fontName=bold, fontSize=14, leading=17),
        heading=ParagraphStyle("heading", parent=body, fontName=bold, fontSize=10, leading=13,
                               spaceBefore=8, spaceAfter=3),
        banner=ParagraphStyle("banner", parent=body, fontName=bold, fontSize=12, leading=15,
                              alignment=TA_CENTER),
    )


_GRID = TableStyle([
    ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ("TOPPADDING", (0, 0), (-1, -1), 2),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
])


def _header_row(styles: _Styles) -> list[tuple]:
    # Header cells are plain strings, not Paragraphs: they never wrap, and plain strings
    # draw several times faster.
    return [
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.88, 0.88, 0.88)),
        ("FONT", (0, 0), (-1, 0), styles.cell_bold.fontName, styles.cell_bold.fontSize),
    ]


# ---------------------------------------------------------------- page furniture


def _numbered_canvas(data: CertificateData, regular: str, bold: str, width: float,
                     height: float) -> type[Canvas]:
    """A canvas that defers page furniture until the total page count is known."""
    header_right = f"Lot {data.lot_number} · {data.document_id} version {data.version}"
    signed = "; ".join(
        f"{s.meaning} by {s.printed_name} ({s.role}) "
        f"{s.signed_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        for s in data.signatures
    )

    # A long site name shrinks rather than run into the lot and document id.
    room = width - 2 * PAGE_MARGIN_X - stringWidth(header_right, regular, 8) - 12
    site_font_size = min(9.0, 9.0 * room / stringWidth(data.site_name or " ", bold, 9))
    # The signature table holds them all; the footer repeats what fits in two lines.
    footer_lines = simpleSplit(
        f"Electronic signatures: {signed}." if signed else "Not signed.", regular, 6.5,
        width - 2 * PAGE_MARGIN_X)
    if len(footer_lines) > 2:
        footer_lines = footer_lines[:2]
        footer_lines[1] += " …"
    footer_lines.append(
        "Sealed with the site key (PAdES): verify the PDF signature against the site "
        "certificate. A re-issue is a new version; this version is never overwritten.")

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._saved_pages: list[dict] = []

        def showPage(self):
            self._saved_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._saved_pages)
            for number, state in enumerate(self._saved_pages, start=1):
                self.__dict__.update(state)
                self._furniture(number, total)
                super().showPage()
            super().save()

        def _furniture(self, number: int, total: int) -> None:
            self.saveState()
            self.setFillColor(colors.black)
            self.setStrokeColor(colors.black)
            top = height - 30
            self.setFont(bold, site_font_size)
            self.drawString(PAGE_MARGIN_X, top, data.site_name)
            self.setFont(regular, 8)
            self.drawRightString(width - PAGE_MARGIN_X, top, header_right)
            self.drawRightString(width - PAGE_MARGIN_X, top - 11, f"page {number} of {total}")
            self.drawString(PAGE_MARGIN_X, top - 11, "Certificate of analysis and batch release")
            self.setLineWidth(0.6)
            self.line(PAGE_MARGIN_X, top - 16, width - PAGE_MARGIN_X, top - 16)
            self.setLineWidth(0.4)
            self.line(PAGE_MARGIN_X, PAGE_MARGIN_BOTTOM - 10, width - PAGE_MARGIN_X,
                      PAGE_MARGIN_BOTTOM - 10)
            self.setFont(regular, 6.5)
            y = PAGE_MARGIN_BOTTOM - 19
            for line in footer_lines:
                self.drawString(PAGE_MARGIN_X, y, line)
                y -= 8.5
            self.restoreState()

    return NumberedCanvas


class _SignatureSpace(Flowable):
    """Takes the rest of the last page so the signer's stamp lands on empty paper."""

    def __init__(self, caption: Paragraph):
        super().__init__()
        self.caption = caption
        self.needed = SIGNATURE_BOX[3] - PAGE_MARGIN_BOTTOM + 4

    def wrap(self, availWidth, availHeight):
        self.width = availWidth
        self.height = availHeight if availHeight >= self.needed else self.needed
        return availWidth, self.height

    def draw(self):
        left = SIGNATURE_BOX[2] - PAGE_MARGIN_X + 10
        _, caption_height = self.caption.wrap(self.width - left, self.needed)
        self.caption.drawOn(self.canv, left, SIGNATURE_BOX[3] - PAGE_MARGIN_BOTTOM - caption_height)


# ---------------------------------------------------------------- sections


def _key_value_table(rows: list[tuple[str, str]], styles: _Styles, width: float) -> Table:
    """Two key/value pairs per line; keys bold."""
    cells = []
    for i in range(0, len(rows), 2):
        line = []
        for key, value in rows[i:i + 2]:
            line += [Paragraph(_esc(key), styles.cell_bold), Paragraph(value, styles.cell)]
        line += [""] * (4 - len(line))
        cells.append(line)
    table = Table(cells, colWidths=[width * 0.15, width * 0.35, width * 0.15, width * 0.35])
    table.setStyle(_GRID)
    return table


def _identity_rows(data: CertificateData, zone: ZoneInfo) -> list[tuple[str, str]]:
    return [
        ("Product", _esc(data.product_name)),
        ("Lot", f"<b>{_esc(data.lot_number)}</b>"),
        ("Dosage form", _esc(data.dosage_form)),
        ("Nuclide", _esc(nuclide_label(data.product_nuclide))),
        ("Product family", _esc(data.family_label)),
        ("Manufacturing site", _esc(f"{data.site_name}, {data.site_address}")),
        ("End of synthesis (EOS)", format_time(data.eos, zone)),
        ("Calibration time", format_time(data.calibration_time, zone)),
        ("Expiry", f"{format_time(data.expiry, zone)}<br/>{_esc(data.expiry_reason)}"),
        ("Activity at calibration", format_activity(data.activity_at_calibration_bq)),
        ("Volume", f"{data.volume_ml:.2f} mL"),
        ("Activity concentration at calibration",
         format_activity(data.activity_concentration_bq_per_ml, "Bq/mL")),
    ]


def _source_rows(source: GeneratorSource | AcSourceLot, zone: ZoneInfo) -> list[tuple[str, str]]:
    if isinstance(source, GeneratorSource):
        return [
            ("Generator serial", _esc(source.serial)),
            ("Parent nuclide", _esc(nuclide_label(source.parent_nuclide))),
            ("Eluted at", format_time(source.eluted_at, zone)),
            ("Eluate activity", format_activity(source.eluate_activity_bq)),
        ]
    return [
        ("Supplier", _esc(source.supplier)),
        ("Source lot", _esc(source.lot)),
        ("Production route", _esc(source.production_route)),
        (f"{nuclide_label('Ac-227')}/{nuclide_label('Ac-225')} share",
         f"{source.ac227_share_percent:.3g} % at {format_time(source.reference_time, zone)}"),
    ]


_VERDICT_WORDS = {"pass": "PASS", "fail": "FAIL", "pending": "PENDING"}


def _criteria_table(criteria: Sequence[CriterionRow], styles: _Styles, zone: ZoneInfo,
                    width: float) -> Table:
    rows: list[list] = [
        ["Test / method", "Specification", "Result as measured", "Judged at", "Verdict"]]
    for c in criteria:
        measured = _esc(c.result)
        if c.measured_at is not None:
            measured += f"<br/><font size=6.5>{format_time(c.measured_at, zone)}</font>"
        judged = _esc(c.judged_at_label)
        if c.judged_at is not None:
            judged += f"<br/><font size=6.5>{format_time(c.judged_at, zone)}</font>"
        if c.judged_value:
            judged += f"<br/>{_esc(c.judged_value)}"
        rows.append([
            Paragraph(f"<b>{_esc(c.test)}</b><br/><font size=6.5>{_esc(c.method)}</font>",
                      styles.cell),
            Paragraph(_esc(c.specification), styles.cell),
            Paragraph(measured, styles.cell),
            Paragraph(judged, styles.cell),
            _VERDICT_WORDS[c.verdict],
        ])
    fractions = (0.25, 0.19, 0.22, 0.24, 0.10)
    table = Table(rows, colWidths=[width * f for f in fractions], repeatRows=1)
    table.setStyle(_GRID)
    table.setStyle(TableStyle(_header_row(styles) + [
        ("FONT", (4, 1), (4, -1), styles.cell_bold.fontName, styles.cell.fontSize),
    ]))
    return table


def _decay_table(decay: DecayTable, styles: _Styles, zone: ZoneInfo, width: float) -> Table:
    nuclides = list(decay.activities_bq)
    header = [Paragraph("Time", styles.cell_bold)] + [
        Paragraph(f"{_esc(nuclide_label(n))} activity", styles.cell_bold) for n in nuclides]
    rows: list[list] = [header]
    for i, moment in enumerate(decay.times):
        rows.append([format_time(moment, zone)] + [
            format_activity(decay.activities_bq[n][i]) for n in nuclides])
    time_width = width * 0.34
    other = (width - time_width) / max(1, len(nuclides))
    table = Table(rows, colWidths=[time_width] + [other] * len(nuclides), repeatRows=1)
    table.setStyle(_GRID)
    table.setStyle(TableStyle(_header_row(styles) + [
        ("FONT", (0, 1), (-1, -1), styles.cell.fontName, styles.cell.fontSize),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
    ]))
    return table


# Dark, distinguishable in greyscale; dashes tell lines apart on a black-only printer.
_LINE_STYLES = (
    (colors.black, None),
    (colors.Color(0.1, 0.25, 0.6), (4, 2)),
    (colors.Color(0.6, 0.1, 0.1), (1, 2)),
    (colors.Color(0.1, 0.45, 0.1), (6, 2, 1, 2)),
    (colors.Color(0.4, 0.2, 0.5), (2, 2)),
    (colors.Color(0.35, 0.35, 0.35), (8, 3)),
)


def _time_unit(span_hours: float) -> tuple[str, float]:
    if span_hours <= 3:
        return "min", 60.0
    if span_hours <= 96:
        return "h", 1.0
    return "d", 1 / 24


def _nice_step(span: float, target_ticks: int = 6) -> float:
    raw = span / target_ticks
    base = 10 ** math.floor(math.log10(raw))
    return next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= raw)


def _decay_chart(data: CertificateData, regular: str, zone: ZoneInfo, width: float) -> Drawing:
    decay = data.decay
    height = 170.0
    drawing = Drawing(width, height)
    hours = [(t - data.eos).total_seconds() / 3600 for t in decay.times]
    marks = {"cal.": data.calibration_time, "expiry": data.expiry}
    span_hours = max(hours + [(t - data.eos).total_seconds() / 3600 for t in marks.values()])
    unit, per_hour = _time_unit(span_hours)
    xs = [h * per_hour for h in hours]
    x_min = min([0.0, *xs])
    x_max = max(span_hours * per_hour, x_min + 1e-9)

    positive = [a for series in decay.activities_bq.values() for a in series if a > 0]
    top = max(positive, default=1.0)
    bottom = min(positive, default=1.0)
    log_scale = top / bottom > 50

    plot = LinePlot()
    plot.x, plot.y = 52, 38
    plot.width, plot.height = width - plot.x - 118, height - plot.y - 14
    if log_scale:
        y_min = 10 ** math.floor(math.log10(max(bottom, top * 1e-7)))
        y_max = 10 ** math.ceil(math.log10(top))
        plot.yValueAxis = LogYValueAxis()
        plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = y_min, y_max
        decades = range(round(math.log10(y_min)), round(math.log10(y_max)) + 1)
        plot.yValueAxis.valueSteps = [10.0**d for d in decades]
        plot.yValueAxis.labelTextFormat = lambda v: format_activity(v, digits=1)
        scale, y_title = 1.0, "Activity (log scale)"
        series = [[(x, a) for x, a in zip(xs, values, strict=True) if a >= y_min]
                  for values in decay.activities_bq.values()]
    else:
        scale, prefix = si_prefix(top)
        y_title = f"Activity ({prefix}Bq)"
        plot.yValueAxis.valueMin = 0
        plot.yValueAxis.valueMax = top / scale * 1.08
        plot.yValueAxis.valueStep = _nice_step(top / scale * 1.08)
        plot.yValueAxis.labelTextFormat = "%g"
        series = [[(x, a / scale) for x, a in zip(xs, values, strict=True)]
                  for values in decay.activities_bq.values()]
    plot.data = [s or [(0, plot.yValueAxis.valueMin)] for s in series]
    step = _nice_step(x_max - x_min)
    plot.xValueAxis.valueMin = math.floor(x_min / step) * step
    plot.xValueAxis.valueMax = math.ceil(x_max / step) * step
    plot.xValueAxis.valueStep = step
    plot.xValueAxis.labelTextFormat = "%g"
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName, axis.labels.fontSize = regular, 6.5
        axis.strokeColor = colors.black
    plot.yValueAxis.visibleGrid = True
    plot.yValueAxis.gridStrokeColor = colors.Color(0.8, 0.8, 0.8)
    plot.yValueAxis.gridStrokeWidth = 0.3
    for i, _ in enumerate(series):
        colour, dash = _LINE_STYLES[i % len(_LINE_STYLES)]
        plot.lines[i].strokeColor = colour
        plot.lines[i].strokeWidth = 1.2
        if dash:
            plot.lines[i].strokeDashArray = dash
    drawing.add(plot)

    x_start, x_end = plot.xValueAxis.valueMin, plot.xValueAxis.valueMax
    for label, moment in marks.items():
        x_value = (moment - data.eos).total_seconds() / 3600 * per_hour
        x_pos = plot.x + (x_value - x_start) / (x_end - x_start) * plot.width
        drawing.add(Line(x_pos, plot.y, x_pos, plot.y + plot.height, strokeWidth=0.5,
                         strokeDashArray=(2, 2), strokeColor=colors.black))
        drawing.add(String(x_pos, plot.y + plot.height + 3, label, fontName=regular,
                           fontSize=6.5, textAnchor="middle"))

    drawing.add(String(plot.x + plot.width / 2, 6,
                       f"Time after EOS ({unit}); EOS = {_plain_time(data.eos, zone)}",
                       fontName=regular, fontSize=7, textAnchor="middle"))
    y_label = Group(String(0, 0, y_title, fontName=regular, fontSize=7, textAnchor="middle"))
    y_label.translate(8, plot.y + plot.height / 2)
    y_label.rotate(90)
    drawing.add(y_label)

    legend_x = plot.x + plot.width + 14
    for i, nuclide in enumerate(decay.activities_bq):
        colour, dash = _LINE_STYLES[i % len(_LINE_STYLES)]
        y_pos = plot.y + plot.height - 6 - i * 14
        drawing.add(Line(legend_x, y_pos + 2.5, legend_x + 22, y_pos + 2.5, strokeColor=colour,
                         strokeWidth=1.2, strokeDashArray=dash))
        drawing.add(String(legend_x + 27, y_pos, nuclide_label(nuclide), fontName=regular,
                           fontSize=8.5))
    return drawing


def _plain_time(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    utc = moment.astimezone(UTC)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} / {utc:%H:%M} UTC"


def _signature_table(data: CertificateData, styles: _Styles, zone: ZoneInfo,
                     width: float) -> Table:
    rows: list[list] = [["Printed name", "Role", "Meaning of signature", "Signed at"]]
    for s in data.signatures:
        rows.append([Paragraph(_esc(s.printed_name), styles.cell),
                     Paragraph(_esc(s.role), styles.cell),
                     Paragraph(_esc(s.meaning), styles.cell),
                     format_time(s.signed_at, zone)])
    table = Table(rows, colWidths=[width * f for f in (0.28, 0.22, 0.2, 0.3)])
    table.setStyle(_GRID)
    table.setStyle(TableStyle(_header_row(styles) + [
        ("FONT", (3, 1), (3, -1), styles.cell.fontName, styles.cell.fontSize),
    ]))
    return table


def _pending_box(data: CertificateData, styles: _Styles, width: float) -> Table:
    items = "".join(f"<br/>• {_esc(t)}" for t in data.pending_tests)
    text = Paragraph(
        f"<b>Conditional release: results pending</b>{items}<br/><br/>"
        f"{_esc(data.pending_consequence)}",
        styles.body,
    )
    box = Table([[text]], colWidths=[width])
    box.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 1.5, colors.black),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
    ]))
    return box


def _story(data: CertificateData, styles: _Styles, regular: str, zone: ZoneInfo,
           width: float) -> list[Flowable]:
    version = f"Version {data.version}"
    if data.supersedes_version is not None:
        version += f"; supersedes version {data.supersedes_version}"
    banner = Table([[Paragraph(_esc(data.disposition.upper()), styles.banner)]],
                   colWidths=[width * 0.5])
    banner.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.5, colors.black)]))

    story: list[Flowable] = [
        Paragraph("Certificate of analysis and batch release", styles.title),
        Paragraph(f"{_esc(data.document_id)} · {_esc(version)} · "
                  f"times in {_esc(data.time_zone)} with UTC in brackets", styles.small),
        Spacer(1, 6),
        banner,
        Spacer(1, 4),
        Paragraph(_esc(data.disposition_statement), styles.body),
    ]
    if data.pending_tests:
        story += [Spacer(1, 6), _pending_box(data, styles, width)]
    story += [
        Paragraph("Batch", styles.heading),
        _key_value_table(_identity_rows(data, zone), styles, width),
        Paragraph("Source", styles.heading),
        _key_value_table(_source_rows(data.source, zone), styles, width),
        Paragraph("Results against specification", styles.heading),
        _criteria_table(data.criteria, styles, zone, width),
    ]
    if data.decay.times and data.decay.activities_bq:
        story += [
            KeepTogether([
                Paragraph("Decay to expiry", styles.heading),
                _decay_chart(data, regular, zone, width),
            ]),
            Spacer(1, 4),
            _decay_table(data.decay, styles, zone, width),
        ]
    data_note = f"Nuclear data: {_esc(data.nuclear_data_source)}."
    if data.half_life_overrides:
        data_note += " Half-life overrides: " + "; ".join(
            _esc(o) for o in data.half_life_overrides) + "."
    signatures = [Paragraph("Signatures", styles.heading),
                  _signature_table(data, styles, zone, width), Spacer(1, 6)]
    signatures_height = sum(f.wrap(width, 10_000)[1] + f.getSpaceBefore() for f in signatures)
    story += [
        Spacer(1, 3),
        Paragraph(data_note, styles.small),
        # The signatures move to the last page with the stamp rather than leave it bare.
        CondPageBreak(signatures_height + SIGNATURE_BOX[3] - PAGE_MARGIN_BOTTOM + 4),
        *signatures,
        _SignatureSpace(Paragraph(
            "◂ Site signature (PAdES): it seals this document. Verify it in a PDF reader "
            "against the site certificate; a printout shows only its appearance.",
            styles.small)),
    ]
    return story


def render_certificate(data: CertificateData) -> bytes:
    regular, bold = register_fonts()
    styles = _styles(regular, bold)
    zone = ZoneInfo(data.time_zone)
    page_width, page_height = {"A4": A4, "Letter": LETTER}[data.paper_size]
    width = page_width - 2 * PAGE_MARGIN_X

    out = io.BytesIO()
    doc = BaseDocTemplate(
        out,
        pagesize=(page_width, page_height),
        leftMargin=PAGE_MARGIN_X,
        rightMargin=PAGE_MARGIN_X,
        topMargin=PAGE_MARGIN_TOP,
        bottomMargin=PAGE_MARGIN_BOTTOM,
        title=f"Certificate {data.document_id} v{data.version}: lot {data.lot_number}",
        author=data.site_name,
        subject=f"{data.product_name}, lot {data.lot_number}",
        creator="alpharelease",
    )
    frame = Frame(PAGE_MARGIN_X, PAGE_MARGIN_BOTTOM, width,
                  page_height - PAGE_MARGIN_TOP - PAGE_MARGIN_BOTTOM,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(_story(data, styles, regular, zone, width),
              canvasmaker=_numbered_canvas(data, regular, bold, page_width, page_height))
    return out.getvalue()
