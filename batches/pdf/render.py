"""Release certificate as PDF: plain data in, PDF bytes out (reportlab platypus).

Printed and read on paper, so: black text, verdicts as words, times in the site zone
and in UTC, long text wraps inside table cells, and the bottom of the last page is
left free for the visible signature stamp (see SIGNATURE_BOX).
"""

import io
from zoneinfo import ZoneInfo

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
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
from batches.pdf.chart import decay_chart
from batches.pdf.data import (
    AcSourceLot,
    CertificateData,
    CriterionRow,
    DecayTable,
    GeneratorSource,
    SignatureLine,
)
from batches.pdf.fonts import register_fonts
from batches.pdf.page import CELL_FONT, SignatureSpace, Styles, make_styles, numbered_canvas
from batches.pdf.qr import qr_drawing
from batches.pdf.tables import (
    criteria_table,
    decay_table,
    identity_rows,
    key_value_table,
    pending_box,
    signature_table,
    source_rows,
)
from batches.pdf.text import esc

# The data classes are for batches/certificates.py, which imports them from here; new code
# takes them from batches.pdf.data.
__all__ = ["AcSourceLot", "CertificateData", "CriterionRow", "DecayTable", "GeneratorSource",
           "SignatureLine", "render_certificate"]


# ASCII85 on top of Flate only makes streams 25 % larger and costs time; PDF readers
# have not needed 7-bit-clean files for decades. (reportlab-wide setting.)
rl_config.useA85 = 0

QR_SIZE = 64.0  # points: 22.6 mm, comfortably above the ~15 mm a phone camera needs


def _story(data: CertificateData, styles: Styles, regular: str, zone: ZoneInfo,
           width: float) -> list[Flowable]:
    identity = data.document_label
    if data.supersedes_version is not None:
        identity += f" · supersedes version {data.supersedes_version}"
    banner = Table([[Paragraph(esc(data.disposition.upper()), styles.banner)]],
                   colWidths=[width * 0.5])
    banner.setStyle(TableStyle([CELL_FONT, ("BOX", (0, 0), (-1, -1), 1.5, colors.black)]))

    story: list[Flowable] = [
        _title_block(data, styles, width, [
            Paragraph("Certificate of analysis and batch release", styles.title),
            Paragraph(f"{esc(identity)} · times in {esc(data.time_zone)} with UTC in "
                      "brackets", styles.small)]),
        Spacer(1, 6),
        banner,
        Spacer(1, 4),
        Paragraph(esc(data.disposition_statement), styles.body),
    ]
    if data.pending_tests:
        story += [Spacer(1, 6), pending_box(data, styles, width)]
    story += [
        Paragraph("Batch", styles.heading),
        key_value_table(identity_rows(data, zone), styles, width),
        Paragraph("Source", styles.heading),
        key_value_table(source_rows(data.source, zone), styles, width),
        Paragraph("Results against specification", styles.heading),
        criteria_table(data.criteria, styles, zone, width),
    ]
    if data.decay.times and data.decay.activities_bq:
        story += [
            KeepTogether([
                Paragraph("Decay to expiry", styles.heading),
                decay_chart(data, regular, zone, width),
            ]),
            Spacer(1, 4),
            decay_table(data.decay, styles, zone, width),
        ]
    data_note = f"Nuclear data: {esc(data.nuclear_data_source)}."
    if data.half_life_overrides:
        data_note += " Half-life overrides: " + "; ".join(
            esc(o) for o in data.half_life_overrides) + "."
    signatures = [Paragraph("Signatures", styles.heading),
                  signature_table(data, styles, zone, width), Spacer(1, 6)]
    signatures_height = sum(f.wrap(width, 10_000)[1] + f.getSpaceBefore() for f in signatures)
    story += [
        Spacer(1, 3),
        Paragraph(data_note, styles.small),
        # The signatures move to the last page with the stamp rather than leave it bare.
        CondPageBreak(signatures_height + SIGNATURE_BOX[3] - PAGE_MARGIN_BOTTOM + 4),
        *signatures,
        SignatureSpace(Paragraph(
            "◂ Site signature (PAdES): it seals this document. Verify it in a PDF reader "
            "against the site certificate; a printout shows only its appearance.",
            styles.small)),
    ]
    return story


def _title_block(data: CertificateData, styles: Styles, width: float,
                 title: list[Flowable]) -> Flowable:
    """The title, with the QR code to this document's verify page beside it."""
    if not data.verify_url:
        return KeepTogether(title)
    code = qr_drawing(data.verify_url, QR_SIZE)
    caption = Paragraph("Scan to check this certificate on the site's verify page",
                        styles.small)
    block = Table([[title, [code, caption]]], colWidths=[width - QR_SIZE - 12, QR_SIZE + 12])
    block.setStyle(TableStyle([
        CELL_FONT,
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
        ("LEFTPADDING", (1, 0), (1, 0), 12),
    ]))
    return block


def render_certificate(data: CertificateData) -> bytes:
    regular, bold = register_fonts()
    styles = make_styles(regular, bold)
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
        title=f"Certificate {data.document_label}: lot {data.lot_number}",
        author=data.site_name,
        subject=f"{data.product_name}, lot {data.lot_number}",
        creator="alpharelease",
        # The embedded font from the first operator on: no non-embedded Helvetica (reportlab's
        # default initial font) in the file.
        initialFontName=regular,
    )
    frame = Frame(PAGE_MARGIN_X, PAGE_MARGIN_BOTTOM, width,
                  page_height - PAGE_MARGIN_TOP - PAGE_MARGIN_BOTTOM,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(_story(data, styles, regular, zone, width),
              canvasmaker=numbered_canvas(data, regular, bold, page_width, page_height))
    return out.getvalue()
