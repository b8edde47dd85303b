"""Web page server time with a full site: 10 000 batches and 200 000 results.

Loads the data with bulk_create (bench data only: it bypasses the services, but keeps every
row consistent: specifications in force, expiries, decay tables, evaluations), then times the
dashboard, the first page of the batch list and a batch page through the Django test Client,
logged in as a Qualified Person (the role whose pages compute the most). Prints the median of
20 requests and the query counts. On PostgreSQL the tables are analyzed after the load, as its
autovacuum does after a bulk change.

Uses DATABASE_URL when set (give it a database of its own: the bench migrates and fills it);
otherwise a fresh SQLite file in a temporary directory. BENCH_BATCHES / BENCH_RESULTS scale
the data."""

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BATCHES = int(os.environ.get("BENCH_BATCHES", "10000"))
RESULTS = int(os.environ.get("BENCH_RESULTS", "200000"))
REPEATS = 20
ACTIVE = 40  # batches made in the last hours, still in production or QC


def prepare_environment() -> None:
    var = tempfile.mkdtemp(prefix="bench-web-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{var}/bench-web.sqlite3")
    os.environ.update({
        "SECRET_KEY": "bench-only-secret-key", "DEBUG": "false", "ALPHARELEASE_VAR_DIR": var,
        "ALLOWED_HOSTS": "testserver", "LOG_LEVEL": "WARNING", "CELERY_BROKER_URL": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    })


def shifted_table(template: dict, reference: datetime, start: datetime) -> dict:
    offset = start - reference
    times = [(datetime.fromisoformat(t) + offset).strftime("%Y-%m-%dT%H:%M:%SZ")
             for t in template["times"]]
    return {**template, "times": times}


