"""Reading PDFs back with poppler, as a reader or printer would."""

import shutil
import subprocess
from pathlib import Path

import pytest


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: install poppler-utils (apt-get install -y "
                    "poppler-utils); the certificate cannot be checked without it")
    return path


def pdf_text(pdf: Path, *args: str) -> str:
    done = subprocess.run([poppler("pdftotext"), *args, str(pdf), "-"], capture_output=True,
                          check=True, text=True)
    return done.stdout


def fonts_not_embedded(pdf: Path) -> set[str]:
    """The fonts `pdffonts` lists as not embedded in `pdf`."""
    done = subprocess.run([poppler("pdffonts"), str(pdf)], capture_output=True, check=True,
                          text=True)
    rows = [line.split() for line in done.stdout.splitlines()[2:]]
    assert rows, f"pdffonts lists no font in {pdf}"
    return {row[0] for row in rows if row[-5] == "no"}
