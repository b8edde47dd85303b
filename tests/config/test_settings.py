"""Startup refuses bad configuration with a message naming the variable."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start_django(code: str = "print(settings.DATABASES['default']['ENGINE'])",
                 **env) -> subprocess.CompletedProcess:
    """Python `code` run after django.setup() in a process of its own, with `env` and none of
    this session's DEBUG, SECRET_KEY, DATABASE_URL and CELERY_BROKER_URL."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL")}
    return subprocess.run(
        [sys.executable, "-c", "import django, logging; django.setup(); "
         f"from django.conf import settings; {code}"],
        cwd=ROOT, env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True, text=True, timeout=60)


def database_options(url: str) -> dict:
    """The connection options the settings make of DATABASE_URL `url`."""
    run = start_django("print(repr(settings.DATABASES['default']['OPTIONS']))",
                       SECRET_KEY="x" * 40, DATABASE_URL=url)
    assert run.returncode == 0, run.stderr
    return ast.literal_eval(run.stdout.strip())


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    run = start_django(DEBUG="false")
    assert run.returncode != 0
    assert "SECRET_KEY is not set" in run.stderr


def test_it_names_the_variable_when_debug_is_not_a_boolean():
    run = start_django(DEBUG="maybe", SECRET_KEY="x" * 40)
    assert run.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in run.stderr


def test_it_names_the_variable_when_the_database_url_is_malformed():
    run = start_django(SECRET_KEY="x" * 40, DATABASE_URL="nonsense://what")
    assert run.returncode != 0
    assert "DATABASE_URL='nonsense://what' is not a database URL" in run.stderr


@pytest.mark.parametrize("name, value, message", [
    ("TIME_ZONE", "Mars/Olympus", "TIME_ZONE='Mars/Olympus' is not a known time zone"),
    ("CERTIFICATE_PAPER", "A3", "CERTIFICATE_PAPER='A3' must be one of: A4, Letter"),
    ("SESSION_IDLE_TIMEOUT_S", "soon", "SESSION_IDLE_TIMEOUT_S='soon' is not a whole number"),
    ("DECAY_HALF_LIFE_OVERRIDES", "Ac-225:9.9",
     "DECAY_HALF_LIFE_OVERRIDES: 'Ac-225:9.9' must look"),
    ("READINESS_TIMEOUT_S", "60", "READINESS_TIMEOUT_S=60 must be between 0.1 and 30"),
    ("METRICS_ALLOWED_IPS", "127.0.0.1,intranet",
     "METRICS_ALLOWED_IPS: 'intranet' is not an IP address or network"),
    ("METRICS_BEARER_TOKEN", "short", "METRICS_BEARER_TOKEN is 5 characters long"),
    ("SENTRY_DSN", "https://sentry.example.org/1",
     "SENTRY_DSN is not a valid DSN (Missing public key)"),
    ("SENTRY_TRACES_SAMPLE_RATE", "5", "SENTRY_TRACES_SAMPLE_RATE=5 must be between 0 and 1"),
    ("LOG_FORMAT", "xml", "LOG_FORMAT='xml' must be one of: json, text"),
    ("LOG_LEVEL", "LOUD", "LOG_LEVEL='LOUD' must be one of"),
    ("EMAIL_BACKEND", "django.core.mail.backends.smtps.EmailBackend",
     "EMAIL_BACKEND='django.core.mail.backends.smtps.EmailBackend' cannot be imported"),
    ("EMAIL_PORT", "smtp", "EMAIL_PORT='smtp' is not a whole number"),
    ("BEAT_LOCK_TTL_S", "2", "BEAT_LOCK_TTL_S=2 must be at least 6"),
    ("LOGIN_RECORDS_RETENTION_DAYS", "7", "LOGIN_RECORDS_RETENTION_DAYS=7 must be at least 30"),
    ("SITE_URL", "release.example.nl", "SITE_URL='release.example.nl' is not a base URL"),
    ("SITE_URL", "ftp://release.example.nl", "SITE_URL='ftp://release.example.nl' is not a"),
])
def test_it_refuses_other_bad_values_with_their_names(name, value, message):
    run = start_django(SECRET_KEY="x" * 40, **{name: value})
    assert run.returncode != 0
    assert message in run.stderr


