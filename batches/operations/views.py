"""/healthz, /readyz and /metrics: for load balancers, orchestrators and Prometheus."""

import hmac
import ipaddress
import logging
import os

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from .health import readiness_checks

PROBLEM = "application/problem+json"
logger = logging.getLogger(__name__)


@csrf_exempt
@never_cache
@require_GET
def healthz(request):
    """The process is alive and serving requests; touches no dependency."""
    return JsonResponse({"status": "alive"})


@csrf_exempt
@never_cache
@require_GET
def readyz(request):
    checks = readiness_checks()
    body = {check.name: {"ok": check.ok, "detail": check.detail} for check in checks}
    down = [check.name for check in checks if not check.ok]
    if not down:
        return JsonResponse({"status": "ready", "checks": body})
    detail = f"Down: {', '.join(down)}. " + "; ".join(
        f"{c.name}: {c.detail}" for c in checks if not c.ok)
    # A load balancer keeps no body: the log says what was down when a probe got a 503.
    logger.warning("not ready: %s", detail, extra={"down": down})
    return JsonResponse({
        "type": "urn:alpharelease:problem:not-ready",
        "title": "Not ready",
        "status": 503,
        "detail": detail,
        "down": down,
        "checks": body,
    }, status=503, content_type=PROBLEM)


def _metrics_allowed(request) -> bool:
    token = settings.METRICS_BEARER_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(
            header[len("Bearer "):].strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


def _refused() -> JsonResponse:
    return JsonResponse({
        "type": "urn:alpharelease:problem:metrics-refused", "title": "Not allowed",
        "status": 403,
        "detail": "Metrics are served only to the addresses in METRICS_ALLOWED_IPS or with "
                  "'Authorization: Bearer <METRICS_BEARER_TOKEN>'."}, status=403,
        content_type=PROBLEM)


@csrf_exempt
@never_cache
@require_GET
def metrics(request):
    if not _metrics_allowed(request):
        return _refused()
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry
    from prometheus_client.exposition import generate_latest

    from .metrics import ServiceCollector

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several gunicorn workers: HTTP metrics are summed over their files.
        from prometheus_client import multiprocess

        http = CollectorRegistry()
        multiprocess.MultiProcessCollector(http)
    else:
        http = REGISTRY
    service = CollectorRegistry(auto_describe=False)
    service.register(ServiceCollector())
    return HttpResponse(generate_latest(http) + generate_latest(service),
                        content_type=CONTENT_TYPE_LATEST)
