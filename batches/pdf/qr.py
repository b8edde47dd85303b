"""The QR code on a certificate: it opens this document's entry on the site's verify page,
so whoever holds the paper can check it with a phone. reportlab's own QR encoder."""

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing

from batches.pdf.fonts import REGULAR


def qr_drawing(url: str, size: float) -> Drawing:
    """A square drawing of ``size`` points holding the QR code of ``url`` (error level M:
    a scuffed or folded printout still scans)."""
    widget = QrCodeWidget(url, barLevel="M", barBorder=2)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0],
                      initialFontName=REGULAR)  # no non-embedded Helvetica in the file
    drawing.add(widget)
    return drawing
