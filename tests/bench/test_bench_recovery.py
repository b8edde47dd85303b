"""bench-recovery drops and re-creates its database: BENCH_DATABASE names it, so that people
sharing a PostgreSQL server do not drop each other's."""

import os

import psycopg
import pytest

from bench import bench_recovery


class RecordingServer:
    def __init__(self, url, **kwargs):
        self.url, self.statements = url, []
        RecordingServer.last = self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, statement):
        self.statements.append(repr(statement))


@pytest.fixture
def environ(monkeypatch):
    """prepare() writes the bench's settings into os.environ: a copy, restored after."""
    monkeypatch.setattr(os, "environ", dict(os.environ))
    monkeypatch.setattr(psycopg, "connect", RecordingServer)
    return os.environ


def test_the_database_is_the_one_bench_database_names(environ):
    environ["BENCH_DATABASE"] = "attacks_recovery"
    env = bench_recovery.prepare()
    assert env["DATABASE_URL"].endswith("/attacks_recovery")
    drop, create = RecordingServer.last.statements
    assert "DROP DATABASE" in drop and "'attacks_recovery'" in drop
    assert "CREATE DATABASE" in create and "'attacks_recovery'" in create
    assert "alpharelease_recovery" not in drop + create


def test_without_bench_database_it_keeps_its_default(environ):
    environ.pop("BENCH_DATABASE", None)
    assert bench_recovery.prepare()["DATABASE_URL"].endswith("/alpharelease_recovery")


@pytest.mark.parametrize("name", ["x; DROP DATABASE postgres", "Upper", "a-b", "x" * 64])
def test_a_name_that_is_not_plain_stops_it_before_anything_is_dropped(environ, name):
    environ["BENCH_DATABASE"] = name
    RecordingServer.last = None
    with pytest.raises(SystemExit, match="is not a plain database name"):
        bench_recovery.prepare()
    assert RecordingServer.last is None
