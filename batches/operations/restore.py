"""Bring a backup archive back into an empty database and storage, then prove the records are
whole: the audit chain verifies and every certificate is the file that was issued."""

import hashlib
import json
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from .backup import CHUNK, DB_POSTGRES, DB_SQLITE, FORMAT, MANIFEST, pg_environment


class RestoreError(RuntimeError):
    pass


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _sha256(stream) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def archive_verify(path: Path) -> dict:
    """The manifest, after every file in the archive matched its SHA-256 and size."""
    with tarfile.open(path, "r:gz") as archive:
        member = archive.extractfile(MANIFEST)
        if member is None:
            raise RestoreError(f"{path} has no {MANIFEST}: not an alpharelease backup")
        manifest = json.loads(member.read())
        if manifest.get("format") != FORMAT:
            raise RestoreError(f"{path} is a {manifest.get('format')!r} archive; this version "
                               f"restores {FORMAT}")
        for entry in manifest["files"]:
            stream = archive.extractfile(entry["path"])
            if stream is None:
                raise RestoreError(f"{entry['path']} is listed in the manifest but missing")
            if _sha256(stream) != entry["sha256"]:
                raise RestoreError(f"{entry['path']} does not match its SHA-256 in the manifest: "
                                   "the archive is damaged or was changed")
    return manifest


def database_is_empty() -> bool:
    return not connection.introspection.table_names()


def _restore_database(archive: tarfile.TarFile, manifest: dict, *, privileges: bool) -> None:
    names = {entry["path"] for entry in manifest["files"]}
    if connection.vendor == "postgresql":
        if DB_POSTGRES not in names:
            raise RestoreError("this archive holds an SQLite database; restore it on SQLite")
        with tempfile.TemporaryDirectory() as tmp:
            dump = Path(tmp) / "db.pgdump"
            with archive.extractfile(DB_POSTGRES) as source, dump.open("wb") as target:
                for chunk in iter(lambda: source.read(CHUNK), b""):
                    target.write(chunk)
            args, env = pg_environment(connection.settings_dict)
            # Objects belong to the role running the restore (the owner role of the guide);
            # the app role's grants come back with the dump when that role exists here.
            options = ["--no-owner", "--exit-on-error", "--single-transaction"]
            if not privileges:
                options.append("--no-privileges")
            connection.close()
            run = subprocess.run(["pg_restore", *options, *args, str(dump)], env=env,
                                 capture_output=True, text=True)
            if run.returncode != 0:
                raise RestoreError(f"pg_restore failed: {run.stderr.strip()}")
        return
    if connection.vendor == "sqlite":
        if DB_SQLITE not in names:
            raise RestoreError("this archive holds a PostgreSQL dump; restore it on PostgreSQL")
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "db.sqlite3"
            with archive.extractfile(DB_SQLITE) as source, copy.open("wb") as target:
                for chunk in iter(lambda: source.read(CHUNK), b""):
                    target.write(chunk)
            source_db = sqlite3.connect(str(copy))
            try:
                connection.ensure_connection()
                source_db.backup(connection.connection)
            finally:
                source_db.close()
        return
    raise RestoreError(f"restoring into a {connection.vendor} database is not supported")


def _restore_media(archive: tarfile.TarFile, manifest: dict) -> int:
    restored = 0
    for entry in manifest["files"]:
        if not entry["path"].startswith("media/"):
            continue
        name = entry["path"][len("media/"):]
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as existing:
                if _sha256(existing) == entry["sha256"]:
                    continue
            raise RestoreError(f"media file {name} already exists with other content; restore "
                               "into empty storage")
        with archive.extractfile(entry["path"]) as stream:
            saved = default_storage.save(name, File(stream, name=name))
        if saved != name:
            raise RestoreError(f"media file {name} was stored as {saved}")
        restored += 1
    return restored


