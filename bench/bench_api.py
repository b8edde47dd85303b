"""Instrument API under load: gunicorn on PostgreSQL, driven by 16 concurrent clients.

    python bench/bench_api.py [--duration 20] [--clients 16] [--bulk-size 500] [--with-worker]

Uses DATABASE_URL when set (a database of its own: the bench migrates and fills it);
otherwise drops and re-creates postgres://postgres@127.0.0.1:5432/alpharelease_bench.
Starts gunicorn (this checkout, DEBUG off) and, as the load, this process's 16 client
threads. Results are recorded through the real API: key authentication, validation,
result_record (result + audit event in one transaction), Idempotency-Key record; evaluation is
queued on commit to Celery on the local Redis (BENCH_BROKER_URL, default db 15, whose
queue the bench purges before and after: give it a broker database of its own). By default
no worker consumes the queue during the timed phases, so the figures are ingestion; with
--with-worker a Celery worker evaluates concurrently on the same two cores.

About 5 % of requests are sent, abandoned after a few milliseconds without reading the answer
(a client timeout), and sent again with the same Idempotency-Key and body. Every result
carries a unique measured_at; after the run the database must hold each acknowledged result
exactly once and nothing else: `api_lost_or_duplicated` counts the differences.

Last, for 10 s, the same clients post without credentials: the 401 the authentication answers
before any query is the cheapest request this stack serves, so `api_floor_requests_per_s` is a
baseline taken on the same machine in the same run, and `api_single_share_of_floor` compares
figures between machines and days (this machine's speed varies several-fold between days).

Prints: api_single_results_per_s, api_single_p50_ms, api_single_p99_ms,
api_bulk_results_per_s, api_bulk_p50_ms, api_floor_requests_per_s, api_single_share_of_floor,
api_lost_or_duplicated.
"""

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from batches.records import registration

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/alpharelease_bench"
BATCHES = 64
TIMEOUT_SHARE = 0.05
FLOOR_S = 10.0
TESTS = [("ph", "pH", 5.6, 8.9), ("rcp", "%", 95.5, 99.9), ("endotoxin", "EU/mL", 0.1, 4.0)]


