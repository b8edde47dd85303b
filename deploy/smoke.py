"""make smoke: the production stack on this machine, one batch end to end, backup and restore.

Starts gunicorn with deploy/gunicorn.conf.py, a Celery worker and beat (DEBUG off) on
PostgreSQL (SMOKE_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/alpharelease_smoke:
dropped and re-created) and Redis (SMOKE_BROKER_URL, default redis://127.0.0.1:6379/15).
Then: registers a 225Ac batch and posts its results through the API, reviews and releases it
(the e-signature services, as the signing pages call them), downloads the signed certificate
through the API and verifies it, checks /readyz, /metrics and the beat lock, takes a backup
and restores it into a fresh database (<name>_restored) with the restore checks. nginx, with
deploy/nginx.conf (paths and ports moved, a throwaway certificate: deploy/nginx_check.py),
stands in front of gunicorn: `nginx -t`, then the redirect, HSTS and request ids through it
(make smoke installs nginx; without it smoke fails). Prints each
step and ends with one summary line; exits 1 on the first failure."""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.error import HTTPError, URLError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATABASE_URL = os.environ.get("SMOKE_DATABASE_URL",
                              "postgres://postgres@127.0.0.1:5432/alpharelease_smoke")
BROKER_URL = os.environ.get("SMOKE_BROKER_URL", "redis://127.0.0.1:6379/15")
STARTED = time.monotonic()
done: list[str] = []


def step(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f} s] {text}", flush=True)
    done.append(text)


def fail(text: str) -> None:
    print(f"smoke: FAILED after {time.monotonic() - STARTED:.0f} s: {text}", flush=True)
    raise SystemExit(1)


def recreate_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(var: Path, port: int) -> dict:
    env = {**os.environ,
           "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "false",
           "SECRET_KEY": secrets.token_urlsafe(50), "DATABASE_URL": DATABASE_URL,
           "CELERY_BROKER_URL": BROKER_URL, "ALLOWED_HOSTS": "127.0.0.1,localhost",
           "ALPHARELEASE_VAR_DIR": str(var), "MEDIA_ROOT": str(var / "media"),
           "SIGNING_P12_PATH": str(var / "signing" / "site.p12"),
           "SIGNING_P12_PASSPHRASE": "smoke-signing-passphrase",
           "METRICS_BEARER_TOKEN": secrets.token_urlsafe(32),
           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2",
           "RUNTIME_DIRECTORY": str(var / "run"),
           "PROMETHEUS_MULTIPROC_DIR": str(var / "run" / "prometheus"),
           "DECAY_HALF_LIFE_OVERRIDES": "Ac-225=9.920d", "LOG_LEVEL": "WARNING",
           "BEAT_LOCK_TTL_S": "10"}
    (var / "run").mkdir(parents=True)
    return env


def http(port: int, path: str, *, data: dict | None = None, headers: dict | None = None):
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, method="POST" if body else "GET",
        headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except HTTPError as exc:
        return exc.code, exc.headers, exc.read()
    except URLError as exc:  # not listening yet
        return 0, {}, str(exc.reason).encode()


def through_nginx(url: str, host: str = "localhost"):
    """GET through nginx (TLS with the throwaway certificate); redirects are not followed."""
    import ssl

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=context))
    request = urllib.request.Request(url, headers={"Host": host})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except HTTPError as exc:
        return exc.code, exc.headers, exc.read()
    except URLError as exc:
        return 0, {}, str(exc.reason).encode()


