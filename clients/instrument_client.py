#!/usr/bin/env python3
"""Post an instrument's CSV export to alpharelease, safely.

Standard library only, so it runs on the instrument PC as it is. Every row gets an
Idempotency-Key derived from its content, so re-running the same export, or retrying after
a timeout, never stores a result twice; timeouts, dropped connections, 429 and 5xx answers
are retried with exponential backoff. Refusals (4xx) are not retried: they are printed with
the server's reason, field by field.

    export ALPHARELEASE_API_KEY=ark_...           # from `manage.py instrument_key SERIAL`
    python instrument_client.py --url https://qc.example.org dose_calibrator_log.csv
    python instrument_client.py --url ... --bulk tlc_scanner_report.csv

CSV columns (header row required):
    lot_number, test_code          which batch and which test of its specification
    value, unit                    a number and its unit (Bq, kBq, MBq, GBq, uCi, mCi, Ci, %,
                                   EU/mL, pH; MBq/mL etc.), or leave value empty and give
    value_text                     a text result (e.g. "conforms")
    measured_at                    ISO 8601 with UTC offset, e.g. 2026-11-22T09:30:00+01:00
    <name>_at                      any other *_at column is a method time, e.g. developed_at
    counting_window                optional: product_line or wide, for a strip whose test
                                   needs it (212Pb radio-TLC)
    raw_data                       optional path (relative to the CSV) of a raw data file;
                                   rows with a file are sent one by one as multipart
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import http.client
import json
import os
import random
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib import error, request

RESULT_FIELDS = ("lot_number", "test_code", "value", "unit", "value_text", "measured_at",
                 "counting_window")
BULK_LIMIT = 500
RETRY_STATUSES = {429, 500, 502, 503, 504}


# A JSON number as the export may write it: '96.10', '17', '-0.5', '3.7e7'.
_JSON_NUMBER = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$")


class Number(str):
    """A value as the export wrote it ('96.10', '17'): sent as a JSON number with exactly
    those digits, which are its precision (a float would send 17 as '17.0' and 96.10 as
    '96.1')."""


def dumps(data) -> str:
    """JSON with every Number written as the number it spells."""
    numbers: list[str] = []

    def mark(value):
        if isinstance(value, Number):
            numbers.append(str(value))
            return f"\x00{len(numbers) - 1}\x00"
        if isinstance(value, dict):
            return {key: mark(item) for key, item in value.items()}
        if isinstance(value, list):
            return [mark(item) for item in value]
        return value

    text = json.dumps(mark(data))
    return re.sub(r'"\\u0000(\d+)\\u0000"', lambda m: numbers[int(m.group(1))], text)


def _float_or_text(text: str) -> float | str:
    """A number JSON does not spell ('+7', '.5') as a float; anything else as text, which the
    server refuses naming the field and the problem."""
    try:
        return float(text)
    except ValueError:
        return text


def _as_floats(value):
    """The payload as earlier versions of this client sent it (numbers as floats), so that a
    row keeps its Idempotency-Key across an upgrade of the client."""
    if isinstance(value, Number):
        return float(value)
    if isinstance(value, dict):
        return {key: _as_floats(item) for key, item in value.items()}
    return value


class Refused(Exception):
    """The server refused the request (4xx): retrying the same data cannot help."""

    def __init__(self, status: int, problem: dict):
        self.status = status
        self.problem = problem
        super().__init__(f"{status} {problem.get('detail', '')}")


class GaveUp(Exception):
    """Every attempt failed with a transient error."""


@dataclass
class Row:
    line: int
    payload: dict
    raw_data: Path | None = None

    @property
    def idempotency_key(self) -> str:
        """The same row always gets the same key, so a re-run is recognised as a retry."""
        content = json.dumps(_as_floats(self.payload), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(content.encode())
        if self.raw_data is not None:
            digest.update(hashlib.sha256(self.raw_data.read_bytes()).digest())
        return "row-" + digest.hexdigest()[:48]


@dataclass
class Outcome:
    stored: list[tuple[int, dict]] = field(default_factory=list)
    replayed: list[tuple[int, dict]] = field(default_factory=list)
    refused: list[tuple[int, int, dict]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused


def read_csv(path: Path, *, rebase_to: datetime | None = None) -> list[Row]:
    """Rows of an export. `rebase_to` shifts every time so the latest measured_at becomes that
    instant, keeping the intervals (for replaying an example file against a demo site)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        records = list(csv.DictReader(f))
    shift = timedelta(0)
    if rebase_to is not None and records:
        latest = max(datetime.fromisoformat(r["measured_at"]) for r in records)
        shift = rebase_to - latest
    rows = []
    for line, record in enumerate(records, start=2):
        payload: dict = {}
        method_times = {}
        for name, raw in record.items():
            text = (raw or "").strip()
            if not name or not text:
                continue
            if name.endswith("_at"):
                when = (datetime.fromisoformat(text) + shift).isoformat() if shift else text
                if name == "measured_at":
                    payload[name] = when
                else:
                    method_times[name] = when
            elif name == "value":
                payload["value"] = Number(text) if _JSON_NUMBER.match(text) else \
                    _float_or_text(text)
            elif name in RESULT_FIELDS:
                payload[name] = text
        if method_times:
            payload["method_times"] = method_times
        raw_data = path.parent / record["raw_data"] if (record.get("raw_data") or "").strip() \
            else None
        rows.append(Row(line=line, payload=payload, raw_data=raw_data))
    return rows


