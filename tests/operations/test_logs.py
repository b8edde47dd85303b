"""Logs are JSON lines in UTC; a request id follows a request into the tasks it enqueues."""

import json
import logging
import os
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from batches.operations.logs import RequestIdFilter, UtcJsonFormatter
from batches.operations.requests import (
    enter_task,
    leave_task,
    request_id_var,
    stamp_published_task,
)

pytestmark = pytest.mark.django_db


def as_json(record: logging.LogRecord) -> dict:
    RequestIdFilter().filter(record)
    return json.loads(UtcJsonFormatter().format(record))


def test_a_request_without_an_id_gets_a_new_one_in_the_response(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_the_proxys_request_id_is_kept_and_echoed(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="nginx-4f2a.9")["X-Request-ID"] == \
        "nginx-4f2a.9"


def test_a_request_id_that_could_forge_log_lines_is_replaced(client):
    answered = client.get("/healthz", HTTP_X_REQUEST_ID='x" "level": "ERROR')["X-Request-ID"]
    assert len(answered) == 32 and '"' not in answered


def test_each_request_is_logged_as_one_json_line_in_utc_with_its_id(client, caplog, analyst):
    client.force_login(analyst)
    with caplog.at_level(logging.INFO, logger="alpharelease.request"):
        client.get("/", HTTP_X_REQUEST_ID="req-42")
    record = next(r for r in caplog.records if r.name == "alpharelease.request")
    line = as_json(record)
    assert line["request_id"] == "req-42"
    assert line["method"] == "GET" and line["path"] == "/" and line["status"] == 200
    assert line["user_id"] == analyst.pk and line["level"] == "INFO"
    assert line["time"].endswith("+00:00")


def test_a_published_task_carries_the_request_id_into_the_worker():
    headers = {}
    token = request_id_var.set("req-7")
    try:
        stamp_published_task(headers=headers)
    finally:
        request_id_var.reset(token)
    assert headers == {"request_id": "req-7"}
    task = SimpleNamespace(request=SimpleNamespace(request_id=headers["request_id"]))
    enter_task(task_id="t1", task=task)
    assert request_id_var.get() == "req-7"
    assert as_json(logging.LogRecord("celery", logging.INFO, "", 0, "done", (), None))[
        "request_id"] == "req-7"
    leave_task(task_id="t1")
    assert request_id_var.get() == ""


def test_periodic_work_no_request_started_is_logged_under_its_task_id():
    enter_task(task_id="beat-1", task=SimpleNamespace(request=SimpleNamespace()))
    try:
        assert request_id_var.get() == "task-beat-1"
    finally:
        leave_task(task_id="beat-1")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_workers_log_lines_for_a_task_carry_the_request_id_that_sent_it(
        celery_worker_process, products, operator, now):
    from batches.tasks import compute_batch_physics
    from tests.factories import make_ac225_batch

    batch = make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                             eos=now - timedelta(minutes=30))
    token = request_id_var.set("req-worker-check")
    try:
        compute_batch_physics.delay(batch.pk)
    finally:
        request_id_var.reset(token)
    log = Path(os.environ.get("TMPDIR", "/tmp")) / "alpharelease-test-worker.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in log.read_text().splitlines()
                 if line.startswith("{")]
        done = [line for line in lines if line.get("request_id") == "req-worker-check"
                and "succeeded" in line["message"]]
        if done:
            assert done[0]["time"].endswith("+00:00")
            return
        time.sleep(0.2)
    raise AssertionError(f"no JSON line with the request id in {log}")
