"""Stability data from a CSV file with the columns batch,time_h,value (pure)."""

import csv
import io

from qc.stability.shelf_life import Point

COLUMNS = ("batch", "time_h", "value")


def read_points(text: str) -> list[Point]:
    """Points of a CSV text; every refusal names the line and what to fix."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(name or "").strip() for name in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValueError(f"The CSV lacks the column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)}; its first line must name batch,time_h,value "
                         f"(found: {','.join(header) or 'nothing'}).")
    reader.fieldnames = header
    points = []
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # a blank line
        values = {}
        for column in ("time_h", "value"):
            raw = (row.get(column) or "").strip()
            try:
                values[column] = float(raw)
            except ValueError:
                raise ValueError(f"Line {line}: {column} {raw!r} is not a number.") from None
        batch = (row.get("batch") or "").strip()
        if not batch:
            raise ValueError(f"Line {line}: the batch is empty.")
        points.append(Point(batch, values["time_h"], values["value"]))
    if not points:
        raise ValueError("The CSV has no data lines under its header.")
    return points
