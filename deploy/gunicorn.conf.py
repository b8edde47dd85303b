# gunicorn -c deploy/gunicorn.conf.py config.wsgi:application
#
# Several instances may run on one host (blue/green on two ports, or two units): each gets
# its own control socket, named after its bind address, in the unit's RuntimeDirectory.
# gunicorn 27's default ($XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl) would be shared by
# every instance of the same user, so `gunicornc` could reload the wrong one.
import os
import re
import shutil
import tempfile
from pathlib import Path

from gunicorn import glogging

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
worker_class = "gthread"
threads = 4
timeout = 30
# No access log of gunicorn's own: the application logs each request as a JSON line with
# its request id (batches.operations.requests).
accesslog = None


class JsonErrorLogger(glogging.Logger):
    """gunicorn's own lines (booting, worker timeouts and restarts) as the application's JSON
    lines in UTC, so one log search reads the whole service; LOG_FORMAT=text keeps its own."""

    def setup(self, cfg):
        super().setup(cfg)
        if os.environ.get("LOG_FORMAT", "json") == "json":
            from batches.operations.logs import UtcJsonFormatter

            for handler in self.error_log.handlers:
                handler.setFormatter(UtcJsonFormatter())


logger_class = JsonErrorLogger

_runtime = Path(os.environ.get("RUNTIME_DIRECTORY") or tempfile.gettempdir())
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or str(
    _runtime / f"gunicorn-{re.sub(r'[^A-Za-z0-9]+', '-', bind).strip('-')}.ctl")
control_socket_mode = 0o600

# HTTP metrics from all workers, summed at /metrics (prometheus_client multiprocess mode).
# The unit sets PROMETHEUS_MULTIPROC_DIR to a directory of its own; it is emptied at start.
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):
    if _metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
        os.makedirs(_metrics_dir, mode=0o700, exist_ok=True)


def child_exit(server, worker):
    if _metrics_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    # Load the nuclear data before the first request that shows a decay-projected activity.
    from qc.engine import warm_up

    warm_up()
    # Open the signing identity now, not in a worker's first /readyz: pyHanko's import and
    # the PKCS#12 decryption (0.7 s on a shared 2-core host, more while every service starts)
    # would eat into the probe's 2 s. A missing identity or wrong passphrase is /readyz's.
    from batches.certificates.identity import site_signer

    try:
        site_signer()
    except Exception:  # noqa: BLE001 - reported by /readyz (signing_key), not at boot
        pass
