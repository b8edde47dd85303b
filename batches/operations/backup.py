"""One archive holds everything a site needs to come back: a consistent database dump, the
media (raw data, certificates, source-lot certificates) and the signing identity, with a
manifest of SHA-256s.

Order matters for consistency without stopping the site: the database is dumped first (one
snapshot), then the media are copied. Files are written before the rows that cite them and
are never changed or deleted afterwards, so every file the dump cites is in the archive
(files written after the snapshot are extra and harmless)."""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

FORMAT = "alpharelease-backup/1"
MANIFEST = "manifest.json"
DB_POSTGRES = "database/alpharelease.pgdump"
DB_SQLITE = "database/alpharelease.sqlite3"
CHUNK = 1024 * 1024


class BackupError(RuntimeError):
    pass


@dataclass(frozen=True)
class BackupReport:
    path: Path
    files: int
    bytes: int


def pg_environment(db: dict) -> tuple[list[str], dict]:
    """libpq connection arguments and environment from a Django database setting (the
    password goes in the environment, never on the command line)."""
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", db["HOST"]]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _dump_database(workdir: Path) -> tuple[str, Path]:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        target = workdir / "db.pgdump"
        args, env = pg_environment(db)
        # Custom format: compressed, one consistent snapshot, restorable table by table.
        run = subprocess.run(["pg_dump", "--format=custom", "--file", str(target), *args],
                             env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise BackupError(f"pg_dump failed: {run.stderr.strip()}")
        return DB_POSTGRES, target
    if connection.vendor == "sqlite":
        target = workdir / "db.sqlite3"
        # The online backup API: a consistent copy while web and workers keep writing.
        connection.ensure_connection()
        copy = sqlite3.connect(str(target))
        try:
            connection.connection.backup(copy)
        finally:
            copy.close()
        return DB_SQLITE, target
    raise BackupError(f"backups of a {connection.vendor} database are not supported")


def media_names(storage=default_storage, folder: str = ""):
    """Every file in the media storage (local disk or object storage), recursively."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # a new site: nothing stored yet
        return
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for sub in sorted(folders):
        yield from media_names(storage, f"{folder}/{sub}" if folder else sub)


class _Hashing(io.RawIOBase):
    """Reads through, hashing what passes."""

    def __init__(self, stream):
        self.stream, self.digest = stream, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size=-1):
        data = self.stream.read(size)
        self.digest.update(data)
        return data


def _add(archive: tarfile.TarFile, arcname: str, stream, size: int) -> dict:
    info = tarfile.TarInfo(arcname)
    info.size, info.mode, info.mtime = size, 0o600, int(datetime.now(UTC).timestamp())
    hashing = _Hashing(stream)
    archive.addfile(info, hashing)
    return {"path": arcname, "size": size, "sha256": hashing.digest.hexdigest()}


def signing_entries() -> list[tuple[str, bytes]]:
    """The signing identity as archive entries: the PKCS#12 file and its published
    certificate; with the identity in SIGNING_P12_BASE64, its bytes as site-signing.p12 and
    the certificate inside it, so that a restore onto a file-based host has both."""
    from batches.certificates.identity import signing_paths, site_certificate_pem
    from qc import site_identity

    if site_identity.from_secret():
        entries = [("site-signing.p12", site_identity.pkcs12_bytes())]
        try:
            entries.append(("site-signing.cert.pem", site_certificate_pem()))
        except ValueError:  # wrong passphrase: /readyz says so; the key is still kept
            pass
        return entries
    return [(path.name, path.read_bytes()) for path in signing_paths() if path.exists()]


def backup_create(*, output_dir: Path, now: datetime | None = None) -> BackupReport:
    """Write alpharelease-<UTC time>.tar.gz into output_dir (mode 0600: it holds the signing
    key, encrypted by SIGNING_P12_PASSPHRASE, which is not in the archive)."""
    now = now or datetime.now(UTC)
    output_dir.mkdir(parents=True, exist_ok=True)
    final = output_dir / f"alpharelease-{now:%Y%m%dT%H%M%SZ}.tar.gz"
    partial = final.with_name(final.name + ".partial")
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        db_name, db_file = _dump_database(Path(tmp))
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            with db_file.open("rb") as stream:
                entries.append(_add(archive, db_name, stream, db_file.stat().st_size))
            for name in media_names():
                with default_storage.open(name, "rb") as stream:
                    entries.append(_add(archive, f"media/{name}", stream,
                                        default_storage.size(name)))
            for name, data in signing_entries():
                entries.append(_add(archive, f"signing/{name}", io.BytesIO(data), len(data)))
            manifest = json.dumps({
                "format": FORMAT, "created_at": now.isoformat(),
                "database_vendor": connection.vendor, "site_name": settings.SITE_NAME,
                "migrations": sorted([app, name] for app, name in
                                     MigrationRecorder(connection).applied_migrations()),
                "files": entries,
            }, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode = len(manifest), 0o600
            info.mtime = int(now.timestamp())
            archive.addfile(info, io.BytesIO(manifest))
    shutil.move(partial, final)  # only a complete archive carries the final name
    return BackupReport(final, len(entries), sum(e["size"] for e in entries))
