"""Readiness: can this process do its work right now?

Each dependency is checked in its own thread with a deadline, so a database or broker that
does not answer (a dropped packet, a full disk) makes the probe say so instead of hanging
the load balancer's request."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.conf import settings
from django.db import connections


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


IN_PROCESS = "in process (no broker configured: tasks run inside the web process)"


def check_database() -> str:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        # This thread's own connection: never left open between probes.
        connections["default"].close()
    return f"{connections['default'].vendor} answered"


def _broker_in_process() -> bool:
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


def check_broker(timeout: float) -> str:
    if _broker_in_process():
        return IN_PROCESS
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.transport_options.update(socket_connect_timeout=timeout, socket_timeout=timeout)
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
    return "reachable"


def check_worker(timeout: float) -> str:
    if _broker_in_process():
        return IN_PROCESS
    from config.celery import app

    # Its own connection, not the app's pool: a probe must not leave a broken connection in
    # the pool that the request's own tasks are sent on.
    with app.connection_for_write() as conn:
        conn.transport_options.update(socket_connect_timeout=timeout, socket_timeout=timeout)
        # limit=1: the first reply is enough to be ready, so a healthy site answers in
        # milliseconds; only a site with no worker waits the whole timeout.
        replies = app.control.ping(timeout=timeout, connection=conn, limit=1)
    if not replies:
        raise RuntimeError(f"no Celery worker answered a ping within {timeout:g} s")
    return f"{next(iter(replies[0]))} answered"


def check_signing_key() -> str:
    """Loads the PKCS#12 (file or secret setting) with its passphrase, as issuing a
    certificate will; an identity already decrypted is not decrypted again."""
    from batches.certificates.identity import site_signer
    from qc.site_identity import source

    site_signer()
    return f"{source()} loaded"


def readiness_checks(timeout: float | None = None) -> list[Check]:
    """Every dependency, checked at once; each gets `timeout` seconds."""
    timeout = settings.READINESS_TIMEOUT_S if timeout is None else timeout
    probes: dict[str, Callable[[], str]] = {
        "database": check_database,
        "broker": lambda: check_broker(timeout),
        "worker": lambda: check_worker(timeout),
        "signing_key": check_signing_key,
    }
    pool = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="readyz")
    futures = {name: pool.submit(probe) for name, probe in probes.items()}
    # A ping no worker answers waits its whole timeout; allow a little on top.
    wait(futures.values(), timeout=timeout + 0.5)
    checks = []
    for name, future in futures.items():
        if not future.done():
            checks.append(Check(name, False, f"no answer within {timeout:g} s"))
            continue
        error = future.exception()
        if error is None:
            checks.append(Check(name, True, future.result()))
        else:
            checks.append(Check(name, False, f"{type(error).__name__}: {error}"[:300]))
    # Threads still stuck in a dead socket are abandoned, not waited for.
    pool.shutdown(wait=False, cancel_futures=True)
    return checks
