"""/metrics: HTTP metrics and the service's own gauges, only for those allowed to see them."""

import ipaddress
from datetime import timedelta

import pytest
from django.db import transaction
from prometheus_client.parser import text_string_to_metric_families

from batches.certificates.services import certificate_request_issue
from batches.records import results as services
from qc.signatures import signature_apply
from tests.factories import criterion, record_release_required_results

pytestmark = pytest.mark.django_db
TOKEN = "t" * 40


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_BEARER_TOKEN = TOKEN
    return {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


def scrape(client, **headers) -> dict:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            key = sample.name + "".join(f"|{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[key] = sample.value
    return samples


def test_metrics_are_refused_without_a_token_or_an_allowed_address(client, settings):
    settings.METRICS_BEARER_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 403
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + "x" * 40)
    assert response.status_code == 403
    assert "METRICS_ALLOWED_IPS" in response.json()["detail"]


def test_an_allowed_network_may_scrape_without_a_token(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403


def test_metrics_count_unjudged_results_and_pending_certificates(
        client, metrics_token, signing_identity, ac225_batch, analyst, qp, now, committed):
    with committed():
        record_release_required_results(ac225_batch, analyst, now=now)
    with committed():
        signature = _sign(ac225_batch, qp)
        certificate_request_issue(batch_id=ac225_batch.pk, signature_id=signature.pk)
    before = scrape(client, **metrics_token)
    # A second release signature whose certificate is requested but not yet issued, and a
    # result whose evaluation has not run (their on-commit work never runs here).
    pending_signature = _sign(ac225_batch, qp)
    certificate_request_issue(batch_id=ac225_batch.pk, signature_id=pending_signature.pk)
    services.result_record(actor=analyst, batch=ac225_batch,
                           criterion=criterion(ac225_batch, "ph"),
                           measured_at=now - timedelta(minutes=1), value=7.1, unit="pH")

    samples = scrape(client, **metrics_token)
    assert before["alpharelease_pending_certificates"] == 0
    assert (samples["alpharelease_unevaluated_results"]
            == before["alpharelease_unevaluated_results"] + 1)
    assert samples["alpharelease_pending_certificates"] == 1
    assert 0 <= samples["alpharelease_oldest_pending_certificate_age_seconds"] < 60
    assert samples["alpharelease_release_latency_seconds_count"] == 1
    assert samples["alpharelease_release_latency_seconds_bucket|le=+Inf"] == 1
    assert samples["alpharelease_release_latency_seconds_bucket|le=3600.0"] == 1
    assert 0 < samples["alpharelease_release_latency_seconds_sum"] < 60
    # HTTP metrics from django-prometheus are there too.
    assert any(key.startswith("django_http_requests_total_by_method") for key in samples)


def test_an_empty_site_reports_zeros(client, metrics_token):
    samples = scrape(client, **metrics_token)
    assert samples["alpharelease_unevaluated_results"] == 0
    assert samples["alpharelease_pending_certificates"] == 0
    assert samples["alpharelease_oldest_pending_certificate_age_seconds"] == 0
    assert samples["alpharelease_release_latency_seconds_count"] == 0
    assert "alpharelease_celery_queue_length|queue=celery" not in samples  # tasks in process


def _sign(batch, user):
    with transaction.atomic():
        return signature_apply(user=user, meaning="released", object_type="batches.batch",
                               object_id=batch.pk, record={"lot": batch.lot_number},
                               batch_lot=batch.lot_number)


@pytest.mark.services
def test_the_queue_length_is_read_from_the_redis_broker(client, metrics_token, settings):
    import redis

    from config.celery import app

    queue = "alpharelease-metrics-test"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    previous, app.conf.task_default_queue = app.conf.task_default_queue, queue
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        broker.delete(queue, f"{queue}\x06\x163")
        broker.lpush(queue, "a", "b")
        broker.lpush(f"{queue}\x06\x163", "c")  # a message sent with priority 3
        samples = scrape(client, **metrics_token)
    finally:
        broker.delete(queue, f"{queue}\x06\x163")
        app.conf.task_default_queue = previous
    assert samples[f"alpharelease_celery_queue_length|queue={queue}"] == 3


def test_the_example_alert_rules_use_only_metrics_the_service_exports(client, metrics_token):
    import re
    from pathlib import Path

    import yaml

    rules = yaml.safe_load((Path(__file__).parents[2] / "deploy/prometheus-alerts.yml")
                           .read_text())["groups"][0]["rules"]
    client.get("/healthz")  # so that there are HTTP responses to count
    used = {name for rule in rules
            for name in re.findall(r"\b(alpharelease_[a-z_]+|django_[a-z_]+)", rule["expr"])}
    exported = {key.split("|")[0] for key in scrape(client, **metrics_token)}
    exported |= {"alpharelease_celery_queue_length"}  # only with a Redis broker (tested there)
    assert used and used <= exported, used - exported
