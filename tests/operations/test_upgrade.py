"""Upgrading a site of the previous release: the demo database that release made is migrated
by this one, and its records survive and still prove themselves.

The fixture, tests/operations/fixtures/demo-1f80f75.sqlite3.xz (50 kB), is the SQLite
database of `make demo` (migrate, create_signing_identity, seed_demo) at commit 1f80f75, the
state of main the previous working session started from: batches migrations 0001-0004, qc
0001-0003, audit events hashed the way that release hashed them. Made with
    git archive 1f80f75 | tar -x -C /tmp/old && cd /tmp/old
    DEBUG=true SIGNING_P12_PASSPHRASE=demo-signing-passphrase \\
      DECAY_HALF_LIFE_OVERRIDES=Ac-225=9.920d ALPHARELEASE_VAR_DIR=/tmp/old/var \\
      sh -c 'python manage.py migrate && python manage.py create_signing_identity && \\
             python manage.py seed_demo'
    xz -9 -c var/alpharelease.sqlite3 > demo-1f80f75.sqlite3.xz
"""

import lzma
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "demo-1f80f75.sqlite3.xz"
# Tables whose rows are GMP records or what they stand on: every row and every column the old
# release had must read the same after the upgrade.
RECORDS = ("batches_batch", "batches_result", "batches_evaluation", "batches_certificate",
           "qc_signature", "qc_auditevent", "qc_product", "qc_specification", "qc_criterion",
           "qc_instrument", "auth_user")


def _manage(database: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL",)}
    env.update(DATABASE_URL=f"sqlite:///{database}", DEBUG="false", ALLOWED_HOSTS="testserver",
               SECRET_KEY="test-only-secret-key-not-for-production",
               ALPHARELEASE_VAR_DIR=str(tmp / "var"),
               AUDIT_CHECKPOINT_DIR=str(tmp / "checkpoints"),
               DECAY_HALF_LIFE_OVERRIDES="Ac-225=9.920d")
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _rows(database: Path, table: str, columns: list[str]) -> list[tuple]:
    with sqlite3.connect(database) as conn:
        quoted = ", ".join(f'"{c}"' for c in columns)
        return conn.execute(f'SELECT {quoted} FROM "{table}" ORDER BY id').fetchall()


def _columns(database: Path, table: str) -> list[str]:
    with sqlite3.connect(database) as conn:
        return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory):
    """(the previous release's database, the same database after this release's migrate)."""
    tmp = tmp_path_factory.mktemp("upgrade")
    old, new = tmp / "old.sqlite3", tmp / "site.sqlite3"
    old.write_bytes(lzma.decompress(FIXTURE.read_bytes()))
    new.write_bytes(old.read_bytes())
    migrated = _manage(new, tmp, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
    return old, new, tmp, migrated.stdout


def test_the_fixture_is_the_previous_release_with_records_to_carry(upgraded):
    old, _, _, _ = upgraded
    with sqlite3.connect(old) as conn:
        applied = {f"{app}.{name}" for app, name in conn.execute(
            "SELECT app, name FROM django_migrations WHERE app IN ('qc', 'batches')")}
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("batches_batch", "batches_result", "batches_certificate",
                                "qc_auditevent")}
    assert "batches.0004_certificate_claim" in applied
    assert "batches.0005_refuse_truncate" not in applied
    assert counts["batches_batch"] >= 10 and counts["batches_result"] >= 50
    assert counts["batches_certificate"] >= 5 and counts["qc_auditevent"] >= 200


def test_the_migrations_of_this_release_apply_and_none_is_left(upgraded):
    _, new, tmp, output = upgraded
    assert "Applying batches.0005_refuse_truncate... OK" in output
    left = _manage(new, tmp, "migrate", "--check")
    assert left.returncode == 0, left.stdout + left.stderr


@pytest.mark.parametrize("table", RECORDS)
def test_every_record_of_the_previous_release_reads_the_same_after_the_upgrade(upgraded,
                                                                                table):
    old, new, _, _ = upgraded
    columns = _columns(old, table)
    assert columns, f"{table} is not in the previous release's database"
    missing = set(columns) - set(_columns(new, table))
    assert not missing, f"{table} lost columns {missing}"
    before, after = _rows(old, table, columns), _rows(new, table, columns)
    assert before, f"{table} is empty in the fixture"
    assert after == before


