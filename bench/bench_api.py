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

Plain DRF: in the same run, alternating with the single-result phase (single, plain, single,
plain, ... for --rounds rounds of --duration seconds each), the same clients post a
result-shaped body (lot, test code, value, unit, measured_at) to a textbook DRF CreateAPIView
served by the same gunicorn: TokenAuthentication, a ModelSerializer, one INSERT into a table of
its own (bench/plaindrf/, installed only because the bench sets ALPHARELEASE_BENCH_PLAIN_DRF).
None of the record path's guarantees: no lot or criterion lookup, unit conversion, idempotency,
audit event or evaluation queued. Its requests are not abandoned (it has no Idempotency-Key to
retry with). `api_single_share_of_plain_drf` is the median over rounds of single results per s
over plain creates per s in the same round: alternating phases cancel most of the drift in this
machine's speed, which swings by 20 % between runs and by 3x when others load its two cores
(five runs in one hour: single 25-76/s, share of plain DRF 0.25-0.29); the rates printed are
medians over rounds.

Last, for 10 s, the same clients post without credentials: the 401 the authentication answers
before any query is the cheapest request this stack serves, so `api_floor_requests_per_s` is a
baseline taken on the same machine in the same run, and `api_single_share_of_floor` compares
figures between machines and days (this machine's speed varies several-fold between days).

Prints: api_single_results_per_s, api_single_p50_ms, api_single_p99_ms,
api_plain_drf_requests_per_s, api_plain_drf_p50_ms, api_single_share_of_plain_drf,
api_bulk_results_per_s, api_bulk_p50_ms, api_floor_requests_per_s, api_single_share_of_floor,
api_lost_or_duplicated (the plain DRF rows are checked the same way:
api_plain_drf_lost_or_duplicated).
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/alpharelease_bench"
BATCHES = 64
TIMEOUT_SHARE = 0.05
FLOOR_S = 10.0
PLAIN_URL = "/bench/plain-drf/results/"
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
        "DJANGO_SETTINGS_MODULE": "config.settings", "ALPHARELEASE_BENCH_PLAIN_DRF": "1",
    }
    os.environ.update(env)
    return env


def seed(now: datetime) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from batches.demo import seed as demo_seed
    from batches.models import Elution, Generator
    from batches.records import registration
    from config.celery import app
    from qc.api_keys import api_key_create
    from qc.instruments import instrument_qualify
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
    instrument_qualify(actor=None, instrument=instrument, test_codes=[c for c, *_ in TESTS],
                       reason="bench: qualified for the tests it posts")
    _, key = api_key_create(actor=users["admin"], instrument=instrument,
                            test_codes=[code for code, *_ in TESTS])
    plain_user = get_user_model().objects.create_user("bench-plain-drf", password=None)
    return {"key": key, "lots": lots, "token": Token.objects.create(user=plain_user).key}


class Load:
    """One client thread's requests, answers and what it was told was stored."""

    def __init__(self, port: int, key: str, token: str, lots: list[str], base: datetime,
                 thread: int):
        self.port, self.key, self.token, self.lots = port, key, token, lots
        self.base, self.thread = base, thread
        self.random = random.Random(thread)
        self.counter = 0
        self.latencies: list[float] = []
        self.acknowledged: list[str] = []
        self.plain_acknowledged: list[str] = []
        self.timeouts = 0
        self.errors: Counter = Counter()
        self.conn: http.client.HTTPConnection | None = None
        self.floor_requests = 0

    def item(self) -> tuple[dict, str]:
        self.counter += 1
        # Unique per result: the thread and a counter, as microseconds before the start.
        at = self.base - timedelta(microseconds=self.thread * 5_000_000 + self.counter)
        code, unit, low, high = self.random.choice(TESTS)
        body = {"lot_number": self.random.choice(self.lots), "test_code": code,
                "value": round(self.random.uniform(low, high), 3), "unit": unit,
                "measured_at": at.isoformat()}
        if code == "rcp":  # the 212Pb radio-TLC strip counted on Pb-212's own line
            body["counting_window"] = "product_line"
        return body, at.isoformat()

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

    def post(self, path: str, payload: dict, headers: dict | None = None
             ) -> tuple[int, float, dict]:
        body = json.dumps(payload).encode()
        if headers is None:
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

    def run_plain(self, until: float) -> None:
        """The same result body to the plain DRF create, with its token; never abandoned."""
        headers = {"Authorization": f"Token {self.token}", "Content-Type": "application/json"}
        while time.perf_counter() < until:
            payload, marker = self.item()
            _, elapsed, _ = self.post(PLAIN_URL, payload, headers)
            self.latencies.append(elapsed)
            self.plain_acknowledged.append(marker)

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


def count_in_database(markers: set[str], plain: bool = False) -> tuple[int, int, int]:
    from batches.models import Result
    from bench.plaindrf.models import PlainResult

    rows = PlainResult.objects.all() if plain else Result.objects.filter(
        channel="api", instrument__serial="BENCH-0001")
    stored = Counter(at.isoformat() for at in rows.values_list("measured_at", flat=True))
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