def load(now: datetime):
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from batches.models import (
        Batch,
        BatchStatus,
        Elution,
        Evaluation,
        Generator,
        GeneratorKind,
        ProductionRoute,
        QcStatus,
        Result,
        SourceLot,
    )
    from qc.engine import site_engine
    from qc.evaluation.decay_table import decay_table
    from qc.roles import Role
    from tests.conftest import PASSWORD, _persona
    from tests.factories import make_products

    operator = _persona("olga", "Olga Operator", Role.OPERATOR)
    analyst = _persona("ana", "Ana Lyst", Role.ANALYST)
    reviewer = _persona("rui", "Rui Reviewer", Role.REVIEWER)
    qp = _persona("quinn", "Quinn Person", Role.QP)
    for user in (operator, analyst, reviewer, qp):
        user.password = make_password(PASSWORD)
        user.save(update_fields=["password"])
    products = list(make_products(reviewer=reviewer, qp=qp).values())
    specs = {p.pk: p.specifications.get(status="approved") for p in products}
    criteria = {p.pk: list(specs[p.pk].criteria.order_by("position", "id")) for p in products}
    engine = site_engine()
    templates = {}
    for product in products:
        reference = now.replace(microsecond=0)
        templates[product.pk] = (reference, decay_table(
            product_nuclide=product.nuclide, activity_bq=1e9, reference_time=reference,
            until=reference + product.shelf_life, step=None, engine=engine))

    generators = {
        "Pb-212": Generator.objects.create(
            kind=GeneratorKind.RA224_PB212, serial="RA224-BENCH", parent_nuclide="Ra-224",
            loaded_activity_bq=1.1e9, loaded_at=now - timedelta(days=3), supplier="bench",
            expires_on=(now + timedelta(days=5)).date()),
        "Bi-213": Generator.objects.create(
            kind=GeneratorKind.AC225_BI213, serial="AC225-BENCH", parent_nuclide="Ac-225",
            loaded_activity_bq=2e9, loaded_at=now - timedelta(days=6), supplier="bench",
            expires_on=(now + timedelta(days=20)).date()),
    }
    lots = [SourceLot.objects.create(
        lot_number=f"AC225-BENCH-{i:03d}", supplier="bench",
        route=ProductionRoute.TH232_SPALLATION, activity_bq=3.7e9,
        reference_time=now - timedelta(days=5 + 10 * i), ac227_ratio_percent=0.2)
        for i in range(20)]

    rng = random.Random(7)
    per_batch = max(1, RESULTS // BATCHES)
    batches, elutions = [], []
    for i in range(BATCHES):
        product = products[i % len(products)]
        # the newest ACTIVE batches are in work; the rest spread back over about a year
        eos = now - (timedelta(minutes=8 * i + 5) if i < ACTIVE
                     else timedelta(hours=12 + 0.9 * i))
        if i < ACTIVE:
            status = rng.choice([BatchStatus.REGISTERED, BatchStatus.IN_QC, BatchStatus.IN_QC,
                                 BatchStatus.REVIEWED])
        elif now - eos < timedelta(days=14):
            # sterility takes 14 days: recent batches may still be conditionally released
            status = rng.choices(
                [BatchStatus.RELEASED, BatchStatus.REJECTED, BatchStatus.CONDITIONALLY_RELEASED],
                weights=[80, 5, 15])[0]
        else:
            status = rng.choices(
                [BatchStatus.RELEASED, BatchStatus.REJECTED, BatchStatus.POST_RELEASE_OOS],
                weights=[93.5, 6, 0.5])[0]
        elution = lot = None
        if product.family == "central_ac225":
            lot = lots[min(i * len(lots) // BATCHES, len(lots) - 1)]
        else:
            elution = Elution(generator=generators[product.nuclide],
                              eluted_at=eos - timedelta(minutes=30), activity_bq=5e8)
            elutions.append(elution)
        reference, template = templates[product.pk]
        total = len(criteria[product.pk])
        passed = total if status == BatchStatus.RELEASED else rng.randint(0, total - 1)
        batches.append(Batch(
            lot_number=f"BENCH-{i:06d}", product=product, specification=specs[product.pk],
            elution=elution, source_lot=lot, eos=eos,
            calibration_time=eos + timedelta(minutes=20), activity_bq=3e8, volume_ml=5.0,
            expiry=eos + product.shelf_life, expiry_reason="EOS + approved shelf life",
            decay_table=shifted_table(template, reference, eos), status=status,
            qc_status=QcStatus.PASSING if passed == total else QcStatus.PENDING,
            criteria_total=total, criteria_passed=passed, registered_by=operator))
    with transaction.atomic():
        Elution.objects.bulk_create(elutions, batch_size=2000)
        Batch.objects.bulk_create(batches, batch_size=2000)
    batches = list(Batch.objects.order_by("id").only("id", "product_id", "eos", "status"))

    chunk: list[Result] = []
    written = 0

    def flush():
        nonlocal chunk
        with transaction.atomic():
            Result.objects.bulk_create(chunk, batch_size=5000)
            Evaluation.objects.bulk_create(
                [Evaluation(result=r, verdict=r._verdict, measured_value=r.value,
                            projected_value=r.value, judged_at_time=r.measured_at,
                            message=f"{r.criterion.name} {r.value_text or r.value} meets "
                            "the specification")
                 for r in chunk], batch_size=5000)
        chunk = []

    for batch in batches:
        batch_criteria = criteria[batch.product_id]
        for k in range(per_batch):
            criterion = batch_criteria[k % len(batch_criteria)]
            if written >= RESULTS:
                break
            result = Result(
                batch=batch, criterion=criterion, value=97.0 if not criterion.is_text else None,
                value_text="conforms" if criterion.is_text else "",
                entered_value="" if criterion.is_text else "97.0 %", unit=criterion.unit,
                measured_at=batch.eos + timedelta(minutes=5 + k), recorded_by=analyst,
                channel="web")
            # a repeat of a criterion (k beyond the first round) follows an invalid count
            result._verdict = "invalid" if k + len(batch_criteria) < per_batch else "pass"
            chunk.append(result)
            written += 1
        if len(chunk) >= 20_000:
            flush()
    if chunk:
        flush()
    return qp, reviewer, written


def median_ms(client, url: str) -> float:
    for _ in range(3):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, url
    return 1000 * statistics.median(times)


def queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured)


def sign_one_release(qp, reviewer, lot_number: str) -> None:
    """A released batch's page shows its signatures and checks their integrity: give one
    batch real ones, over its real record."""
    from django.db import transaction

    from batches.disposition.record import batch_record
    from batches.models import Batch
    from qc.signatures import signature_apply

    batch = Batch.objects.get(lot_number=lot_number)
    for user, meaning in ((reviewer, "reviewed"), (qp, "released")):
        with transaction.atomic():
            signature_apply(user=user, meaning=meaning, object_type="batches.batch",
                            object_id=batch.pk, record=batch_record(batch),
                            batch_lot=lot_number)


def main() -> None:
    prepare_environment()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from batches.models import Batch, Result

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    now = timezone.now()
    qp, reviewer, written = load(now)
    if connection.vendor == "postgresql":
        # PostgreSQL's autovacuum analyzes tables after a bulk change; gather the statistics
        # now rather than time the first minute after the load. (SQLite never analyzes by
        # itself, and Django does not ask it to, so an SQLite site runs without statistics.)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"loaded {Batch.objects.count()} batches and {written} results in "
          f"{time.perf_counter() - started:.0f} s ({connection.vendor})", file=sys.stderr)

    in_qc = (Batch.objects.filter(status="in_qc", product__code="ac225-psma-it")
             .order_by("-eos").first())
    released = (Batch.objects.filter(status="released", product__code="ac225-psma-it")
                .order_by("-eos").first())
    sign_one_release(qp, reviewer, released.lot_number)
    client = Client()
    client.force_login(qp)
    batch_url = f"/batches/{in_qc.lot_number}/"
    print(f"web_dashboard_ms: {median_ms(client, '/'):.1f}")
    print(f"web_batch_list_ms: {median_ms(client, '/batches/'):.1f}")
    print(f"web_batch_page_ms: {median_ms(client, batch_url):.1f}")
    print(f"web_batch_page_released_ms: "
          f"{median_ms(client, f'/batches/{released.lot_number}/'):.1f}")
    print(f"web_dashboard_queries: {queries(client, '/')}")
    print(f"web_batch_list_queries: {queries(client, '/batches/')}")
    print(f"web_batch_page_queries: {queries(client, batch_url)}")
    print(f"web_batch_page_results: {Result.objects.filter(batch=in_qc).count()}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
