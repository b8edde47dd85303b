"""Certificate PDF: pure rendering (render.py drawing data.py's plain values with page,
tables, chart and text) and PAdES signing (signing.py).

No Django here: these modules take plain values and return bytes, so they can be
tested and benchmarked without a database. The constants below are the contract
between the renderer, which leaves the space free, and the signer, which puts the
visible signature stamp into it.
"""

# Page geometry in PDF points (1/72 inch), shared by A4 and Letter.
PAGE_MARGIN_X = 42
PAGE_MARGIN_TOP = 62
PAGE_MARGIN_BOTTOM = 56

# Visible signature stamp on the last page: (lower-left x, lower-left y, upper-right x,
# upper-right y), bottom left just above the footer; the renderer writes a caption to
# its right, so the box stays well inside both the Letter and the A4 text width.
SIGNATURE_BOX = (
    PAGE_MARGIN_X, PAGE_MARGIN_BOTTOM + 2, PAGE_MARGIN_X + 330, PAGE_MARGIN_BOTTOM + 62
)
SIGNATURE_FIELD_NAME = "QP-Release"
