"""A worker that cannot reach the database puts its tasks back and does not drain the queue.

A real worker (prefork, two processes) on a Redis of the test's own reaches the test
database through a TCP gate the test opens and shuts. With the gate shut, results are queued
for evaluation: the worker takes one task per process at a time, finds the database
unreachable, pauses and returns the message to the queue; no task is dropped, failed or
retried away, and the other messages stay in the queue for a worker that can reach the
database. With the gate open again, every result is judged exactly once.

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

import pytest
import redis
from django.db import connection

from batches import jobs
from batches.models import Evaluation, Result
from config.celery import app
from tests.factories import make_ac225_batch, record_release_required_results
from tests.test_production_path import wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
CONCURRENCY = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gate:
    """A TCP forwarder to PostgreSQL on a port of its own. Shut, it refuses connections and
    cuts the ones it carries, as a database host that went away would."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.port = target, free_port()
        self.listener: socket.socket | None = None
        self.carried: list[socket.socket] = []
        self.lock = threading.Lock()

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def shut(self) -> None:
        with self.lock:
            listener, self.listener = self.listener, None
            carried, self.carried = self.carried, []
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            except OSError:
                pass
            listener.close()
        for sock in carried:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                if self.listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self.carried += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def unjudged_results(monkeypatch, products, operator, analyst, now):
    """Results recorded with their evaluation jobs held back: only the worker of this test
    gets their messages."""
    monkeypatch.setattr(jobs, "send", lambda *args: None)
    batch = make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                             eos=now - timedelta(minutes=50))
    results = record_release_required_results(batch, analyst, now=now)
    assert jobs.flush_evaluations()  # the publisher thread has sent (to nowhere) what it held
    monkeypatch.undo()
    assert not Evaluation.objects.filter(result__in=results).exists()
    return results


@pytest.fixture
def own_redis(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    wait_for(lambda: _pings(client), 10, "our Redis")
    yield f"redis://127.0.0.1:{port}/0", client
    process.terminate()
    process.wait(timeout=10)


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.RedisError:
        return False


@pytest.fixture
def worker_behind_gate(own_redis, tmp_path):
    broker, client = own_redis
    db = connection.settings_dict
    gate = Gate((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    gate.open()
    log = tmp_path / "worker.log"
    env = {**os.environ,
           "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@127.0.0.1:{gate.port}/"
                           f"{db['NAME']}",
           "CELERY_BROKER_URL": broker, "DATABASE_OUTAGE_PAUSE_S": "1",
           "AUDIT_CHECKPOINT_DIR": str(tmp_path / "checkpoints"), "LOG_FORMAT": "text"}
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
             f"--concurrency={CONCURRENCY}", "--loglevel=INFO", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    # The site's app, on a connection to our Redis (its own broker setting names CI's).
    conn = app.connection_for_write(broker)
    try:
        wait_for(lambda: worker.poll() is None and " ready." in log.read_text(), 60,
                 f"the worker (log: {log})")
        yield gate, conn, client, log
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a worker still holding tasks: no warm shutdown
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        gate.shut()
        conn.release()


def _in_broker(client) -> tuple[int, int]:
    """(messages waiting in the queue, messages a worker holds unacknowledged)."""
    return client.llen("celery"), client.hlen("unacked")


def test_a_worker_cut_off_from_the_database_puts_tasks_back_and_runs_them_once_it_is_back(
        unjudged_results, worker_behind_gate):
    gate, conn, client, log = worker_behind_gate
    gate.shut()
    for result in unjudged_results:
        app.send_task(jobs.EVALUATE_RESULT, args=[result.id], connection=conn)
    sent = len(unjudged_results)

    # Eight seconds of outage: each of the two processes takes a task, finds no database,
    # waits a second and puts it back; the rest never leave the queue.
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        waiting, held = _in_broker(client)
        assert held <= CONCURRENCY and waiting >= sent - CONCURRENCY, (waiting, held)
        time.sleep(0.2)
    # (A message moving between the queue and the worker is in neither for an instant.)
    wait_for(lambda: sum(_in_broker(client)) == sent, 5, "every message back in the broker")
    assert not Evaluation.objects.filter(result__in=unjudged_results).exists()
    text = log.read_text()
    assert text.count("database unreachable") >= 4, text[-3000:]
    assert "Retry in" not in text and "raised unexpected" not in text, text[-3000:]

    gate.open()
    wait_for(lambda: Evaluation.objects.filter(result__in=unjudged_results).count() == sent,
             30, "every result judged after the database came back")
    wait_for(lambda: _in_broker(client) == (0, 0), 10, "the queue emptied")
    assert Evaluation.objects.filter(result__in=unjudged_results).count() == sent
    assert Result.objects.filter(id__in=[r.id for r in unjudged_results],
                                 evaluation__isnull=True).count() == 0
    assert "raised unexpected" not in log.read_text()