def phase(loads: list[Load], duration: float, run: Callable[[Load, float], None]
          ) -> tuple[int, float, list[float]]:
    """Requests answered, seconds taken and their latencies, for one timed phase."""
    for load in loads:
        load.latencies.clear()
    seconds = drive(loads, duration, run)
    latencies = [lat for load in loads for lat in load.latencies]
    return len(latencies), seconds, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--rounds", type=int, default=3,
                        help="single-result and plain DRF phases, alternating, of each")
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
    load_before = os.getloadavg()
    print(f"seeding {BATCHES} batches on {env['DATABASE_URL']} ...", flush=True)
    data = seed(now)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = start_server(env, port, args.workers, args.threads)
    worker = start_worker(env) if args.with_worker else None
    rounds: list[tuple[float, float]] = []
    single_latencies: list[float] = []
    plain_latencies: list[float] = []
    try:
        wait_until_up(port, data["key"], server)
        base = datetime.now(UTC) - timedelta(seconds=1)
        loads = [Load(port, data["key"], data["token"], data["lots"], base, i)
                 for i in range(args.clients)]
        drive(loads, 2.0, Load.run_single)  # warm up every worker process, on both paths
        drive(loads, 2.0, Load.run_plain)
        warm = sum(len(load.acknowledged) for load in loads)

        for number in range(1, args.rounds + 1):
            print(f"round {number}/{args.rounds}: single results, then plain DRF creates, "
                  f"{args.clients} clients for {args.duration:.0f} s each ...", flush=True)
            singles, single_s, latencies = phase(loads, args.duration, Load.run_single)
            single_latencies += latencies
            plains, plain_s, latencies = phase(loads, args.duration, Load.run_plain)
            plain_latencies += latencies
            rounds.append((singles / single_s, plains / plain_s))
            print(f"  single {rounds[-1][0]:.0f}/s, plain DRF {rounds[-1][1]:.0f}/s, "
                  f"share {rounds[-1][0] / rounds[-1][1]:.3f}", flush=True)

        print(f"bulk: {args.clients} clients, {args.bulk_size} results a request, "
              f"{args.duration:.0f} s ...", flush=True)
        bulk_requests, bulk_s, bulk_latencies = phase(
            loads, args.duration, lambda load, until: load.run_bulk(until, args.bulk_size))

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
    plain_markers = {m for load in loads for m in load.plain_acknowledged}
    plain_sent = sum(len(load.plain_acknowledged) for load in loads)
    plain_wrong = sum(count_in_database(plain_markers, plain=True)) + plain_sent - len(
        plain_markers)
    timeouts = sum(load.timeouts for load in loads)
    errors = sum((load.errors for load in loads), Counter())
    print(f"(warm-up {warm} results; {timeouts} requests abandoned after a simulated timeout "
          f"and retried with the same key; transient errors retried: {dict(errors) or 'none'}; "
          f"acknowledged {sent} results, {len(markers)} distinct; in the database: {lost} "
          f"missing, {duplicated} duplicates, {unexpected} never acknowledged; plain DRF: "
          f"{plain_sent} acknowledged, {plain_wrong} rows missing, duplicated or unexpected; "
          f"gunicorn {args.workers} workers x {args.threads} threads; evaluation "
          f"{'by a concurrent Celery worker' if worker else 'queued to Redis, not consumed'}; "
          f"{queued} evaluation messages purged afterwards; load average (1 min) "
          f"{load_before[0]:.2f} before seeding, {os.getloadavg()[0]:.2f} after the run)")
    single_rate = statistics.median(single for single, _ in rounds)
    floor = sum(load.floor_requests for load in loads) / floor_s
    print("rounds (single/s, plain DRF/s): "
          + ", ".join(f"{single:.0f}/{plain:.0f}" for single, plain in rounds))
    print(f"api_single_results_per_s {single_rate:.0f}")
    print(f"api_single_p50_ms {1000 * statistics.median(single_latencies):.1f}")
    print(f"api_single_p99_ms {1000 * percentile(single_latencies, 0.99):.1f}")
    print(f"api_plain_drf_requests_per_s {statistics.median(p for _, p in rounds):.0f}")
    print(f"api_plain_drf_p50_ms {1000 * statistics.median(plain_latencies):.1f}")
    # Each round's single phase against the plain phase right after it: a pair close in time.
    print(f"api_single_share_of_plain_drf "
          f"{statistics.median(single / plain for single, plain in rounds):.3f}")
    print(f"api_bulk_results_per_s {bulk_requests * args.bulk_size / bulk_s:.0f}")
    print(f"api_bulk_p50_ms {1000 * statistics.median(bulk_latencies):.1f}")
    # The same clients against the same server in the same run: how far each recorded result is
    # from the cheapest request this stack can answer, whatever the machine does today.
    print(f"api_floor_requests_per_s {floor:.0f}")
    print(f"api_single_share_of_floor {single_rate / floor:.3f}")
    print(f"api_lost_or_duplicated {lost + duplicated + unexpected + (sent - len(markers))}")
    print(f"api_plain_drf_lost_or_duplicated {plain_wrong}")


if __name__ == "__main__":
    main()
