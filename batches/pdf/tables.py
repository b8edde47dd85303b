"""The certificate's tables: batch identity, source, results against specification, decay
table, signatures, and the box listing pending tests."""

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.platypus import Paragraph, Table, TableStyle

from batches.pdf.data import (
    AcSourceLot,
    CertificateData,
    CriterionRow,
    DecayTable,
    GeneratorSource,
)
from batches.pdf.page import CELL_FONT, GRID, Styles, header_row
from batches.pdf.text import esc, format_time, nuclide_label
from qc.formatting import format_activity

# ---------------------------------------------------------------- sections


def key_value_table(rows: list[tuple[str, str]], styles: Styles, width: float) -> Table:
    """Two key/value pairs per line; keys bold."""
    cells = []
    for i in range(0, len(rows), 2):
        line = []
        for key, value in rows[i:i + 2]:
            line += [Paragraph(esc(key), styles.cell_bold), Paragraph(value, styles.cell)]
        line += [""] * (4 - len(line))
        cells.append(line)
    table = Table(cells, colWidths=[width * 0.15, width * 0.35, width * 0.15, width * 0.35])
    table.setStyle(GRID)
    return table


def identity_rows(data: CertificateData, zone: ZoneInfo) -> list[tuple[str, str]]:
    return [
        ("Product", esc(data.product_name)),
        ("Lot", f"<b>{esc(data.lot_number)}</b>"),
        ("Dosage form", esc(data.dosage_form)),
        ("Nuclide", esc(nuclide_label(data.product_nuclide))),
        ("Product family", esc(data.family_label)),
        ("Manufacturing site", esc(f"{data.site_name}, {data.site_address}")),
        ("End of synthesis (EOS)", format_time(data.eos, zone)),
        ("Calibration time", format_time(data.calibration_time, zone)),
        ("Expiry", f"{format_time(data.expiry, zone)}<br/>{esc(data.expiry_reason)}"
         + (f"<br/>{esc(data.shelf_life_support)}" if data.shelf_life_support else "")),
        ("Activity at calibration", format_activity(data.activity_at_calibration_bq)),
        ("Volume", f"{data.volume_ml:.2f} mL"),
        ("Activity concentration at calibration",
         format_activity(data.activity_concentration_bq_per_ml, "Bq/mL")),
    ]


def source_rows(source: GeneratorSource | AcSourceLot, zone: ZoneInfo) -> list[tuple[str, str]]:
    if isinstance(source, GeneratorSource):
        return [
            ("Generator serial", esc(source.serial)),
            ("Parent nuclide", esc(nuclide_label(source.parent_nuclide))),
            ("Eluted at", format_time(source.eluted_at, zone)),
            ("Eluate activity", format_activity(source.eluate_activity_bq)),
        ]
    return [
        ("Supplier", esc(source.supplier)),
        ("Source lot", esc(source.lot)),
        ("Production route", esc(source.production_route)),
        (f"{nuclide_label('Ac-227')}/{nuclide_label('Ac-225')} share",
         f"{source.ac227_share_percent:.3g} % at {format_time(source.reference_time, zone)}"),
    ]


VERDICT_WORDS = {"pass": "PASS", "fail": "FAIL", "pending": "PENDING"}


def criteria_table(criteria: Sequence[CriterionRow], styles: Styles, zone: ZoneInfo,
                    width: float) -> Table:
    rows: list[list] = [
        ["Test / method", "Specification", "Result as measured", "Judged at", "Verdict"]]
    for c in criteria:
        measured = esc(c.result)
        if c.measured_at is not None:
            measured += f"<br/><font size=6.5>{format_time(c.measured_at, zone)}</font>"
        # A pending test has been judged at no time yet.
        judged = "pending" if c.verdict == "pending" else esc(c.judged_at_label)
        if c.judged_at is not None and c.verdict != "pending":
            judged += f"<br/><font size=6.5>{format_time(c.judged_at, zone)}</font>"
        if c.judged_value and c.verdict != "pending":
            judged += f"<br/>{esc(c.judged_value)}"
        rows.append([
            Paragraph(f"<b>{esc(c.test)}</b><br/><font size=6.5>{esc(c.method)}</font>",
                      styles.cell),
            Paragraph(esc(c.specification), styles.cell),
            Paragraph(measured, styles.cell),
            Paragraph(judged, styles.cell),
            VERDICT_WORDS[c.verdict],
        ])
    fractions = (0.25, 0.19, 0.22, 0.24, 0.10)
    table = Table(rows, colWidths=[width * f for f in fractions], repeatRows=1)
    table.setStyle(GRID)
    table.setStyle(TableStyle(header_row(styles) + [
        ("FONT", (4, 1), (4, -1), styles.cell_bold.fontName, styles.cell.fontSize),
    ]))
    return table


def decay_table(decay: DecayTable, styles: Styles, zone: ZoneInfo, width: float) -> Table:
    nuclides = list(decay.activities_bq)
    header = [Paragraph("Time", styles.cell_bold)] + [
        Paragraph(f"{esc(nuclide_label(n))} activity", styles.cell_bold) for n in nuclides]
    rows: list[list] = [header]
    for i, moment in enumerate(decay.times):
        rows.append([format_time(moment, zone)] + [
            format_activity(decay.activities_bq[n][i]) for n in nuclides])
    time_width = width * 0.37  # fits a UTC time that falls on another date
    other = (width - time_width) / max(1, len(nuclides))
    table = Table(rows, colWidths=[time_width] + [other] * len(nuclides), repeatRows=1)
    table.setStyle(GRID)
    table.setStyle(TableStyle(header_row(styles) + [
        ("FONT", (0, 1), (-1, -1), styles.cell.fontName, styles.cell.fontSize),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
    ]))
    return table


def signature_table(data: CertificateData, styles: Styles, zone: ZoneInfo,
                     width: float) -> Table:
    rows: list[list] = [["Printed name", "Role", "Meaning of signature", "Signed at"]]
    for s in data.signatures:
        rows.append([Paragraph(esc(s.printed_name), styles.cell),
                     Paragraph(esc(s.role), styles.cell),
                     Paragraph(esc(s.meaning), styles.cell),
                     format_time(s.signed_at, zone)])
    table = Table(rows, colWidths=[width * f for f in (0.28, 0.22, 0.2, 0.3)])
    table.setStyle(GRID)
    table.setStyle(TableStyle(header_row(styles) + [
        ("FONT", (3, 1), (3, -1), styles.cell.fontName, styles.cell.fontSize),
    ]))
    return table


def pending_box(data: CertificateData, styles: Styles, width: float) -> Table:
    items = "".join(f"<br/>• {esc(t)}" for t in data.pending_tests)
    text = Paragraph(
        f"<b>Conditional release: results pending</b>{items}<br/><br/>"
        f"{esc(data.pending_consequence)}",
        styles.body,
    )
    box = Table([[text]], colWidths=[width])
    box.setStyle(TableStyle([
        CELL_FONT,
        ("BOX", (0, 0), (-1, -1), 1.5, colors.black),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
    ]))
    return box
