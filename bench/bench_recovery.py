"""Recovery after a broker outage: how long until a backlog of stored, never-queued results
is evaluated once the broker is back.

Records BACKLOG results (default 20 000, over 200 batches) through result_record_many while
the broker is unreachable (every evaluation message is lost, as in an outage), then starts
a Celery worker (prefork, 2 processes) on a live Redis, sends the sweep once, as beat does
every SWEEP_INTERVAL_S, and prints the seconds until no result is left unevaluated.

    make bench-recovery            (the local PostgreSQL and Redis)
    BACKLOG=5000 make bench-recovery
    BENCH_DATABASE=my_recovery make bench-recovery   (a database name of its own; it is
                                                      dropped and re-created)
"""

import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BACKLOG = int(os.environ.get("BACKLOG", "20000"))
BATCHES = 200
LIVE_BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


SERVER = "postgres://postgres@127.0.0.1:5432"
DEFAULT_DATABASE = "alpharelease_recovery"


def database_name(environ) -> str:
    """BENCH_DATABASE, or the default: the bench drops and re-creates it, so on a shared
    server each user names their own. Only a plain name, as it goes into DROP DATABASE."""
    name = environ.get("BENCH_DATABASE") or DEFAULT_DATABASE
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SystemExit(f"BENCH_DATABASE={name!r} is not a plain database name (lower-case "
                         "letters, digits and _, at most 63).")
    return name


def prepare() -> dict:
    import psycopg
    from psycopg import sql

    name = database_name(os.environ)
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as db:
        db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = {"DATABASE_URL": f"{SERVER}/{name}",
           "SECRET_KEY": "bench-only-secret-key", "DEBUG": "false",
           "ALPHARELEASE_VAR_DIR": tempfile.mkdtemp(prefix="bench-recovery-"),
           "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "ERROR"}
    os.environ.update({**env, "CELERY_BROKER_URL": DEAD_BROKER})
    return env


def record_backlog() -> None:
    import logging

    import django

    django.setup()
    logging.getLogger("batches.jobs").setLevel(logging.ERROR)  # 200 lost messages, expected
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from batches.demo import seed as demo_seed
    from batches.models import Elution, Generator, Result
    from batches.records import registration
    from batches.records import results as records
    from qc.models import Product

    now = timezone.now()
    demo = demo_seed(now=now)
    operator, analyst = demo["users"]["operator"], demo["users"]["analyst"]
    generator = Generator.objects.get(serial="RA224-GEN-0117")
    product = Product.objects.get(code="pb212-dotamtate")
    ph = product.specifications.order_by("-version").first().criteria.get(test_code="ph")
    per_batch = BACKLOG // BATCHES
    started = time.monotonic()
    for i in range(BATCHES):
        eos = now - timedelta(minutes=30)
        elution = Elution.objects.create(generator=generator, activity_bq=4e8,
                                         eluted_at=eos - timedelta(minutes=40, seconds=i))
        batch = registration.batch_register(
            actor=operator, lot_number=f"RECOVERY-{i:03d}", product=product, elution=elution,
            eos=eos, calibration_time=eos + timedelta(hours=1), activity_bq=3e8, volume_ml=5.0)
        items = [records.ResultInput(batch=batch, criterion=ph, value=5.6 + (j % 30) / 10,
                                     unit="pH", measured_at=eos + timedelta(seconds=j + 1))
                 for j in range(per_batch)]
        records.result_record_many(actor=analyst, items=items, channel="web")
    unevaluated = Result.objects.filter(evaluation__isnull=True).count()
    print(f"recovery_backlog_recorded: {unevaluated} results in "
          f"{time.monotonic() - started:.1f} s, none queued (broker unreachable)")


def count_unevaluated(env: dict) -> int:
    code = ("import django; django.setup(); from batches.models import Result; "
            "print(Result.objects.filter(evaluation__isnull=True).count())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, **env}, check=True)
    return int(out.stdout.strip())


def main() -> None:
    env = prepare()
    recorder = subprocess.run([sys.executable, __file__, "--record"], cwd=ROOT,
                              env={**os.environ, **env, "CELERY_BROKER_URL": DEAD_BROKER})
    if recorder.returncode:
        raise SystemExit("recording the backlog failed")
    live = {**env, "CELERY_BROKER_URL": LIVE_BROKER}
    subprocess.run([sys.executable, "-m", "celery", "-A", "config", "purge", "-f"], cwd=ROOT,
                   env={**os.environ, **live}, capture_output=True)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
         "--concurrency=2", "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env={**os.environ, **live}, stdout=subprocess.DEVNULL)
    try:
        time.sleep(5)  # the worker's start (nuclear data, fonts) is not part of recovery
        back = time.monotonic()
        subprocess.run([sys.executable, "-c", "import django; django.setup(); "
                        "from batches.tasks import sweep_unevaluated; sweep_unevaluated.delay()"],
                       cwd=ROOT, env={**os.environ, **live}, check=True)
        left = count_unevaluated(live)
        while left:
            time.sleep(2)
            left = count_unevaluated(live)
        took = time.monotonic() - back
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    print(f"recovery_backlog_results: {BACKLOG}")
    print(f"recovery_evaluated_after_broker_return_s: {took:.1f}")
    print(f"recovery_results_per_s: {BACKLOG / took:.0f}")
    print(f"recovery_target_met (<= 120 s): {took <= 120}")


if __name__ == "__main__":
    if "--record" in sys.argv:
        record_backlog()
    else:
        main()
