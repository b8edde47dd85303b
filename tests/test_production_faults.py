"""Faults on the production path, for real: a Redis of the test's own stopped and started
while results and a release are posted, a worker SIGKILLed while it issues a certificate,
and the demo seeded through a real worker. gunicorn, a Celery worker and beat run as
processes on the test database, with the sweeps every few seconds.

Selected only when CELERY_BROKER_URL is set (the second pass of .ci/run)."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from batches.disposition import services as disposition
from batches.models import Batch, BatchStatus, Certificate, CertificateStatus, Evaluation, Result
from config.celery import app
from qc.api_keys import api_key_create
from qc.models import Instrument, InstrumentKind
from qc.roles import Role
from tests.conftest import PASSWORD
from tests.factories import make_ac225_batch, make_instrument, record_release_required_results
from tests.test_production_path import wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """Our own Redis, and gunicorn, a worker and beat on it and on the test database."""

    def __init__(self, tmp: Path, signing: Path):
        self.tmp = tmp
        self.redis_port, self.web_port = free_port(), free_port()
        self.broker = f"redis://127.0.0.1:{self.redis_port}/0"
        db = connection.settings_dict
        self.env = {
            **os.environ, "DATABASE_URL": (f"postgres://{db['USER'] or 'postgres'}@{db['HOST']}:"
                                           f"{db['PORT'] or 5432}/{db['NAME']}"),
            "CELERY_BROKER_URL": self.broker, "DEBUG": "false",
            "SECRET_KEY": "test-only-secret-key-not-for-production",
            "ALLOWED_HOSTS": "127.0.0.1", "MEDIA_ROOT": str(tmp / "media"),
            "ALPHARELEASE_VAR_DIR": str(tmp / "var"),
            "SIGNING_P12_PATH": str(signing / "site.p12"),
            "SIGNING_P12_PASSPHRASE": "test-passphrase",
            "SWEEP_INTERVAL_S": "2", "CERTIFICATE_REQUEUE_AFTER_S": "10",
            "CERTIFICATE_CLAIM_TIMEOUT_S": "8",
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self.commands: dict[str, list[str]] = {}
        self.restarts: dict[str, int] = {}
        self._watching = threading.Event()
        threading.Thread(target=self._supervise, daemon=True).start()

    def _start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "a")
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name], self.commands[name] = process, command
        return process

    def _supervise(self) -> None:
        """Restart a worker or beat that exits, as systemd does (Restart=on-failure in the
        deploy units): Celery's worker gives up with 'Unrecoverable error' when the broker
        vanishes while it restores unacknowledged messages."""
        while not self._watching.wait(1.0):
            for name in ("worker", "beat"):
                process = self.processes.get(name)
                if process is not None and process.poll() not in (None, 0, -signal.SIGKILL):
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    self._start(name, self.commands[name])

    def start_redis(self) -> None:
        self._start("redis", [shutil.which("redis-server"), "--port", str(self.redis_port),
                              "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        wait_for(lambda: _answers(self.redis_port), 10, "our Redis")

    def stop_redis(self) -> None:
        self.stop("redis")

    def start_worker(self) -> subprocess.Popen:
        return self._start("worker", [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
            "--concurrency=2", "--loglevel=INFO", "--without-gossip", "--without-mingle"])

    def start_beat(self) -> None:
        self._start("beat", [sys.executable, "-m", "celery", "-A", "config", "beat",
                             "--loglevel=INFO", "-s", str(self.tmp / "beat-schedule")])

    def start_web(self) -> None:
        self._start("web", [sys.executable, "-m", "gunicorn", "config.wsgi:application",
                            "--bind", f"127.0.0.1:{self.web_port}", "--workers", "2",
                            "--access-logfile", "-"])
        wait_for(lambda: _answers(self.web_port), 60, "gunicorn")

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is not None and process.poll() is None:
            os.killpg(process.pid, sig)
            process.wait(timeout=30)

    def stop_all(self) -> None:
        self._watching.set()
        for name in list(self.processes):
            self.stop(name)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def stack(tmp_path, identity_dir, monkeypatch, settings):
    stack = Stack(tmp_path, identity_dir)
    # This process (the services called directly) queues on our Redis too.
    settings.SIGNING_P12_PATH = str(identity_dir / "site.p12")
    settings.SIGNING_P12_PASSPHRASE = "test-passphrase"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    names = ("broker_url", "broker_write_url", "broker_read_url")
    previous = {name: app.conf[name] for name in names}
    _point_at(**dict.fromkeys(names, stack.broker))
    try:
        yield stack
    finally:
        stack.stop_all()
        _point_at(**previous)


def _point_at(**urls) -> None:
    """Queue this process's messages on another broker (Celery resolves the write URL when
    it is configured, and keeps a pool per connection)."""
    for name, url in urls.items():
        app.conf[name] = url
    app._pool = None
    app.amqp._producer_pool = None


def instrument_key(batch) -> str:
    instrument = Instrument.objects.filter(kind=InstrumentKind.PH_METER).first() or \
        make_instrument(InstrumentKind.PH_METER)
    _, plaintext = api_key_create(actor=None, instrument=instrument, test_codes=["ph"])
    return plaintext


def post_result(stack: Stack, key: str, batch, at, value: float) -> int:
    response = httpx.post(
        f"http://127.0.0.1:{stack.web_port}/api/v1/results/", timeout=30,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"ph-{value}"},
        json={"lot_number": batch.lot_number, "test_code": "ph", "value": value, "unit": "pH",
              "measured_at": at.isoformat()})
    return response.status_code


def test_a_broker_outage_loses_nothing_and_everything_is_judged_after_it(
        stack, products, operator, analyst, reviewer, qp, now):
    batch = make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                             eos=now - timedelta(minutes=50))
    key = instrument_key(batch)
    stack.start_redis()
    stack.start_worker()
    stack.start_beat()
    stack.start_web()
    before = [post_result(stack, key, batch, now - timedelta(minutes=30), 7.0 + i / 100)
              for i in range(5)]

    stack.stop_redis()  # the broker is gone
    during = [post_result(stack, key, batch, now - timedelta(minutes=29), 7.1 + i / 100)
              for i in range(20)]
    record_release_required_results(batch, analyst, now=timezone.now())
    assert before + during == [201] * 25  # every committed write acknowledged
    assert Result.objects.filter(batch=batch, channel="api").count() == 25

    stack.start_redis()  # it comes back, empty: the messages sent meanwhile are lost
    back = time.monotonic()
    wait_for(lambda: not Result.objects.filter(batch=batch, evaluation__isnull=True).exists(),
             120, "every stored result to be evaluated after the broker's return")
    recovered_s = time.monotonic() - back
    print(f"broker_outage_results_evaluated_after_return_s: {recovered_s:.1f} "
          f"(worker restarts: {stack.restarts.get('worker', 0)})")

    # QA's review and the QP's conditional release while the broker is down again
    stack.stop_redis()
    disposition.batch_review(actor=reviewer, password=PASSWORD, batch=batch)
    signature = disposition.batch_release_conditionally(actor=qp, password=PASSWORD,
                                                        batch=batch)
    assert Batch.objects.get(pk=batch.pk).status == BatchStatus.CONDITIONALLY_RELEASED
    stack.start_redis()
    certificate = wait_for(lambda: Certificate.objects.filter(
        signature=signature, status=CertificateStatus.ISSUED).first(), 120,
        "the certificate of a release signed during the outage")
    assert certificate.batch_id == batch.pk
    assert Evaluation.objects.filter(result__batch=batch).count() == \
        Result.objects.filter(batch=batch).count()


def test_a_worker_killed_while_issuing_leaves_exactly_one_current_certificate(
        stack, products, operator, analyst, reviewer, qp, now):
    batch = make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                             eos=now - timedelta(minutes=50))
    stack.start_redis()
    worker = stack.start_worker()
    stack.start_beat()
    wait_for(lambda: Batch.objects.get(pk=batch.pk).expiry, 60, "the batch's expiry")
    record_release_required_results(batch, analyst, now=timezone.now())
    wait_for(lambda: not Result.objects.filter(batch=batch, evaluation__isnull=True).exists(),
             60, "the results' evaluations")
    disposition.batch_review(actor=reviewer, password=PASSWORD, batch=batch)
    conditional = disposition.batch_release_conditionally(actor=qp, password=PASSWORD,
                                                          batch=batch)
    # SIGKILL the worker as soon as it has claimed the certificate (mid-render)
    wait_for(lambda: Certificate.objects.filter(signature=conditional,
                                                claimed_at__isnull=False).exists()
             or Certificate.objects.filter(signature=conditional, status="issued").exists(),
             60, "the worker to claim the certificate")
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    stack.processes.pop("worker")
    stack.start_worker()
    wait_for(lambda: Certificate.objects.filter(batch=batch, status="issued").exists(), 120,
             "the certificate after the worker's restart")
    time.sleep(3)  # a late duplicate would show now
    current = list(Certificate.objects.filter(batch=batch, status=CertificateStatus.ISSUED))
    assert len(current) == 1
    assert Certificate.objects.filter(batch=batch).count() == 1


def test_the_demo_seeded_through_a_real_worker_ends_with_each_final_certificate_current(
        stack, tmp_path):
    for role in Role:  # made by a migration; a transactional test's flush removed them
        Group.objects.get_or_create(name=role.value)
    stack.start_redis()
    stack.start_worker()
    stack.start_beat()
    seeded = subprocess.run([sys.executable, "manage.py", "seed_demo", "--not-production"],
                            cwd=ROOT, env={
        **stack.env, "DECAY_HALF_LIFE_OVERRIDES": "Ac-225=9.920d"}, capture_output=True,
        text=True, timeout=600)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    wait_for(lambda: not Certificate.objects.filter(status="pending").exists(), 240,
             "every demo certificate to be issued")
    released = Batch.objects.filter(status=BatchStatus.RELEASED)
    assert released.count() >= 3
    for batch in released:
        versions = list(batch.certificates.order_by("version"))
        assert [c.status for c in versions][-1] == CertificateStatus.ISSUED, batch.lot_number
        assert all(c.status == CertificateStatus.SUPERSEDED for c in versions[:-1])
        assert versions[-1].disposition == BatchStatus.RELEASED
