"""The page: paragraph and table styles, the header and footer drawn on every page once
the page count is known, and the free space the signature stamp lands on."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, TableStyle

from batches.pdf import PAGE_MARGIN_BOTTOM, PAGE_MARGIN_X, SIGNATURE_BOX
from batches.pdf.data import CertificateData
from batches.pdf.fonts import REGULAR
from batches.pdf.text import format_time

# ---------------------------------------------------------------- styles


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    title: ParagraphStyle
    heading: ParagraphStyle
    banner: ParagraphStyle


def make_styles(regular: str, bold: str) -> Styles:
    body = ParagraphStyle("body", fontName=regular, fontSize=8.5, leading=11)
    return Styles(
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


# Every table names the embedded font, so no cell falls back to reportlab's non-embedded
# Helvetica (a cell's default font is set even when its content is a Paragraph).
CELL_FONT = ("FONT", (0, 0), (-1, -1), REGULAR)

GRID = TableStyle([
    CELL_FONT,
    ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ("TOPPADDING", (0, 0), (-1, -1), 2),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
])


def header_row(styles: Styles) -> list[tuple]:
    # Header cells are plain strings, not Paragraphs: they never wrap, and plain strings
    # draw several times faster.
    return [
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.88, 0.88, 0.88)),
        ("FONT", (0, 0), (-1, 0), styles.cell_bold.fontName, styles.cell_bold.fontSize),
    ]


# ---------------------------------------------------------------- page furniture


def numbered_canvas(data: CertificateData, regular: str, bold: str, width: float,
                     height: float) -> type[Canvas]:
    """A canvas that defers page furniture until the total page count is known."""
    header_right = f"Lot {data.lot_number} · {data.document_label}"
    zone = ZoneInfo(data.time_zone)
    signed = [f"{s.meaning} by {s.printed_name} ({s.role}) {format_time(s.signed_at, zone)}"
              for s in data.signatures]

    # A long site name shrinks rather than run into the lot and document id.
    room = width - 2 * PAGE_MARGIN_X - stringWidth(header_right, regular, 8) - 12
    site_font_size = min(9.0, 9.0 * room / stringWidth(data.site_name or " ", bold, 9))
    footer_lines = _signature_footer(signed, regular, width - 2 * PAGE_MARGIN_X)
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


def _signature_footer(signed: list[str], font: str, width: float) -> list[str]:
    """At most two lines, broken between signatures rather than inside a name; when they
    do not all fit, the latest (the release) are shown and the table holds them all."""
    if not signed:
        return ["Not signed."]
    for first in range(len(signed)):
        label = ("Electronic signatures: " if first == 0 else
                 "Latest electronic signatures (all in the signature table): ")
        lines: list[str] = []
        for i, item in enumerate(signed[first:], start=first):
            item = (label if i == first else "") + item
            item += "." if i == len(signed) - 1 else ";"
            joined = f"{lines[-1]} {item}" if lines else item
            if lines and stringWidth(joined, font, 6.5) <= width:
                lines[-1] = joined
            else:
                lines += simpleSplit(item, font, 6.5, width)
        if len(lines) <= 2:
            return lines
    return lines[:2]


class SignatureSpace(Flowable):
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
