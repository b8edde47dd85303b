"""Backup and restore: one archive with the database, media and signing identity; a restore
into an empty database that ends by proving the audit trail and every certificate."""

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction

from batches.records.raw_data import raw_data_store
from tests.batches.test_certificate_issue import issue
from tests.factories import record_release_required_results

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def released_site(signing_identity, ac225_batch, analyst, qp, now, committed):
    """A released batch with its certificate, a superseded one, and a raw-data file."""
    with committed():
        record_release_required_results(ac225_batch, analyst, now=now)
    issue(ac225_batch, qp, committed)
    current = issue(ac225_batch, qp, committed)
    with transaction.atomic():
        raw = raw_data_store(upload=SimpleUploadedFile("scan.csv", b"mm,counts\n1,2\n"),
                             actor=analyst, batch_lot=ac225_batch.lot_number)
    return {"certificate": current, "raw": raw}


def make_backup(tmp_path) -> Path:
    out = io.StringIO()
    call_command("backup", output_dir=str(tmp_path / "backups"), stdout=out)
    archives = list((tmp_path / "backups").glob("alpharelease-*.tar.gz"))
    assert len(archives) == 1, out.getvalue()
    return archives[0]


class Site:
    """Another site to restore into: its own folder and an empty database of the same kind
    as the one the tests run on."""

    def __init__(self, folder: Path):
        self.folder = folder
        if connection.vendor == "postgresql":
            settings_dict = connection.settings_dict
            self.pg_name = f"{settings_dict['NAME']}_{folder.name.replace('-', '_')}"
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
                cursor.execute(f'CREATE DATABASE "{self.pg_name}"')
            self.database_url = (f"postgres://{settings_dict['USER'] or 'postgres'}@"
                                 f"{settings_dict['HOST']}:{settings_dict['PORT'] or 5432}/"
                                 f"{self.pg_name}")
        else:
            self.pg_name = None
            self.database_url = f"sqlite:///{folder / 'restored.sqlite3'}"

    def sql(self, statement: str) -> subprocess.CompletedProcess:
        if self.pg_name:
            return subprocess.run(["psql", self.database_url, "-v", "ON_ERROR_STOP=1", "-tAc",
                                   statement], capture_output=True, text=True)
        import sqlite3

        db = sqlite3.connect(self.folder / "restored.sqlite3")
        try:
            with db:
                db.execute(statement)
            return subprocess.CompletedProcess([], 0, "", "")
        except sqlite3.Error as exc:
            return subprocess.CompletedProcess([], 1, "", str(exc))
        finally:
            db.close()

    def drop(self):
        if self.pg_name:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')


@pytest.fixture
def site(tmp_path):
    made = []

    def make(name: str) -> Site:
        made.append(Site(tmp_path / name))
        return made[-1]

    yield make
    for one in made:
        one.drop()


