"""Shared fixtures: named personas, the three demo products, and helpers to run the
work that services schedule on commit."""

import os
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from qc.roles import Role

PASSWORD = "correct-horse-battery-9"
SERVICES = bool(os.environ.get("CELERY_BROKER_URL"))


def pytest_collection_modifyitems(config, items):
    """Tests marked `services` need the PostgreSQL and Redis of CI. Without a broker they are
    deselected (not skipped): .ci/run's second pass runs them and fails if the services are
    unreachable."""
    if SERVICES:
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("services") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_truncate_triggers():
    """Transactional tests end with Django's flush, a TRUNCATE of every table, which the
    append-only tables refuse on PostgreSQL. The test database's flush runs with triggers
    off for its own transaction (session_replication_role needs a superuser, as the test
    database's owner is); the site's database keeps refusing it."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences,
                              allow_cascade=allow_cascade)
        if not statements:
            return statements
        return ["SET LOCAL session_replication_role = replica", *statements,
                "SET LOCAL session_replication_role = DEFAULT"]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


@pytest.fixture(autouse=True)
def _tasks_in_process(request, settings):
    """Unit tests run tasks in process; only `services` tests use the real worker. Both are
    set on every test, so that no earlier test's leftover decides where a task runs."""
    from config.celery import app

    eager = not request.node.get_closest_marker("services")
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER = eager
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): service(...)` runs what the service schedules on commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _persona(username: str, full_name: str, role: Role | None):
    first, last = full_name.split(" ", 1)
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, first_name=first, last_name=last,
        email=f"{username}@example.org")
    if role is not None:
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    return user


@pytest.fixture
def operator(db):
    return _persona("olga", "Olga Operator", Role.OPERATOR)


@pytest.fixture
def analyst(db):
    return _persona("ana", "Ana Lyst", Role.ANALYST)


@pytest.fixture
def second_analyst(db):
    return _persona("sam", "Sam Second", Role.ANALYST)


@pytest.fixture
def reviewer(db):
    return _persona("rui", "Rui Reviewer", Role.REVIEWER)


@pytest.fixture
def qp(db):
    return _persona("quinn", "Quinn Person", Role.QP)


@pytest.fixture
def admin_user(db):
    user = _persona("ada", "Ada Admin", Role.ADMIN)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def outsider(db):
    return _persona("otto", "Otto Outsider", None)


@pytest.fixture
def products(db, reviewer, qp):
    """The three published example products with approved specifications."""
    from tests.factories import make_products

    return make_products(reviewer=reviewer, qp=qp)


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def ac225_batch(products, operator, now):
    from tests.factories import make_ac225_batch

    return make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                            eos=now - timedelta(minutes=50))


@pytest.fixture
def pb212_batch(products, operator, now):
    from tests.factories import make_pb212_batch

    return make_pb212_batch(product=products["pb212-dotamtate"], operator=operator,
                            eos=now - timedelta(hours=2))


@pytest.fixture
def bi213_batch(products, operator, now):
    from tests.factories import make_bi213_batch

    return make_bi213_batch(product=products["bi213-dotatoc"], operator=operator,
                            eos=now - timedelta(minutes=10))


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real `celery worker` process on the CI broker, using the test database."""
    import subprocess
    import sys
    from pathlib import Path

    from django.db import connection

    from config.celery import app

    settings_dict = connection.settings_dict
    assert connection.vendor == "postgresql", "the worker test needs DATABASE_URL on PostgreSQL"
    url = (f"postgres://{settings_dict['USER'] or 'postgres'}@{settings_dict['HOST']}:"
           f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}")
    app.control.purge()
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / "alpharelease-test-worker.log", "w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=threads",
         "--concurrency=4", "--loglevel=INFO", "--without-gossip", "--without-mingle"],
        env={**os.environ, "DATABASE_URL": url, "AUDIT_CHECKPOINT_DIR": str(
            Path(log.name).with_name("alpharelease-test-audit-checkpoints"))},
        stdout=log, stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[1])
    try:
        deadline = timezone.now() + timedelta(seconds=60)
        while not app.control.ping(timeout=0.5):
            assert worker.poll() is None, f"the Celery worker exited; see {log.name}"
            assert timezone.now() < deadline, f"the Celery worker did not answer; see {log.name}"
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness protects real passwords; personas need none of it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def identity_dir(tmp_path_factory):
    """A self-signed site signing identity, made once per run (RSA key generation is slow)."""
    from batches.pdf.signing import create_signing_identity

    folder = tmp_path_factory.mktemp("signing")
    create_signing_identity(folder / "site.p12", b"test-passphrase", common_name="Test site",
                            organisation="Test site")
    return folder


@pytest.fixture
def signing_identity(settings, identity_dir):
    settings.SIGNING_P12_PATH = str(identity_dir / "site.p12")
    settings.SIGNING_P12_PASSPHRASE = "test-passphrase"
    return identity_dir


@pytest.fixture(scope="session")
def _one_request_at_a_time(django_db_setup):
    """On the embedded in-memory SQLite the live server's threads share the test's one
    connection, so a page and its htmx poll served at once corrupt each other's cursor ("no
    more rows available", "audit_record must run inside the transaction"): serve one request
    at a time there, as Django's own tests do, for the browser tests and the instrument
    client's alike. (The demo and production have a connection per thread; on PostgreSQL the
    live server stays threaded.)"""
    from django.core.servers.basehttp import WSGIServer
    from django.db import connection
    from django.test.testcases import LiveServerThread

    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        yield None
        return

    class OneAtATime(WSGIServer):
        # the live server thread itself serves, on the connection it was handed
        def __init__(self, *args, connections_override=None, **kwargs):
            super().__init__(*args, **kwargs)

    threaded = LiveServerThread.server_class
    LiveServerThread.server_class = OneAtATime
    yield OneAtATime
    LiveServerThread.server_class = threaded


@pytest.fixture(scope="session")
def live_server(_one_request_at_a_time, live_server):
    """pytest-django's live server, made after _one_request_at_a_time chose its class."""
    return live_server