def test_it_starts_on_the_embedded_sqlite_default_in_debug(tmp_path):
    run = start_django(DEBUG="true", ALPHARELEASE_VAR_DIR=str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "django.db.backends.sqlite3"


def test_an_empty_database_url_means_the_embedded_default(tmp_path):
    run = start_django(DEBUG="true", DATABASE_URL="", ALPHARELEASE_VAR_DIR=str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "django.db.backends.sqlite3"


def test_a_valid_sentry_dsn_starts_error_reporting_without_contacting_it(tmp_path):
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); import sentry_sdk; "
         "from django.conf import settings; "
         "print(settings.SENTRY_ENABLED, sentry_sdk.get_client().is_active())"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true",
             "ALPHARELEASE_VAR_DIR": str(tmp_path),
             "SENTRY_DSN": "http://public@127.0.0.1:9/1"})
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "True"]


@pytest.mark.parametrize("env, message", [
    ({"MEDIA_STORAGE": "ftp"}, "MEDIA_STORAGE='ftp' must be one of: filesystem, s3"),
    ({"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"},
     "EMAIL_USE_TLS and EMAIL_USE_SSL are both true"),
    ({"MEDIA_STORAGE": "s3"}, "MEDIA_S3_BUCKET='' is not a bucket name"),
    ({"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": "Media_Bucket"},
     "MEDIA_S3_BUCKET='Media_Bucket' is not a bucket name"),
    ({"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": "media", "MEDIA_S3_ENDPOINT_URL": "minio:9000"},
     "MEDIA_S3_ENDPOINT_URL='minio:9000' is not an http(s) URL"),
    ({"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": "media", "MEDIA_S3_ACCESS_KEY_ID": "AKIA1"},
     "MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY go together"),
])
def test_it_refuses_an_incomplete_object_storage_configuration(env, message):
    run = start_django(SECRET_KEY="x" * 40, **env)
    assert run.returncode != 0
    assert message in run.stderr


def test_the_site_url_defaults_to_the_local_demo_address_in_debug(tmp_path):
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "SITE_URL")}
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); "
         "from django.conf import settings; print(settings.SITE_URL)"],
        cwd=ROOT, env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true",
                       "ALPHARELEASE_VAR_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "http://127.0.0.1:8000"


@pytest.mark.parametrize("query, threshold", [("", None), ("?prepare_threshold=off", None),
                                              ("?prepare_threshold=0", 0),
                                              ("?prepare_threshold=12", 12)])
def test_the_database_url_can_turn_statement_preparing_off_or_change_its_count(
        monkeypatch, query, threshold):
    from config.env import env_database

    monkeypatch.setenv("DATABASE_URL", f"postgres://app@127.0.0.1:5432/alpharelease{query}")
    options = env_database("DATABASE_URL", "").get("OPTIONS", {})
    assert options.get("prepare_threshold") == threshold
    assert ("prepare_threshold" in options) == bool(query)


@pytest.mark.parametrize("value", ["soon", "-1", "2.5"])
def test_a_prepare_threshold_that_is_no_count_stops_start_up_naming_it(value):
    run = start_django(SECRET_KEY="x" * 40, DATABASE_URL=(
        f"postgres://app@127.0.0.1:5432/alpharelease?prepare_threshold={value}"))
    assert run.returncode != 0
    assert f"DATABASE_URL: prepare_threshold='{value}' must be a whole number" in run.stderr


def test_postgresql_prepares_a_statement_from_its_fifth_run_unless_the_url_says_otherwise():
    options = database_options("postgres://app@127.0.0.1:5432/alpharelease")
    assert options["prepare_threshold"] == 5


def log_through_django(level: str) -> str:
    run = start_django(
        "logging.getLogger('django.request').warning('Unauthorized: /api/v1/results/'); "
        "logging.getLogger('alpharelease.request').error('a failed request')",
        DEBUG="false", SECRET_KEY="x" * 40, LOG_LEVEL=level)
    assert run.returncode == 0, run.stderr
    return run.stderr


def test_log_level_error_quiets_djangos_own_warnings_but_keeps_errors():
    logged = log_through_django("ERROR")
    assert "Unauthorized" not in logged
    assert "a failed request" in logged


def test_log_level_warning_keeps_djangos_warnings():
    assert "Unauthorized" in log_through_django("WARNING")


def _postgresql_options(url: str) -> str:
    return database_options(url).get("options", "")


def test_the_connection_leaves_the_choice_of_plan_to_postgresql():
    # generic plans for the write path; the page reads that need it ask for custom plans
    url = "postgres://app@127.0.0.1:5432/alpharelease"
    assert "plan_cache_mode" not in _postgresql_options(url)
    assert _postgresql_options(f"{url}?options=-c%20work_mem%3D8MB") == "-c work_mem=8MB"
