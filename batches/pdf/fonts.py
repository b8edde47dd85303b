"""DejaVu Sans for reportlab, found inside the matplotlib wheel.

matplotlib is a dependency (through radioactivedecay) and ships DejaVu Sans, so the
certificate gets an embedded Unicode font (superscripts, β⁻, ≥, µ) on any machine with
only pip packages. We locate the files without importing matplotlib, which is slow.
"""

import importlib.util
from functools import cache
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"


def font_dir() -> Path:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib is not installed; it provides the DejaVu Sans font")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "mpl-data" / "fonts" / "ttf"
        if (candidate / f"{REGULAR}.ttf").is_file():
            return candidate
    raise RuntimeError("DejaVu Sans not found in the matplotlib package")


@cache
def register_fonts() -> tuple[str, str]:
    """Register DejaVu Sans (regular and bold) once per process; return their names."""
    directory = font_dir()
    pdfmetrics.registerFont(TTFont(REGULAR, str(directory / f"{REGULAR}.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(directory / f"{BOLD}.ttf")))
    # Lets <b> inside Paragraph markup pick the bold face.
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, REGULAR)
    addMapping(REGULAR, 1, 1, BOLD)
    return REGULAR, BOLD
