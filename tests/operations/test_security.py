"""Security headers, and `check --deploy` clean with the documented production settings."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.operations.test_env_example import env_example_as_written

ROOT = Path(__file__).resolve().parents[2]


def test_pages_carry_a_content_security_policy_without_unsafe_inline(client):
    response = client.get("/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.django_db
def test_the_api_docs_inline_script_runs_under_the_requests_nonce(client, analyst):
    client.force_login(analyst)
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    html = response.content.decode()
    inline = re.findall(r"<(script|style)(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce}"' in attrs for _, attrs in inline), inline


def _templates():
    return sorted((ROOT / "templates").rglob("*.html"))


@pytest.mark.parametrize("template", _templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_code_the_policy_would_refuse(template):
    html = template.read_text()
    for tag, attrs in re.findall(r"<(script|style)\b([^>]*)>", html):
        assert "src=" in attrs or "nonce=" in attrs, f"inline <{tag}> without a nonce"
    assert not re.search(r"\son[a-z]+\s*=", html), "an inline event handler (onclick=...)"
    assert not re.search(r"\sstyle\s*=", html), "a style attribute"
    assert "javascript:" not in html


def _production_env(tmp_path) -> dict:
    """deploy/env.example as an operator fills it in: placeholders replaced by real secrets."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "CELERY_", "SECRET_KEY", "DEBUG"))}
    env.update(env_example_as_written())
    for name, value in list(env.items()):
        if value.startswith("change-me"):
            env[name] = "Zq8" + "x7Lk2" * 12  # 63 characters, as the guide's generator gives
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               ALPHARELEASE_VAR_DIR=str(tmp_path), STATIC_ROOT=str(tmp_path / "static"),
               MEDIA_ROOT=str(tmp_path / "media"), DJANGO_SETTINGS_MODULE="config.settings")
    env.pop("CELERY_BROKER_URL", None)
    return env


def test_check_deploy_passes_at_warning_level_with_the_documented_production_settings(tmp_path):
    run = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=_production_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_check_deploy_fails_when_hsts_is_left_out(tmp_path):
    env = _production_env(tmp_path)
    env.pop("SECURE_HSTS_SECONDS")
    run = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "security.W004" in run.stderr