def restore(archive: Path | None, target: Site, *args: str):
    """`manage.py restore` as an operator runs it: a new process, an empty database, empty
    media storage and no signing identity yet."""
    folder = target.folder
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
           "SECRET_KEY": "restore-test-secret-key", "DEBUG": "false",
           "DATABASE_URL": target.database_url,
           "MEDIA_ROOT": str(folder / "media"),
           "SIGNING_P12_PATH": str(folder / "signing" / "site.p12"),
           "SIGNING_P12_PASSPHRASE": "test-passphrase"}
    env.pop("CELERY_BROKER_URL", None)
    command = [sys.executable, "manage.py", "restore"] + ([str(archive)] if archive else [])
    return subprocess.run(command + list(args), cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def manifest(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.loads(tar.extractfile("manifest.json").read())


def test_the_archive_holds_the_database_media_and_signing_identity_with_their_hashes(
        released_site, tmp_path):
    archive = make_backup(tmp_path)
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    listed = {entry["path"] for entry in manifest(archive)["files"]}
    dump = {"sqlite": "sqlite3", "postgresql": "pgdump"}[connection.vendor]
    assert f"database/alpharelease.{dump}" in listed
    assert f"media/{released_site['raw'].file.name}" in listed
    assert f"media/{released_site['certificate'].pdf.name}" in listed
    assert {"signing/site.p12", "signing/site.cert.pem"} <= listed
    assert manifest(archive)["migrations"]


def test_a_restore_into_an_empty_database_passes_every_check(released_site, tmp_path, site):
    archive = make_backup(tmp_path)
    run = restore(archive, site("site-b"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ok   audit trail" in run.stdout
    assert "ok   certificates: 1 current certificates verify" in run.stdout
    assert "ok   raw data: 1 files match" in run.stdout
    assert run.stdout.strip().endswith("Restore checks passed.")
    restored_pdf = tmp_path / "site-b/media" / released_site["certificate"].pdf.name
    assert restored_pdf.read_bytes() == released_site["certificate"].pdf.read()


def test_a_restore_refuses_a_database_that_is_not_empty(released_site, tmp_path, site):
    archive = make_backup(tmp_path)
    target = site("site-b")
    assert restore(archive, target).returncode == 0
    again = restore(archive, target)
    assert again.returncode == 1
    assert "is not empty" in again.stderr


def test_a_damaged_archive_is_refused_before_anything_is_restored(released_site, tmp_path,
                                                                  site):
    archive = make_backup(tmp_path)
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive, "r:gz") as source, tarfile.open(damaged, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name.startswith("media/certificates/"):
                data = data.replace(b"%%EOF", b"%%EOX")
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    target = site("site-c")
    run = restore(damaged, target)
    assert run.returncode == 1
    assert "does not match its SHA-256 in the manifest" in run.stderr
    assert not (tmp_path / "site-c/media").exists()
    assert target.sql("SELECT COUNT(*) FROM qc_auditevent").returncode != 0  # no tables


def test_the_checks_fail_on_a_restored_site_whose_certificate_file_was_changed(released_site,
                                                                               tmp_path, site):
    archive = make_backup(tmp_path)
    target = site("site-b")
    assert restore(archive, target).returncode == 0
    pdf = tmp_path / "site-b/media" / released_site["certificate"].pdf.name
    pdf.write_bytes(pdf.read_bytes() + b"\n")
    run = restore(None, target, "--checks-only")
    assert run.returncode == 1
    assert "FAIL certificates" in run.stdout and "differs from the issued one" in run.stdout


def test_the_checks_fail_on_a_restored_site_whose_audit_trail_was_edited(released_site,
                                                                         tmp_path, site):
    archive = make_backup(tmp_path)
    target = site("site-b")
    assert restore(archive, target).returncode == 0
    edit = ("UPDATE qc_auditevent SET reason = 'edited later' WHERE id = "
            "(SELECT MIN(id) FROM qc_auditevent)")
    if connection.vendor == "postgresql":
        refused = target.sql(edit)
        assert "append-only" in refused.stderr, "the restored triggers refuse the edit"
        # A superuser who switches the trigger off is still caught by the chain.
        edit = ("ALTER TABLE qc_auditevent DISABLE TRIGGER USER; " + edit +
                "; ALTER TABLE qc_auditevent ENABLE TRIGGER USER")
    assert target.sql(edit).returncode == 0
    run = restore(None, target, "--checks-only")
    assert run.returncode == 1
    assert "FAIL audit trail: BROKEN" in run.stdout


def test_the_deploy_scripts_back_up_prune_and_restore_a_site(tmp_path):
    """deploy/backup and deploy/restore as cron and an operator run them: the live site's
    env file read by both, the restore's own database, media and identity given before it."""
    site_a = {"DATABASE_URL": f"sqlite:///{tmp_path / 'site-a.sqlite3'}",
              "MEDIA_ROOT": str(tmp_path / "media-a"),
              "SIGNING_P12_PATH": str(tmp_path / "signing-a/site.p12")}
    env_file = tmp_path / "env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in site_a.items()))
    env = {**os.environ, "APP_DIR": str(ROOT), "ENV_FILE": str(env_file),
           "DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "script-test-secret-key",
           "DEBUG": "false", **site_a,
           "SIGNING_P12_PASSPHRASE": "script-passphrase", "BACKUP_KEEP_DAYS": "30"}
    env.pop("CELERY_BROKER_URL", None)
    python = str(Path(sys.executable))
    for command in (["migrate", "--noinput"], ["create_signing_identity"]):
        subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=300)
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "alpharelease-20200101T000000Z.tar.gz"
    old.write_bytes(b"an archive from long ago")
    os.utime(old, (0, 0))
    run = subprocess.run([str(ROOT / "deploy/backup"), str(backups)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert not old.exists(), "archives older than BACKUP_KEEP_DAYS are removed"
    (archive,) = backups.glob("alpharelease-*.tar.gz")
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'site-b.sqlite3'}",
               MEDIA_ROOT=str(tmp_path / "media-b"),
               SIGNING_P12_PATH=str(tmp_path / "signing-b/site.p12"))
    run = subprocess.run([str(ROOT / "deploy/restore"), str(archive)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Restore checks passed." in run.stdout
    assert (tmp_path / "signing-b/site.p12").read_bytes() == \
        (tmp_path / "signing-a/site.p12").read_bytes()


def test_an_identity_from_the_secret_setting_is_backed_up_and_restored_against(
        released_site, tmp_path, site, settings, identity_dir):
    import base64

    from batches.pdf.signing import create_signing_identity

    p12 = (identity_dir / "site.p12").read_bytes()
    settings.SIGNING_P12_PATH, settings.SIGNING_P12_DATA = "", p12
    archive = make_backup(tmp_path)
    entries = {entry["path"]: entry for entry in manifest(archive)["files"]}
    assert {"signing/site-signing.p12", "signing/site-signing.cert.pem"} <= set(entries)
    with tarfile.open(archive, "r:gz") as tar:
        assert tar.extractfile("signing/site-signing.p12").read() == p12

    def restore_with_secret(target: Site, secret: bytes):
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
               "SECRET_KEY": "restore-test-secret-key", "DEBUG": "false",
               "DATABASE_URL": target.database_url, "MEDIA_ROOT": str(target.folder / "media"),
               "SIGNING_P12_BASE64": base64.b64encode(secret).decode(),
               "SIGNING_P12_PASSPHRASE": "test-passphrase"}
        for name in ("CELERY_BROKER_URL", "SIGNING_P12_PATH"):
            env.pop(name, None)
        return subprocess.run([sys.executable, "manage.py", "restore", str(archive)], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)

    other, _ = create_signing_identity(tmp_path / "other.p12", b"test-passphrase",
                                       common_name="Other site", organisation="Other site")
    refused = restore_with_secret(site("other-secret"), other.read_bytes())
    assert refused.returncode != 0
    assert "SIGNING_P12_BASE64 holds another signing identity than the backup" in (
        refused.stdout + refused.stderr)

    restored = restore_with_secret(site("same-secret"), p12)
    assert restored.returncode == 0, restored.stdout[-3000:] + restored.stderr[-3000:]
    assert "ok   certificates: 1 current certificates verify" in restored.stdout
    assert restored.stdout.strip().endswith("Restore checks passed.")