def _multipart(fields: dict, file_field: str, file_path: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        text = json.dumps(value) if isinstance(value, dict) else str(value)
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{text}\r\n".encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
                 f'filename="{file_path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                 .encode() + file_path.read_bytes() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class InstrumentClient:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = 10.0,
                 retries: int = 6, backoff: float = 0.5, max_backoff: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep, log=print):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.log = log

    def send(self, method: str, path: str, body: bytes, content_type: str,
             idempotency_key: str) -> tuple[int, dict, dict]:
        """One HTTP exchange: (status, headers, parsed body). Raises on network errors."""
        req = request.Request(self.base_url + path, data=body, method=method, headers={
            "Authorization": f"Bearer {self.api_key}", "Content-Type": content_type,
            "Accept": "application/json", "Idempotency-Key": idempotency_key})
        try:
            with request.urlopen(req, timeout=self.timeout) as response:
                return response.status, dict(response.headers), json.loads(response.read())
        except error.HTTPError as exc:
            payload = exc.read()
            try:
                parsed = json.loads(payload)
            except ValueError:
                parsed = {"detail": payload[:500].decode(errors="replace")}
            return exc.code, dict(exc.headers), parsed

    def post(self, path: str, body: bytes, content_type: str, idempotency_key: str
             ) -> tuple[dict, bool]:
        """POST with retries; the same key on every attempt makes a retry safe even when the
        first attempt was stored and only its answer was lost. Returns (body, replayed)."""
        for attempt in range(self.retries + 1):
            wait = min(self.max_backoff, self.backoff * 2 ** attempt) * random.uniform(0.5, 1)
            try:
                status, headers, parsed = self.send("POST", path, body, content_type,
                                                    idempotency_key)
            except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, URLError
                reason = f"{type(exc).__name__}: {exc}"
            else:
                if 200 <= status < 300:
                    return parsed, headers.get("Idempotent-Replayed") == "true"
                if status not in RETRY_STATUSES:
                    raise Refused(status, parsed)
                reason = f"HTTP {status}"
                if headers.get("Retry-After", "").isdigit():
                    wait = max(wait, float(headers["Retry-After"]))
            if attempt == self.retries:
                raise GaveUp(f"{path}: gave up after {attempt + 1} attempts ({reason})")
            self.log(f"  {reason}; retrying in {wait:.1f} s with the same Idempotency-Key")
            self.sleep(wait)
        raise AssertionError("unreachable")

    def post_result(self, row: Row) -> tuple[dict, bool]:
        if row.raw_data is not None:
            body, content_type = _multipart(row.payload, "raw_data", row.raw_data)
        else:
            body, content_type = dumps(row.payload).encode(), "application/json"
        return self.post("/api/v1/results/", body, content_type, row.idempotency_key)

    def post_bulk(self, rows: list[Row]) -> tuple[dict, bool]:
        key = "bulk-" + hashlib.sha256(
            "".join(r.idempotency_key for r in rows).encode()).hexdigest()[:48]
        body = dumps({"results": [r.payload for r in rows]}).encode()
        return self.post("/api/v1/results/bulk/", body, "application/json", key)

    def upload(self, rows: Iterable[Row], *, bulk: bool = False,
               batch_size: int = BULK_LIMIT) -> Outcome:
        """Post every row; in bulk mode rows without a raw data file go in all-or-nothing
        chunks of up to `batch_size`, rows with a file one by one."""
        outcome = Outcome()
        rows = list(rows)
        singles = [r for r in rows if not bulk or r.raw_data is not None]
        chunked = [r for r in rows if bulk and r.raw_data is None]
        for start in range(0, len(chunked), batch_size):
            chunk = chunked[start:start + batch_size]
            try:
                body, replayed = self.post_bulk(chunk)
            except Refused as exc:
                failed = set()
                for error_ in exc.problem.get("errors") or [{}]:
                    row = chunk[error_["index"]] if "index" in error_ else chunk[0]
                    failed.add(row.line)
                    outcome.refused.append((row.line, exc.status, error_ or exc.problem))
                held = {"detail": "not stored: its bulk request was refused as a whole; fix "
                                  "the refused lines and run the same file again"}
                outcome.refused += [(r.line, exc.status, held) for r in chunk
                                    if r.line not in failed]
                continue
            for item in body["results"]:
                (outcome.replayed if replayed else outcome.stored).append(
                    (chunk[item["index"]].line, item))
        for row in singles:
            try:
                body, replayed = self.post_result(row)
            except Refused as exc:
                outcome.refused.append((row.line, exc.status, exc.problem))
                continue
            (outcome.replayed if replayed else outcome.stored).append((row.line, body))
        return outcome


