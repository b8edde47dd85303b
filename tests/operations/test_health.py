"""/healthz says the process is alive; /readyz says which dependency is down, quickly."""

import json
import socket
import time

import pytest
from django.db import OperationalError

from batches.operations import health

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_readyz_is_ready_with_tasks_in_process_and_a_loadable_signing_key(client,
                                                                          signing_identity):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    checks = response.json()["checks"]
    assert set(checks) == {"database", "broker", "worker", "signing_key"}
    assert all(check["ok"] for check in checks.values())
    assert checks["broker"]["detail"].startswith("in process")
    assert checks["worker"]["detail"].startswith("in process")


def test_readyz_names_a_missing_signing_key_in_a_503_problem(client, settings, tmp_path,
                                                             caplog):
    settings.SIGNING_P12_PATH = str(tmp_path / "absent.p12")
    with caplog.at_level("WARNING", logger="batches.operations.views"):
        response = client.get("/readyz")
    [logged] = [r for r in caplog.records if r.name == "batches.operations.views"]
    assert logged.down == ["signing_key"] and "absent.p12" in logged.getMessage()
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["down"] == ["signing_key"]
    assert "signing_key" in body["detail"] and "absent.p12" in body["detail"]
    assert body["checks"]["database"]["ok"] is True


def test_readyz_names_a_wrong_signing_passphrase(client, signing_identity, settings):
    settings.SIGNING_P12_PASSPHRASE = "not-the-passphrase"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert json.loads(response.content)["down"] == ["signing_key"]


def test_readyz_reports_a_database_that_refuses_connections(client, signing_identity,
                                                            monkeypatch):
    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "check_database", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["down"] == ["database"]
    assert "OperationalError: connection refused" in body["checks"]["database"]["detail"]


@pytest.fixture
def silent_broker():
    """A TCP port that accepts connections and never says a word (a hung Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    server.close()


def test_readyz_does_not_hang_on_a_broker_that_never_answers(client, signing_identity, settings,
                                                             silent_broker):
    from config.celery import app

    settings.READINESS_TIMEOUT_S = 0.5
    settings.CELERY_TASK_ALWAYS_EAGER = False
    urls = ("broker_url", "broker_read_url", "broker_write_url")
    previous = {name: app.conf[name] for name in urls}
    app.conf.update({name: silent_broker for name in urls})
    try:
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    finally:
        app.conf.update(previous)
    assert response.status_code == 503
    body = json.loads(response.content)
    assert set(body["down"]) == {"broker", "worker"}
    assert body["checks"]["database"]["ok"] and body["checks"]["signing_key"]["ok"]
    assert elapsed < 2.0, f"/readyz took {elapsed:.1f} s"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_readyz_is_ready_when_a_real_worker_answers_on_the_broker(celery_worker_process, client,
                                                                 signing_identity, settings):
    client.get("/readyz")  # the worker's first ping reply may wait for its start-up
    started = time.monotonic()
    response = client.get("/readyz")
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.content
    checks = response.json()["checks"]
    assert checks["broker"]["detail"] == "reachable"
    assert checks["worker"]["detail"].endswith("answered")
    # The first worker's pong is enough: a ready site does not wait the ping's timeout.
    assert elapsed < settings.READINESS_TIMEOUT_S, f"/readyz took {elapsed:.2f} s"
