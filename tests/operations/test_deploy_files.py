"""The files in deploy/ agree with the code: the lock with pyproject.toml, gunicorn's control
socket per instance, nginx's TLS rules, static files nginx can read."""

import json
import os
import re
import runpy
import socket
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return re.split(r"[\[=<>!~ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_lock_pins_every_runtime_dependency_at_the_version_of_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = (ROOT / "deploy/requirements.lock").read_text()
    locked = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", lock, flags=re.MULTILINE))
    locked = {name.lower().replace("_", "-"): version for name, version in locked.items()}
    for requirement in project["dependencies"]:
        name, version = _name(requirement), requirement.split("==")[1]
        assert locked.get(name) == version, f"{name}: pyproject {version}, lock {locked.get(name)}"
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", lock.split("\n", 5)[-1])
    assert all("--hash=sha256:" in block for block in blocks if "==" in block)
    dev = {_name(r) for r in project["optional-dependencies"]["dev"]}
    assert not dev & set(locked), "the production lock holds no test tools"


def test_two_gunicorn_instances_on_one_host_get_different_control_sockets(monkeypatch,
                                                                          tmp_path):
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(tmp_path))
    sockets = set()
    for bind in ("127.0.0.1:8001", "127.0.0.1:8002"):
        monkeypatch.setenv("GUNICORN_BIND", bind)
        config = runpy.run_path(str(ROOT / "deploy/gunicorn.conf.py"))
        assert config["bind"] == bind
        sockets.add(config["control_socket"])
    assert len(sockets) == 2 and all(s.startswith(str(tmp_path)) for s in sockets)


def test_nginx_redirects_http_sends_hsts_and_passes_the_request_id():
    conf = (ROOT / "deploy/nginx.conf").read_text()
    proxy = (ROOT / "deploy/nginx-proxy.conf").read_text()
    assert "listen 80;" in conf and "return 301 https://$host$request_uri;" in conf
    assert 'Strict-Transport-Security "max-age=31536000; includeSubDomains; preload" always' \
        in conf
    assert "proxy_set_header X-Request-ID $request_id;" in proxy
    assert "proxy_set_header X-Forwarded-Proto https;" in proxy
    assert re.search(r"location ~ \^/\(readyz\|metrics\)\$ \{[^}]*deny all;", conf)


def test_gunicorns_own_log_lines_are_json_in_utc(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}",
           "GUNICORN_WORKERS": "1", "RUNTIME_DIRECTORY": str(tmp_path), "LOG_FORMAT": "json",
           "DATABASE_URL": "", "CELERY_BROKER_URL": ""}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
         "config.wsgi:application"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("Booting worker" in x for x in lines):
            lines.append(server.stderr.readline())
    finally:
        server.terminate()
        lines += server.communicate(timeout=30)[1].splitlines()
    logged = [json.loads(line) for line in lines if line.strip()]
    booting = [entry for entry in logged if entry["message"].startswith("Booting worker")]
    assert booting, lines
    assert all(entry["logger"] == "gunicorn.error" and entry["time"].endswith("+00:00")
               for entry in booting)


def test_collected_static_files_are_readable_by_nginx_whatever_the_umask(tmp_path):
    # The units run with UMask=0027 and an operator's shell may have 077: nginx (www-data,
    # not in the service's group) must still read every file and enter every folder.
    static = tmp_path / "static"
    env = {**os.environ, "STATIC_ROOT": str(static), "ALPHARELEASE_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    run = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                         preexec_fn=lambda: os.umask(0o077))
    assert run.returncode == 0, run.stdout + run.stderr
    files = [p for p in static.rglob("*") if p.is_file()]
    folders = [p for p in static.rglob("*") if p.is_dir()]
    assert (static / "js" / "htmx.min.js") in files and folders
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {"0o644"}
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in folders} == {"0o755"}


def test_a_gunicorn_worker_opens_the_signing_identity_before_its_first_probe(
        signing_identity, settings, tmp_path, monkeypatch):
    from qc import signing_key

    monkeypatch.setattr(signing_key, "_signers", {})
    config = runpy.run_path(str(ROOT / "deploy/gunicorn.conf.py"))
    config["post_worker_init"](None)
    assert len(signing_key._signers) == 1, "/readyz then finds the identity decrypted"
    # A missing identity does not stop the worker: /readyz names it (signing_key).
    settings.SIGNING_P12_PATH = str(tmp_path / "absent.p12")
    config["post_worker_init"](None)