def _restore_signing(archive: tarfile.TarFile, manifest: dict, *, replace: bool) -> int:
    from batches.certificates.identity import signing_paths
    from qc import site_identity

    if site_identity.from_secret():
        # The identity is the secret setting's: the archive's must be the same one.
        for entry in manifest["files"]:
            if entry["path"].startswith("signing/") and entry["path"].endswith(".p12") and (
                    entry["sha256"] != site_identity.fingerprint(site_identity.pkcs12_bytes())):
                raise RestoreError(
                    f"{site_identity.SECRET_SETTING} holds another signing identity than the "
                    "backup; certificates of the backup verify only against their own. Set it "
                    f"to the backup's ({entry['path']}, base64 -w0) or restore with "
                    "SIGNING_P12_PATH instead.")
        return 0
    p12, pem = signing_paths()
    written = 0
    for entry in manifest["files"]:
        if not entry["path"].startswith("signing/"):
            continue
        target = pem if entry["path"].endswith(".cert.pem") else p12
        if target.exists() and not replace:
            if _sha256(target.open("rb")) == entry["sha256"]:
                continue
            raise RestoreError(
                f"a different signing identity is installed at {target}; certificates of the "
                "backup verify only against their own. Move it away, or pass "
                "--replace-signing-identity.")
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with archive.extractfile(entry["path"]) as stream:
            target.write_bytes(stream.read())
        target.chmod(0o600 if target == p12 else 0o644)
        written += 1
    return written


def pending_migrations() -> list[str]:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def backup_restore(*, path: Path, privileges: bool = True,
                   replace_signing_identity: bool = False) -> dict:
    """Restore the archive; returns what was restored. Raises RestoreError on any problem."""
    manifest = archive_verify(path)
    if not database_is_empty():
        raise RestoreError(
            f"the database {connection.settings_dict['NAME']} is not empty; restore into a new, "
            "empty database (createdb) and point DATABASE_URL at it")
    with tarfile.open(path, "r:gz") as archive:
        _restore_database(archive, manifest, privileges=privileges)
        media = _restore_media(archive, manifest)
        signing = _restore_signing(archive, manifest, replace=replace_signing_identity)
    return {"created_at": manifest["created_at"], "files": len(manifest["files"]),
            "media": media, "signing": signing}


# ---------------------------------------------------------------- checks after a restore


def restore_checks() -> list[Check]:
    """Everything a QP would want proven before trusting restored records."""
    from batches.certificates.verify import certificate_verify
    from batches.models import Certificate, CertificateStatus, RawDataFile
    from qc.audit import verify_chain

    checks = []
    report = verify_chain()
    checks.append(Check("audit trail", report.ok, f"{report.checked} events verified" if report.ok
                        else f"BROKEN at event {report.broken_event_id}: {report.problem}"))
    bad = []
    raw_files = RawDataFile.objects.only("file", "sha256").order_by("pk")
    for raw in raw_files.iterator():
        try:
            with default_storage.open(raw.file.name, "rb") as stream:
                if _sha256(stream) != raw.sha256:
                    bad.append(f"{raw.file.name}: content differs from its SHA-256")
        except FileNotFoundError:
            bad.append(f"{raw.file.name}: missing")
    checks.append(Check("raw data", not bad, "; ".join(bad[:5]) if bad
                        else f"{raw_files.count()} files match their SHA-256"))
    bad, current = [], 0
    certificates = Certificate.objects.filter(
        status__in=[CertificateStatus.ISSUED, CertificateStatus.SUPERSEDED]).order_by("pk")
    for certificate in certificates.iterator():
        try:
            with default_storage.open(certificate.pdf.name, "rb") as stream:
                pdf = stream.read()
        except FileNotFoundError:
            bad.append(f"{certificate.document_id}: file missing")
            continue
        if hashlib.sha256(pdf).hexdigest() != certificate.signed_sha256:
            bad.append(f"{certificate.document_id}: file differs from the issued one")
        elif certificate.status == CertificateStatus.ISSUED:
            check = certificate_verify(pdf)
            current += 1
            if not check.current:
                bad.append(f"{certificate.document_id}: {check.summary}")
    checks.append(Check("certificates", not bad, "; ".join(bad[:5]) if bad else
                        f"{current} current certificates verify; every issued file matches"))
    return checks