def _describe(problem: dict) -> str:
    errors = problem.get("errors")
    if errors:
        return "; ".join(f"{e.get('field', '')}: {e.get('message', '')}" for e in errors)
    return problem.get("detail") or problem.get("message") or json.dumps(problem)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", type=Path, help="The instrument's CSV export.")
    parser.add_argument("--url", required=True, help="Base URL, e.g. https://qc.example.org")
    parser.add_argument("--key", default=os.environ.get("ALPHARELEASE_API_KEY"),
                        help="API key (default: $ALPHARELEASE_API_KEY).")
    parser.add_argument("--bulk", action="store_true",
                        help="Send rows in all-or-nothing requests of up to 500.")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--retries", type=int, default=6)
    parser.add_argument("--rebase-times", action="store_true",
                        help="Shift all times so the last measurement is one minute ago "
                             "(to try the example files against the demo site).")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("give the API key with --key or ALPHARELEASE_API_KEY")
    # timezone.utc, not datetime.UTC: instrument PCs often run an older Python 3.
    now = datetime.now(timezone.utc)  # noqa: UP017
    rebase = now - timedelta(minutes=1) if args.rebase_times else None
    rows = read_csv(args.csv, rebase_to=rebase)
    client = InstrumentClient(args.url, args.key, timeout=args.timeout, retries=args.retries)
    try:
        outcome = client.upload(rows, bulk=args.bulk)
    except GaveUp as exc:
        print(f"error: {exc}; nothing is lost: run the same command again later.",
              file=sys.stderr)
        return 2
    for line, body in outcome.stored:
        print(f"line {line}: stored as result {body['id']} ({body['test_code']} of "
              f"{body['lot_number']})")
    for line, body in outcome.replayed:
        print(f"line {line}: already stored as result {body['id']} (nothing new stored)")
    for line, status, problem in outcome.refused:
        print(f"line {line}: REFUSED ({status}) {_describe(problem)}", file=sys.stderr)
    print(f"{len(outcome.stored)} stored, {len(outcome.replayed)} already stored, "
          f"{len(outcome.refused)} refused")
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
