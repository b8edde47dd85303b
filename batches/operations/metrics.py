"""The service's own Prometheus metrics, read from the database (and the broker) when
Prometheus scrapes, so every web process reports the same numbers and nothing has to be
observed in the code that does the work."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from ..models import Certificate, CertificateStatus, Result

# Signature to signed PDF: a 213Bi dose loses 1.5 % a minute, so the buckets are fine-grained
# at the short end.
RELEASE_LATENCY_BUCKETS_S = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)


def unevaluated_results() -> int:
    return Result.objects.filter(evaluation__isnull=True).count()


def pending_certificates() -> tuple[int, float]:
    """(how many, age in seconds of the oldest)."""
    row = Certificate.objects.filter(status=CertificateStatus.PENDING).aggregate(
        n=Count("id"), oldest=Min("requested_at"))
    if not row["n"]:
        return 0, 0.0
    return row["n"], max(0.0, (timezone.now() - row["oldest"]).total_seconds())


def release_latency() -> tuple[list[tuple[str, int]], float]:
    """Cumulative bucket counts and the sum (seconds) over every issued certificate, in one
    query."""
    latency = ExpressionWrapper(F("issued_at") - F("signature__signed_at"),
                                output_field=DurationField())
    buckets = {f"le_{i}": Count("id", filter=Q(latency__lte=timedelta(seconds=bound)))
               for i, bound in enumerate(RELEASE_LATENCY_BUCKETS_S)}
    row = (Certificate.objects.filter(issued_at__isnull=False).annotate(latency=latency)
           .aggregate(total=Count("id"), seconds=Sum("latency"), **buckets))
    counts = [(f"{float(bound)}", row[f"le_{i}"])
              for i, bound in enumerate(RELEASE_LATENCY_BUCKETS_S)]
    counts.append(("+Inf", row["total"]))
    total = row["seconds"]
    return counts, total.total_seconds() if total is not None else 0.0


def queue_depth() -> dict[str, int] | None:
    """Messages waiting in each Celery queue, when the broker is Redis (None otherwise)."""
    url = settings.CELERY_BROKER_URL
    if settings.CELERY_TASK_ALWAYS_EAGER or not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    from config.celery import app

    queue = app.conf.task_default_queue
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        # kombu keeps one list per priority step: "celery" and "celery\x06\x16<step>".
        names = [queue] + [f"{queue}\x06\x16{step}" for step in (1, 2, 3, 4, 5, 6, 7, 8, 9)]
        pipe = client.pipeline()
        for name in names:
            pipe.llen(name)
        return {queue: sum(pipe.execute())}
    finally:
        client.close()


class ServiceCollector(Collector):
    def collect(self):
        yield GaugeMetricFamily(
            "alpharelease_unevaluated_results",
            "Results recorded but not yet judged (should drain within a minute).",
            value=unevaluated_results())
        count, oldest = pending_certificates()
        yield GaugeMetricFamily(
            "alpharelease_pending_certificates",
            "Release certificates requested and not yet issued or failed.", value=count)
        yield GaugeMetricFamily(
            "alpharelease_oldest_pending_certificate_age_seconds",
            "Age of the oldest pending certificate request (0 when none).", value=oldest)
        buckets, total = release_latency()
        yield HistogramMetricFamily(
            "alpharelease_release_latency_seconds",
            "From the QP's release signature to the signed certificate being stored.",
            buckets=buckets, sum_value=total)
        depth = queue_depth()
        if depth is not None:
            family = GaugeMetricFamily(
                "alpharelease_celery_queue_length",
                "Messages waiting in the Celery queue on the Redis broker.", labels=["queue"])
            for queue, length in depth.items():
                family.add_metric([queue], length)
            yield family