def test_the_audit_chain_of_the_previous_release_still_verifies(upgraded):
    _, new, tmp, _ = upgraded
    verified = _manage(new, tmp, "verify_audit")
    assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]
    with sqlite3.connect(new) as conn:
        events = conn.execute("SELECT count(*) FROM qc_auditevent").fetchone()[0]
    assert f"{events} events" in verified.stdout, verified.stdout[-2000:]


def test_the_upgraded_site_starts_and_shows_the_old_batches(upgraded):
    _, new, tmp, _ = upgraded
    with sqlite3.connect(new) as conn:
        lot = conn.execute("SELECT lot_number FROM batches_batch ORDER BY id").fetchone()[0]
    shown = _manage(new, tmp, "shell", "-c", (
        "from django.test import Client; from django.contrib.auth import get_user_model; "
        "c = Client(); c.force_login(get_user_model().objects.get(username='qp')); "
        f"r = c.get('/batches/{lot}/'); print(r.status_code); "
        f"print('{lot}' in r.content.decode())"))
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert shown.stdout.split()[-2:] == ["200", "True"], (
        shown.stdout[-2000:] + shown.stderr[-2000:])


# ---------------------------------------------------------------- on PostgreSQL
# The same demo made on PostgreSQL at 1f80f75 (DATABASE_URL=postgres://.../old with the
# commands above), dumped with `pg_dump --no-owner --no-privileges` (37 kB xz): production's
# database, with the append-only triggers of that release, which this release's migrations
# extend (TRUNCATE refused) on tables that already hold records.

PG_FIXTURE = Path(__file__).parent / "fixtures" / "demo-1f80f75.postgresql.sql.xz"


class PgSite:
    """A database of its own on the test's PostgreSQL server, loaded from the dump."""

    def __init__(self, name: str):
        from django.db import connection

        settings_dict = connection.settings_dict
        self.name = f"{settings_dict['NAME']}_{name}"
        self.url = (f"postgres://{settings_dict['USER'] or 'postgres'}@{settings_dict['HOST']}:"
                    f"{settings_dict['PORT'] or 5432}/{self.name}")
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{self.name}"')
        loaded = subprocess.run(["psql", self.url, "-q", "-v", "ON_ERROR_STOP=1"],
                                input=lzma.decompress(PG_FIXTURE.read_bytes()).decode(),
                                capture_output=True, text=True, timeout=120)
        assert loaded.returncode == 0, loaded.stderr[-2000:]

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(statement)

    def rows(self, table: str, columns: list[str] | None = None) -> tuple[list[str], list]:
        import psycopg

        with psycopg.connect(self.url) as conn:
            columns = columns or [row[0] for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "ORDER BY ordinal_position", [table])]
            quoted = ", ".join(f'"{c}"' for c in columns)
            return columns, conn.execute(f'SELECT {quoted} FROM "{table}" ORDER BY id').fetchall()

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _manage_pg(url: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL",)}
    env.update(DATABASE_URL=url, DEBUG="false", ALLOWED_HOSTS="testserver",
               SECRET_KEY="test-only-secret-key-not-for-production",
               ALPHARELEASE_VAR_DIR=str(tmp / "var"),
               AUDIT_CHECKPOINT_DIR=str(tmp / "checkpoints"),
               DECAY_HALF_LIFE_OVERRIDES="Ac-225=9.920d")
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.services
def test_the_previous_release_upgrades_on_postgresql_and_keeps_its_records(tmp_path):
    old, new = PgSite("upgrade_old"), PgSite("upgrade_new")
    try:
        migrated = _manage_pg(new.url, tmp_path, "migrate", "--noinput")
        assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
        assert "Applying batches.0005_refuse_truncate... OK" in migrated.stdout
        assert _manage_pg(new.url, tmp_path, "migrate", "--check").returncode == 0

        for table in RECORDS:
            columns, before = old.rows(table)
            assert before, f"{table} is empty in the fixture"
            assert new.rows(table, columns)[1] == before, table

        verified = _manage_pg(new.url, tmp_path, "verify_audit")
        assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]
        _, events = new.rows("qc_auditevent", ["id"])
        assert f"{len(events)} events" in verified.stdout

        # The upgraded tables refuse TRUNCATE as well as UPDATE (the new release's triggers).
        import psycopg

        with psycopg.connect(new.url) as conn, pytest.raises(psycopg.Error,
                                                             match="append-only"):
            conn.execute("TRUNCATE qc_auditevent CASCADE")
    finally:
        old.drop()
        new.drop()