def prepare_environment() -> dict:
    var = tempfile.mkdtemp(prefix="bench-api-")
    url = os.environ.get("DATABASE_URL") or DEFAULT_DB
    if not os.environ.get("DATABASE_URL"):
        import psycopg

        with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres",
                             autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS alpharelease_bench WITH (FORCE)")
            conn.execute("CREATE DATABASE alpharelease_bench")
    env = {
        "DATABASE_URL": url, "SECRET_KEY": "bench-only-secret-key", "DEBUG": "false",
        "ALPHARELEASE_VAR_DIR": var, "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "ERROR",
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/15"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    os.environ.update(env)
    return env


def seed(now: datetime) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from batches.demo import seed as demo_seed
    from batches.models import Elution, Generator
    from config.celery import app
    from qc.api_keys import api_key_create
    from qc.models import Instrument, InstrumentKind, Product

    demo = demo_seed(now=now)
    app.control.purge()
    users = demo["users"]
    generator = Generator.objects.get(serial="RA224-GEN-0117")
    product = Product.objects.get(code="pb212-dotamtate")
    lots = []
    for i in range(BATCHES):
        eos = now - timedelta(minutes=10)
        elution = Elution.objects.create(generator=generator, activity_bq=4e8,
                                         eluted_at=eos - timedelta(minutes=40, seconds=i))
        batch = registration.batch_register(
            actor=users["operator"], lot_number=f"BENCH-{i:03d}", product=product,
            elution=elution, eos=eos, calibration_time=eos + timedelta(hours=1),
            activity_bq=3e8, volume_ml=5.0)
        lots.append(batch.lot_number)
    instrument = Instrument.objects.create(serial="BENCH-0001", name="Bench instrument",
                                           kind=InstrumentKind.OTHER,
                                           calibration_due=(now + timedelta(days=30)).date())
    _, key = api_key_create(actor=users["admin"], instrument=instrument,
                            test_codes=[code for code, *_ in TESTS])
    return {"key": key, "lots": lots}


class Load:
    """One client thread's requests, answers and what it was told was stored."""

    def __init__(self, port: int, key: str, lots: list[str], base: datetime, thread: int):
        self.port, self.key, self.lots, self.base, self.thread = port, key, lots, base, thread
        self.random = random.Random(thread)
        self.counter = 0
        self.latencies: list[float] = []
        self.acknowledged: list[str] = []
        self.timeouts = 0
        self.errors: Counter = Counter()
        self.conn: http.client.HTTPConnection | None = None
        self.floor_requests = 0

    def item(self) -> tuple[dict, str]:
        self.counter += 1
        # Unique per result: the thread and a counter, as microseconds before the start.
        at = self.base - timedelta(microseconds=self.thread * 5_000_000 + self.counter)
        code, unit, low, high = self.random.choice(TESTS)
        return ({"lot_number": self.random.choice(self.lots), "test_code": code,
                 "value": round(self.random.uniform(low, high), 3), "unit": unit,
                 "measured_at": at.isoformat()}, at.isoformat())

    def _headers(self, idempotency_key: str) -> dict:
        return {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json",
                "Idempotency-Key": idempotency_key}

    def _abandon(self, path: str, body: bytes, headers: dict) -> None:
        """Send the request and hang up before the answer, as a client that timed out."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("POST", path, body=body, headers=headers)
            time.sleep(self.random.uniform(0.0, 0.03))
        finally:
            conn.sock and conn.sock.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.timeouts += 1

    def post(self, path: str, payload: dict) -> tuple[int, float, dict]:
        body = json.dumps(payload).encode()
        headers = self._headers(str(uuid.uuid4()))
        if self.random.random() < TIMEOUT_SHARE:
            self._abandon(path, body, headers)
        for attempt in range(20):
            start = time.perf_counter()
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
                self.conn.request("POST", path, body=body, headers=headers)
                response = self.conn.getresponse()
                answer = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
            except (OSError, http.client.HTTPException) as exc:
                self.errors[type(exc).__name__] += 1
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                time.sleep(0.05 * (attempt + 1))
                continue
            elapsed = time.perf_counter() - start
            if response.status in (201,):
                return response.status, elapsed, json.loads(answer)
            self.errors[f"HTTP {response.status}"] += 1
            if response.status < 500:
                raise RuntimeError(f"refused: {response.status} {answer[:400]!r}")
            time.sleep(0.05 * (attempt + 1))
        raise RuntimeError("gave up after 20 attempts")

    def run_floor(self, until: float) -> None:
        """A result without credentials, answered 401 by the authentication before any query:
        what the HTTP server, Django, DRF and this client cost per request on this machine."""
        body = json.dumps(self.item()[0]).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": "floor"}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        while time.perf_counter() < until:
            conn.request("POST", "/api/v1/results/", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 401:
                raise RuntimeError(f"expected 401 without credentials, got {response.status}")
            self.floor_requests += 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        conn.close()

    def run_single(self, until: float) -> None:
        while time.perf_counter() < until:
            payload, marker = self.item()
            _, elapsed, _ = self.post("/api/v1/results/", payload)
            self.latencies.append(elapsed)
            self.acknowledged.append(marker)

    def run_bulk(self, until: float, size: int) -> None:
        while time.perf_counter() < until:
            items = [self.item() for _ in range(size)]
            _, elapsed, body = self.post("/api/v1/results/bulk/",
                                         {"results": [payload for payload, _ in items]})
            assert body["count"] == size
            self.latencies.append(elapsed)
            self.acknowledged += [marker for _, marker in items]


def drive(loads: list[Load], duration: float, run: Callable[[Load, float], None]) -> float:
    until = time.perf_counter() + duration
    start = time.perf_counter()
    failures = []

    def target(load):
        try:
            run(load, until)
        except Exception as exc:  # reported below: a bench run with a refusal is invalid
            failures.append(f"client {load.thread}: {exc}")

    threads = [threading.Thread(target=target, args=(load,)) for load in loads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit("\n".join(failures))
    return time.perf_counter() - start


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def count_in_database(markers: set[str]) -> tuple[int, int, int]:
    from batches.models import Result

    stored = Counter(at.isoformat() for at in Result.objects.filter(
        channel="api", instrument__serial="BENCH-0001").values_list("measured_at", flat=True))
    wanted = {datetime.fromisoformat(m).astimezone(UTC).isoformat() for m in markers}
    lost = len(wanted - stored.keys())
    duplicated = sum(n - 1 for n in stored.values() if n > 1)
    unexpected = len(stored.keys() - wanted)
    return lost, duplicated, unexpected


def start_server(env: dict, port: int, workers: int, threads: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application",
               "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--worker-class", "gthread", "--threads", str(threads),
               "--keep-alive", "30", "--backlog", "256", "--log-level", "warning"]
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})


def start_worker(env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=threads",
               "--concurrency=2", "--loglevel=WARNING", "--without-gossip", "--without-mingle"]
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL)


def wait_until_up(port: int, key: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited during startup")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/batches/", headers={"Authorization": f"Bearer {key}"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--bulk-size", type=int, default=500)
    # The work is CPU-bound (Django, DRF and psycopg per request, PostgreSQL beside them): two
    # single-threaded workers measured best on two cores; three or four measured no better.
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", 2)))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", 1)))
    parser.add_argument("--with-worker", action="store_true",
                        help="run a Celery worker that evaluates during the timed phases")
    args = parser.parse_args()
    if args.duration < 20:
        print("note: the issue's figures are for runs of at least 20 s per phase")

    env = prepare_environment()
    now = datetime.now(UTC)
    print(f"seeding {BATCHES} batches on {env['DATABASE_URL']} ...", flush=True)
    data = seed(now)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = start_server(env, port, args.workers, args.threads)
    worker = start_worker(env) if args.with_worker else None
    try:
        wait_until_up(port, data["key"], server)
        base = datetime.now(UTC) - timedelta(seconds=1)
        loads = [Load(port, data["key"], data["lots"], base, i) for i in range(args.clients)]
        drive(loads, 2.0, Load.run_single)  # warm up every worker process
        warm = sum(len(load.acknowledged) for load in loads)
        for load in loads:
            load.latencies.clear()

        print(f"single results: {args.clients} clients for {args.duration:.0f} s ...",
              flush=True)
        single_s = drive(loads, args.duration, Load.run_single)
        singles = sum(len(load.latencies) for load in loads)
        single_latencies = [lat for load in loads for lat in load.latencies]
        for load in loads:
            load.latencies.clear()

        print(f"bulk: {args.clients} clients, {args.bulk_size} results a request, "
              f"{args.duration:.0f} s ...", flush=True)
        bulk_s = drive(loads, args.duration,
                       lambda load, until: load.run_bulk(until, args.bulk_size))
        bulk_requests = sum(len(load.latencies) for load in loads)
        bulk_latencies = [lat for load in loads for lat in load.latencies]

        print(f"floor: {args.clients} clients, requests refused 401 before any query, "
              f"{FLOOR_S:.0f} s ...", flush=True)
        floor_s = drive(loads, FLOOR_S, Load.run_floor)
    finally:
        for process in filter(None, (server, worker)):
            process.send_signal(signal.SIGTERM)
        for process in filter(None, (server, worker)):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()

    from config.celery import app

    queued = app.control.purge()  # the unconsumed evaluations: the bench's broker db only
    markers = {m for load in loads for m in load.acknowledged}
    sent = sum(len(load.acknowledged) for load in loads)
    lost, duplicated, unexpected = count_in_database(markers)
    timeouts = sum(load.timeouts for load in loads)
    errors = sum((load.errors for load in loads), Counter())
    print(f"(warm-up {warm} results; {timeouts} requests abandoned after a simulated timeout "
          f"and retried with the same key; transient errors retried: {dict(errors) or 'none'}; "
          f"acknowledged {sent} results, {len(markers)} distinct; in the database: {lost} "
          f"missing, {duplicated} duplicates, {unexpected} never acknowledged; gunicorn "
          f"{args.workers} workers x {args.threads} threads; evaluation "
          f"{'by a concurrent Celery worker' if worker else 'queued to Redis, not consumed'}; "
          f"{queued} evaluation messages purged afterwards)")
    floor = sum(load.floor_requests for load in loads) / floor_s
    print(f"api_single_results_per_s {singles / single_s:.0f}")
    print(f"api_single_p50_ms {1000 * statistics.median(single_latencies):.1f}")
    print(f"api_single_p99_ms {1000 * percentile(single_latencies, 0.99):.1f}")
    print(f"api_bulk_results_per_s {bulk_requests * args.bulk_size / bulk_s:.0f}")
    print(f"api_bulk_p50_ms {1000 * statistics.median(bulk_latencies):.1f}")
    # The same clients against the same server in the same run: how far each recorded result is
    # from the cheapest request this stack can answer, whatever the machine does today.
    print(f"api_floor_requests_per_s {floor:.0f}")
    print(f"api_single_share_of_floor {singles / single_s / floor:.3f}")
    print(f"api_lost_or_duplicated {lost + duplicated + unexpected + (sent - len(markers))}")


if __name__ == "__main__":
    main()