def start_nginx(var: Path, port: int) -> tuple[subprocess.Popen, int, int]:
    """nginx with the shipped config in front of gunicorn on `port`; `nginx -t` first."""
    import nginx_check

    if nginx_check.nginx_binary() is None:
        fail("nginx is not installed (apt-get install nginx; `make smoke` installs it)")
    http_port, https_port = free_port(), free_port()
    (var / "nginx").mkdir()
    main = nginx_check.render(var / "nginx", upstream=f"http://127.0.0.1:{port}",
                              http_port=http_port, https_port=https_port)
    checked = nginx_check.check(main)
    if checked.returncode != 0:
        fail(f"nginx -t refused deploy/nginx.conf: {checked.stderr.strip()}")
    process = subprocess.Popen(nginx_check.command(main, "-g", "daemon off;"),
                               stdout=(var / "nginx.log").open("w"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    return process, http_port, https_port


def check_nginx(http_port: int, https_port: int) -> None:
    status, headers, _ = wait(lambda: (lambda r: r if r[0] else None)(
        through_nginx(f"http://127.0.0.1:{http_port}/healthz")), "nginx to answer", timeout=30)
    if status != 301 or not headers.get("Location", "").startswith("https://"):
        fail(f"nginx on port 80's place answered {status}, not a redirect to https")
    status, headers, body = through_nginx(f"https://127.0.0.1:{https_port}/readyz")
    if status != 200:
        fail(f"/readyz through nginx answered {status}: {body[:300]!r}")
    hsts = headers.get_all("Strict-Transport-Security") or []
    if len(hsts) != 1 or "max-age=31536000" not in hsts[0]:
        fail(f"through nginx, Strict-Transport-Security headers: {hsts}")
    request_id = headers.get("X-Request-ID", "")
    if len(request_id) != 32:  # nginx's $request_id: 32 hex digits, passed to the app
        fail(f"the app did not answer with nginx's request id (X-Request-ID {request_id!r})")
    step(f"nginx (deploy/nginx.conf, nginx -t passed) in front of gunicorn: http redirects to "
         f"https, /readyz 200 over TLS, one HSTS header, nginx's request id {request_id[:8]}... "
         "reached the app")


def wait(predicate, what: str, timeout: float = 180.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    fail(f"waited {timeout:.0f} s for {what}")


def start(env: dict, args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def main() -> None:
    var = Path(tempfile.mkdtemp(prefix="alpharelease-smoke-"))
    port = free_port()
    env = environment(var, port)
    os.environ.update({k: env[k] for k in env if k not in ("PATH",)})
    recreate_database(DATABASE_URL)
    step(f"fresh database {DATABASE_URL.rsplit('/', 1)[1]}, broker {BROKER_URL}, files in {var}")

    import django

    django.setup()
    import io

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("create_signing_identity", verbosity=0, stdout=io.StringIO())
    step("migrated (append-only triggers installed) and made a signing identity")

    from django.utils import timezone

    from config.celery import app
    from qc.api_keys import api_key_create
    from qc.models import InstrumentKind
    from qc.roles import Role
    from tests.conftest import _persona
    from tests.factories import make_instrument, make_products, make_source_lot

    admin = _persona("ada", "Ada Admin", Role.ADMIN)
    reviewer = _persona("rui", "Rui Reviewer", Role.REVIEWER)
    qp = _persona("quinn", "Quinn Person", Role.QP)
    products = make_products(reviewer=reviewer, qp=qp)
    product = products["ac225-psma-it"]
    lot = make_source_lot()
    codes = list(product.specifications.get(status="approved").criteria
                 .values_list("test_code", flat=True))
    _, synthesis_key = api_key_create(
        actor=admin, instrument=make_instrument(kind=InstrumentKind.SYNTHESIS_MODULE,
                                                serial="SMOKE-SYN"),
        test_codes=[], can_register_batches=True)
    # The lab key also downloads the certificate (a key reads certificates only when granted).
    _, lab_key = api_key_create(actor=admin, instrument=make_instrument(
        kind=InstrumentKind.RADIO_TLC, serial="SMOKE-LAB"), test_codes=codes,
        read_scopes=["read_certificates"])
    app.control.purge()
    passed = False
    step("products, a 225Ac source lot, reviewer, QP and two instrument keys")

    processes = {
        "gunicorn": start(env, [str(ROOT / ".venv/bin/gunicorn"), "-c",
                                "deploy/gunicorn.conf.py", "config.wsgi:application"],
                          var / "gunicorn.log"),
        "worker": start(env, [sys.executable, "-m", "celery", "-A", "config", "worker",
                              "--concurrency=2", "--loglevel=INFO"], var / "worker.log"),
        "beat": start(env, [sys.executable, "-m", "celery", "-A", "config", "beat",
                            "--loglevel=INFO", "--schedule", str(var / "beat-schedule")],
                      var / "beat.log"),
    }
    processes["nginx"], http_port, https_port = start_nginx(var, port)
    try:
        run(env, port, var, product, lot, synthesis_key, lab_key, reviewer, qp, timezone,
            processes, (http_port, https_port))
        passed = True
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    if passed:  # on a failure the logs stay for reading
        import shutil

        shutil.rmtree(var, ignore_errors=True)


def run(env, port, var, product, lot, synthesis_key, lab_key, reviewer, qp, timezone,
        processes, nginx_ports) -> None:
    from batches.certificates.verify import certificate_verify
    from batches.disposition.services import (
        batch_release,
        batch_release_conditionally,
        batch_review,
    )
    from batches.models import Batch
    from tests.conftest import PASSWORD
    from tests.factories import passing_result

    def alive():
        for name, process in processes.items():
            if process.poll() is not None:
                fail(f"{name} exited; see {var / (name + '.log')}")
        return http(port, "/healthz")[0] == 200

    wait(alive, "gunicorn to answer /healthz")
    status, _, body = wait(lambda: (lambda r: r if r[0] == 200 else None)(
        http(port, "/readyz")), "/readyz to be ready", timeout=120)
    checks = json.loads(body)["checks"]
    step("gunicorn (deploy/gunicorn.conf.py, DEBUG off), worker and beat up; /readyz 200: "
         + ", ".join(f"{k} {v['detail']}" for k, v in checks.items()))
    check_nginx(*nginx_ports)

    now = timezone.now().replace(microsecond=0)
    lot_number = f"SMOKE-{uuid.uuid4().hex[:6].upper()}"
    status, _, body = http(port, "/api/v1/batches/", headers={
        "Authorization": f"Bearer {synthesis_key}", "Idempotency-Key": str(uuid.uuid4())},
        data={"lot_number": lot_number, "product": product.code,
              "eos": (now - timedelta(minutes=50)).isoformat(),
              "calibration_time": (now + timedelta(minutes=10)).isoformat(),
              "activity": 8.0, "activity_unit": "MBq", "volume_ml": 4.0,
              "source_lot": lot.lot_number})
    if status != 201:
        fail(f"registration answered {status}: {body[:300]!r}")
    batch = wait(lambda: Batch.objects.filter(lot_number=lot_number, expiry__isnull=False)
                 .first(), "the worker to compute the batch's expiry")
    step(f"registered {lot_number} through the API; the worker computed its expiry")

    posted = 0
    for criterion in batch.specification.criteria.filter(release_before_result=False):
        if criterion.quantity == "impurity_ratio":
            continue  # from the source-lot certificate at registration
        at = min(now, batch.eos + timedelta(minutes=45))
        values = passing_result(batch, criterion, at=at)
        payload = {"lot_number": lot_number, "test_code": criterion.test_code,
                   "measured_at": at.isoformat(), **values}
        if criterion.validity == "daughter_equilibrium":
            payload["method_times"] = {"developed_at": (at - timedelta(minutes=40)).isoformat()}
        status, _, body = http(port, "/api/v1/results/", data=payload, headers={
            "Authorization": f"Bearer {lab_key}", "Idempotency-Key": str(uuid.uuid4())})
        if status != 201:
            fail(f"result {criterion.test_code} answered {status}: {body[:300]!r}")
        posted += 1
    required = batch.specification.criteria.filter(release_before_result=False).count()
    wait(lambda: Batch.objects.get(pk=batch.pk).criteria_passed >= required,
         "the worker to judge every result")
    step(f"posted {posted} results through the API; the worker judged all {required} "
         "release-required criteria passing")

    batch.refresh_from_db()
    batch_review(actor=reviewer, password=PASSWORD, batch=batch)
    batch.refresh_from_db()
    signed_at = time.monotonic()
    # Sterility is still incubating (14 days): the specification allows a conditional release.
    release = batch_release if batch.qc_status == "passing" else batch_release_conditionally
    release(actor=qp, password=PASSWORD, batch=batch)
    step("reviewed (QA) and " + ("released" if release is batch_release else
                                 "conditionally released (sterility pending)")
         + " (QP) with e-signatures")

    def downloaded():
        status, headers, body = http(port, f"/api/v1/batches/{lot_number}/certificate/",
                                     headers={"Authorization": f"Bearer {lab_key}",
                                              "Accept": "application/pdf"})
        return body if status == 200 and headers["Content-Type"] == "application/pdf" else None

    pdf = wait(downloaded, "the certificate to be issued")
    latency = time.monotonic() - signed_at
    check = certificate_verify(pdf)
    if not check.current:
        fail(f"the downloaded certificate does not verify: {check.summary}")
    step(f"downloaded the signed certificate through the API {latency:.1f} s after the "
         f"release ({len(pdf)} bytes): {check.summary}")

    status, _, body = http(port, "/metrics", headers={
        "Authorization": f"Bearer {env['METRICS_BEARER_TOKEN']}"})
    text = body.decode()
    wanted = ["alpharelease_release_latency_seconds_count 1.0",
              "alpharelease_pending_certificates 0.0", "alpharelease_celery_queue_length",
              "django_http_requests_total_by_method_total"]
    missing = [w for w in wanted if w not in text]
    if status != 200 or missing:
        fail(f"/metrics answered {status}, missing {missing}")
    if http(port, "/metrics")[0] != 403:
        fail("/metrics answered without the token")
    step("/metrics: release latency, pending certificates, queue length and HTTP metrics; "
         "refused without the token")

    from batches.operations.beat import LOCK_KEY, lock_client

    holder = lock_client(BROKER_URL).get(LOCK_KEY)
    if not holder:
        fail("beat holds no lock")
    step(f"beat holds the scheduler lock ({holder.decode()})")

    backups = var / "backups"
    run_backup = subprocess.run([str(ROOT / "deploy/backup"), str(backups)], env={
        **env, "APP_DIR": str(ROOT), "ENV_FILE": "/nonexistent"}, capture_output=True,
        text=True, timeout=600)
    if run_backup.returncode != 0:
        fail(f"deploy/backup: {run_backup.stderr[-500:]}")
    (archive,) = backups.glob("alpharelease-*.tar.gz")
    step(f"deploy/backup: {archive.name} ({archive.stat().st_size / 1e6:.2f} MB)")

    restored_url = f"{DATABASE_URL}_restored"
    recreate_database(restored_url)
    run_restore = subprocess.run([str(ROOT / "deploy/restore"), str(archive)], env={
        **env, "APP_DIR": str(ROOT), "ENV_FILE": "/nonexistent",
        "DATABASE_URL": restored_url, "MEDIA_ROOT": str(var / "restored-media"),
        "SIGNING_P12_PATH": str(var / "restored-signing" / "site.p12")},
        capture_output=True, text=True, timeout=600)
    print(run_restore.stdout.rstrip())
    if run_restore.returncode != 0:
        fail(f"deploy/restore exited {run_restore.returncode}: {run_restore.stderr[-500:]}")
    step(f"deploy/restore into {restored_url.rsplit('/', 1)[1]}: every check passed")
    import psycopg

    base, name = restored_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"smoke: PASSED in {time.monotonic() - STARTED:.0f} s: {lot_number} registered, "
          f"{posted} results by API, reviewed and released, certificate genuine and current "
          f"{latency:.1f} s after release; nginx, /readyz, /metrics, beat lock, backup and "
          "restore ok")


if __name__ == "__main__":
    main()
