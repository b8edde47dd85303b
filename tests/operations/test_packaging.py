"""`pip install` of the project outside the checkout: the wheel, built offline from a copy of
the source tree, is installed into a throwaway virtual environment, and the installed copy,
run from a directory that is not the checkout, passes `check`, renders pages and finds its
static files (the vendored htmx, the site's CSS, the favicon) inside itself."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".git", ".venv", "var", "build", "test-artifacts", "__pycache__", ".pytest_cache",
        ".ruff_cache", ".hypothesis", "media", "staticfiles"}


def _source_copy(target: Path) -> Path:
    """The files a release would hold: the checkout without its virtualenv, data and caches
    (the build writes build/ and *.egg-info into the tree it builds)."""
    def ignore(directory, names):
        return [n for n in names if n in SKIP or n.endswith((".egg-info", ".pyc", ".sqlite3"))]

    shutil.copytree(ROOT, target, ignore=ignore)
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("packaging")
    source = _source_copy(tmp / "source")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "-q", "-w", str(tmp / "dist"), str(source)],
        capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stdout + built.stderr
    [path] = (tmp / "dist").glob("alpharelease-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A throwaway venv holding the wheel; the dependencies come from this test's environment
    through a .pth line (a plain path: that environment's own .pth files, among them the
    checkout's editable install, are not read)."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=60)
    python = venv / "bin" / "python"
    site = Path(subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True).strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--disable-pip-version-check", "-q", str(wheel)],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return venv


def _run(venv: Path, cwd: Path, *command: str,
         env: dict | None = None) -> subprocess.CompletedProcess:
    unset = ("DATABASE_URL", "CELERY_BROKER_URL", "PYTHONPATH", "DJANGO_SETTINGS_MODULE")
    extra, env = env or {}, {k: v for k, v in os.environ.items() if k not in unset}
    env.update(SECRET_KEY="test-only-secret-key-not-for-production", DEBUG="false",
               ALLOWED_HOSTS="testserver", ALPHARELEASE_VAR_DIR=str(cwd / "var"),
               STATIC_ROOT=str(cwd / "collected"), SITE_URL="https://qc.example.org", **extra)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_wheel_holds_the_templates_and_static_files_of_the_checkout(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, packaged in (("templates", "config/templates"), ("static", "config/static")):
        in_checkout = {p.relative_to(ROOT / folder).as_posix()
                       for p in (ROOT / folder).rglob("*") if p.is_file()}
        assert in_checkout, folder
        missing = {name for name in in_checkout if f"{packaged}/{name}" not in names}
        assert not missing, f"{folder}/ files not in the wheel: {sorted(missing)}"
    assert "config/static/js/htmx.min.js" in names
    in_packages = {p.relative_to(ROOT).as_posix() for package in ("config", "qc", "batches")
                   for p in (ROOT / package).rglob("*.py")}
    assert not in_packages - names, sorted(in_packages - names)[:10]


PROBE = """
import json, os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()
import config
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
client = Client()
login = client.get("/login/")
print(json.dumps({
    "config": config.__file__,
    "templates": str(settings.TEMPLATES[0]["DIRS"][0]),
    "htmx": finders.find("js/htmx.min.js"),
    "login": [login.status_code, login.content.decode()],
    "favicon": [(r := client.get("/favicon.ico")).status_code, len(b"".join(r))],
    "healthz": client.get("/healthz").status_code,
}))
"""


def test_the_installed_copy_runs_from_outside_the_checkout(installed, tmp_path):
    site = Path(subprocess.check_output(
        [installed / "bin" / "python", "-c",
         "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())

    check = _run(installed, tmp_path, str(installed / "bin" / "alpharelease"), "check")
    assert check.returncode == 0, check.stdout + check.stderr

    probe = _run(installed, tmp_path, str(installed / "bin" / "python"), "-c", PROBE)
    assert probe.returncode == 0, probe.stdout + probe.stderr
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert Path(seen["config"]).is_relative_to(site), seen["config"]
    assert Path(seen["templates"]) == site / "config" / "templates"
    assert Path(seen["htmx"]) == site / "config" / "static" / "js" / "htmx.min.js"
    status, page = seen["login"]
    assert status == 200 and "<form" in page and "js/htmx.min.js" in page, page[:500]
    assert seen["favicon"][0] == 200 and seen["favicon"][1] > 1000
    assert seen["healthz"] == 200

    collected = _run(installed, tmp_path, str(installed / "bin" / "alpharelease"),
                     "collectstatic", "--noinput")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert (tmp_path / "collected" / "js" / "htmx.min.js").is_file()
    assert (tmp_path / "collected" / "css" / "site.css").is_file()


def test_the_backup_script_copied_beside_an_installed_copy_runs_its_alpharelease_command(
        installed, tmp_path):
    # A host installed from the wheel has /opt/alpharelease/.venv and the checkout's deploy/
    # (the guide says to copy it), but no manage.py.
    app = tmp_path / "opt"
    app.mkdir()
    (app / ".venv").symlink_to(installed)
    shutil.copytree(ROOT / "deploy", app / "deploy")
    env = {"APP_DIR": str(app), "ENV_FILE": str(tmp_path / "no-env-file"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}",
           "SIGNING_P12_PATH": str(tmp_path / "signing/site.p12"),
           "SIGNING_P12_PASSPHRASE": "packaging-passphrase"}
    for command in (["migrate", "--noinput"], ["create_signing_identity"]):
        done = _run(installed, app, str(installed / "bin" / "alpharelease"), *command, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    backed_up = _run(installed, app, str(app / "deploy" / "backup"), str(tmp_path), env=env)
    assert backed_up.returncode == 0, backed_up.stdout + backed_up.stderr
    assert len(list(tmp_path.glob("alpharelease-*.tar.gz"))) == 1
