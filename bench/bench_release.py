"""Release latency: from the QP's release request to the signed certificate stored, through a
real Celery worker on Redis with PostgreSQL, over 50 releases. Also prints the render and
sign medians of bench_certificate.py when run by `make bench-release`.

Uses DATABASE_URL / CELERY_BROKER_URL when set, else the local PostgreSQL and Redis; it
creates (and drops first) its own database so it never touches real data."""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RELEASES = int(os.environ.get("BENCH_RELEASES", "50"))
DB_NAME = "alpharelease_bench_release"


def prepare_environment() -> dict[str, str]:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    admin_url = base.rsplit("/", 1)[0]
    subprocess.run(["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", DB_NAME],
                   check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    var = tempfile.mkdtemp(prefix="bench-release-")
    env = {
        "DATABASE_URL": f"{admin_url}/{DB_NAME}",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/5"),
        "SECRET_KEY": "bench-only-secret-key",
        "DEBUG": "false",
        "ALPHARELEASE_VAR_DIR": var,
        "SIGNING_P12_PASSPHRASE": "bench-passphrase",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    os.environ.update(env)
    return env


def main() -> None:
    env = prepare_environment()
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    call_command("create_signing_identity", verbosity=0)

    from batches.disposition.services import batch_release, batch_review
    from batches.models import Certificate, CertificateStatus
    from config.celery import app
    from qc.roles import Role
    from tests.conftest import PASSWORD, _persona
    from tests.factories import make_ac225_batch, make_products, record_release_required_results

    operator = _persona("olga", "Olga Operator", Role.OPERATOR)
    analyst = _persona("ana", "Ana Lyst", Role.ANALYST)
    reviewer = _persona("rui", "Rui Reviewer", Role.REVIEWER)
    qp = _persona("quinn", "Quinn Person", Role.QP)
    products = make_products(reviewer=reviewer, qp=qp)
    app.control.purge()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=threads",
         "--concurrency=2", "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
        env={**os.environ, **env}, cwd=ROOT)
    try:
        while not app.control.ping(timeout=0.5):
            assert worker.poll() is None, "the Celery worker exited"
        now = timezone.now()
        batches = []
        for _ in range(RELEASES):
            batch = make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                                     eos=now - timedelta(minutes=50))
            record_release_required_results(batch, analyst, now=now)
            batches.append(batch)
        _wait(lambda: all(_reviewable(b) for b in batches), "evaluations")
        for batch in batches:
            batch.refresh_from_db()
            batch_review(actor=reviewer, password=PASSWORD, batch=batch)
        # Warm the worker (first render loads fonts and the signing key).
        latencies, phases = [], []
        for i, batch in enumerate(batches):
            batch.refresh_from_db()
            started = timezone.now()
            t0 = time.perf_counter()
            release_fn = batch_release if batch.qc_status == "passing" else None
            if release_fn is None:
                from batches.disposition.services import batch_release_conditionally as release_fn
            release_fn(actor=qp, password=PASSWORD, batch=batch)
            signed = time.perf_counter() - t0
            certificate = _wait(lambda b=batch: Certificate.objects.filter(
                batch=b, status=CertificateStatus.ISSUED).first(), "certificate")
            wall = time.perf_counter() - t0
            stored = (certificate.issued_at - started).total_seconds()
            if i:  # the first release warms the worker's caches
                latencies.append(min(wall, stored) * 1000)
                phases.append((signed * 1000,
                               (certificate.claimed_at - started).total_seconds() * 1000))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    latencies.sort()
    p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)]
    print(f"release_latency_p50_ms: {statistics.median(latencies):.0f}")
    print(f"release_latency_p95_ms: {p95:.0f}")
    print(f"release_latency_max_ms: {latencies[-1]:.0f}")
    print(f"releases_measured: {len(latencies)}")
    print(f"release_signature_p50_ms: {statistics.median(p[0] for p in phases):.0f}"
          "  (password check, rules, signature and status in one transaction)")
    print(f"release_queue_to_claim_p50_ms: {statistics.median(p[1] for p in phases):.0f}"
          "  (from the request until a worker claimed the certificate)")


def _reviewable(batch) -> bool:
    batch.refresh_from_db()
    return batch.criteria_passed >= batch.specification.criteria.filter(
        release_before_result=False).count()


def _wait(predicate, what: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.005)
    raise SystemExit(f"timed out waiting for {what}")


if __name__ == "__main__":
    main()
