"""bench-api's plain DRF create exists only when the bench switches it on."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
URL = "/bench/plain-drf/results/"


def run_with_the_switch(tmp_path, script: list[str], value: str = "1"):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", SECRET_KEY="x" * 40, DEBUG="false",
               ALLOWED_HOSTS="testserver", ALPHARELEASE_VAR_DIR=str(tmp_path),
               ALPHARELEASE_BENCH_PLAIN_DRF=value)
    return subprocess.run([sys.executable, *script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_without_the_bench_switch_the_app_is_not_installed_and_its_url_is_not_found(client):
    assert not settings.BENCH_PLAIN_DRF
    assert "bench.plaindrf" not in settings.INSTALLED_APPS
    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS
    response = client.post(URL, {"lot_number": "X"}, content_type="application/json")
    assert response.status_code == 404


def test_with_the_switch_it_stores_a_row_for_a_token_and_refuses_a_missing_one(tmp_path):
    run = run_with_the_switch(tmp_path, [str(Path(__file__).with_name("plain_drf_probe.py"))])
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["created"] == 201
    assert seen["anonymous"] == 401
    assert seen["anonymous_challenge"] == "Token"
    assert seen["wrong"] == 401
    assert seen["bad"] == 400
    assert seen["bad_fields"] == ["measured_at", "value"]
    assert seen["rows"] == [{"lot_number": "BENCH-001", "test_code": "ph", "value": 7.2,
                             "unit": "pH", "measured_at": "2026-01-05T08:30:00+00:00",
                             "recorded_by": "bench-instrument"}]


def test_with_the_switch_the_site_checks_clean_and_its_migration_matches_its_model(tmp_path):
    check = run_with_the_switch(tmp_path, ["manage.py", "check"])
    assert check.returncode == 0, check.stderr
    drift = run_with_the_switch(
        tmp_path, ["manage.py", "makemigrations", "bench_plaindrf", "--check", "--dry-run"])
    assert drift.returncode == 0, drift.stdout + drift.stderr
    plan = run_with_the_switch(tmp_path, ["manage.py", "migrate", "bench_plaindrf", "--plan"])
    assert plan.returncode == 0, plan.stderr
    assert "bench_plaindrf.0001_initial" in plan.stdout


def test_a_switch_that_is_not_a_boolean_stops_startup_with_its_name(tmp_path):
    run = run_with_the_switch(tmp_path, ["manage.py", "check"], value="maybe")
    assert run.returncode != 0
    assert "ALPHARELEASE_BENCH_PLAIN_DRF='maybe' is not a boolean" in run.stderr
