"""A ten-year site on PostgreSQL: 150 000 batches, 3 million results, 10 million audit events.

Prints the dashboard, batch list and batch page times (median of several requests through the
Django test Client, logged in as a QP and as an analyst; target <= 150 ms each), the time and
peak memory of `manage.py verify_audit` at two chain lengths (a tenth of the events, then all
of them: memory must stay flat), and the times of `manage.py backup` and `manage.py restore`.

The data is bench data, bulk-loaded (COPY and INSERT ... SELECT generate_series), never through
the services, but shaped like a site's: the three product families in turn, one batch every
35 minutes over ten years, most released, some rejected, a few recalled, the newest still in
work; about 20 results per batch (every criterion once, earlier rounds of some invalid),
each with its evaluation; review and disposition signatures; a certificate row for every
released batch. The certificate PDF files are NOT written (one would take a signing each):
the restore check of certificates therefore reports them missing, which the bench counts and
prints. The audit events are what those records would have left (registration, status
changes, every result and evaluation, signatures, certificates, logins to make up the count),
chained with the app's own event_hash (qc.audit) from the chain head the app left, so
verify_audit must find the chain intact; the head row and two signed checkpoints agree.

BENCH_SCALE (default 1) scales every count: BENCH_SCALE=0.01 is a quick try. The bench makes
its own database (SCALE_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/ar_scale_bench,
and a second one with the suffix _restore for the restore), drops and re-creates it, and
drops both at the end unless BENCH_KEEP=1. BENCH_REUSE=1 with BENCH_VAR_DIR=<the kept run's
folder> measures a kept site again (after migrating it to this checkout) without loading it;
BENCH_PAGES_ONLY=1 stops after the pages."""

import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
BATCHES = max(30, round(150_000 * SCALE))
RESULTS_PER_BATCH = 20
EVENTS = max(3000, round(10_000_000 * SCALE))
ACTIVE = 40  # the newest batches, still in production or QC
REPEATS = 10
DB_URL = os.environ.get("SCALE_DATABASE_URL",
                        "postgres://postgres@127.0.0.1:5432/ar_scale_bench")
RESTORE_URL = DB_URL + "_restore"
SYSTEM = "system"


def step(message: str, started: float) -> None:
    print(f"  {message} ({time.perf_counter() - started:.1f} s)", file=sys.stderr, flush=True)


def psql_admin(sql: str) -> None:
    parts = urlsplit(DB_URL)
    admin = parts._replace(path="/postgres").geturl()
    subprocess.run(["psql", admin, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True)


def recreate(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    psql_admin(f'DROP DATABASE IF EXISTS "{name}"')
    psql_admin(f'CREATE DATABASE "{name}"')


def prepare_environment(var: Path) -> dict:
    env = {
        "SECRET_KEY": "bench-only-secret-key", "DEBUG": "false", "ALPHARELEASE_VAR_DIR": str(var),
        "ALLOWED_HOSTS": "testserver", "LOG_LEVEL": "WARNING", "CELERY_BROKER_URL": "",
        "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": DB_URL,
        "SIGNING_P12_PASSPHRASE": os.environ.get("SIGNING_P12_PASSPHRASE", "bench-passphrase"),
        "SITE_URL": "https://release.bench.invalid",
    }
    os.environ.update(env)
    return dict(os.environ)


# ---------------------------------------------------------------- the plan of the site


class Plan:
    """What every batch is, decided up front so that the rows and the audit events agree."""

    def __init__(self, now: datetime, products: list, criteria: dict):
        rng = random.Random(16)
        self.now, self.products, self.criteria = now, products, criteria
        span = timedelta(days=3652)
        self.rows = []  # (id, lot, product, eos, status)
        for i in range(BATCHES):
            newest = BATCHES - 1 - i
            if newest < ACTIVE:
                eos = now - timedelta(minutes=8 * newest + 5)
                status = rng.choice(["registered", "in_qc", "in_qc", "reviewed"])
            else:
                eos = now - timedelta(hours=12) - span * (newest - ACTIVE) / (BATCHES - ACTIVE)
                if now - eos < timedelta(days=14):  # sterility pending: conditional releases
                    status = rng.choices(["released", "rejected", "conditionally_released"],
                                         weights=[80, 5, 15])[0]
                else:
                    status = rng.choices(["released", "rejected", "post_release_oos"],
                                         weights=[93.5, 6, 0.5])[0]
            eos = eos.replace(microsecond=rng.randrange(1_000_000))
            product = products[i % len(products)]
            self.rows.append((i + 1, f"BENCH-{i + 1:06d}", product, eos, status))

    @staticmethod
    def result_id(batch_id: int, k: int) -> int:
        return (batch_id - 1) * RESULTS_PER_BATCH + k + 1

    @staticmethod
    def has_results(status: str) -> bool:
        return status != "registered"

    @staticmethod
    def certified(status: str) -> bool:
        return status in ("released", "conditionally_released", "post_release_oos")

    def verdict(self, status: str, n: int, k: int) -> str:
        if k < RESULTS_PER_BATCH - n:
            return "invalid"  # an earlier round, repeated after an invalid count
        if status in ("rejected", "post_release_oos") and k == RESULTS_PER_BATCH - 1:
            return "fail"  # for a recall: the sterility result, 14 days after release
        return "pass"


def criterion_value(c) -> float | None:
    if c.is_text:
        return None
    if c.lower_limit is not None and c.upper_limit is not None:
        return round((c.lower_limit + c.upper_limit) / 2, 3)
    if c.lower_limit is not None:
        return round(c.lower_limit * 1.05 + 1, 3)
    if c.upper_limit is not None:
        return round(c.upper_limit * 0.4, 4)
    return 1.0


# ---------------------------------------------------------------- loading


def copy_rows(table: str, columns: list[str], rows) -> int:
    from django.db import connection

    written = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
    return written


def sql(statement: str, params=None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or None)
        return cursor.rowcount


def setup_site(now: datetime):
    from django.contrib.auth.hashers import make_password

    from batches.models import Generator, GeneratorKind, ProductionRoute, SourceLot
    from qc.roles import Role
    from tests.conftest import PASSWORD, _persona
    from tests.factories import make_instrument, make_products

    people = {name: _persona(name, full, role) for name, full, role in (
        ("olga", "Olga Operator", Role.OPERATOR), ("ana", "Ana Lyst", Role.ANALYST),
        ("rui", "Rui Reviewer", Role.REVIEWER), ("quinn", "Quinn Person", Role.QP))}
    for user in people.values():
        user.password = make_password(PASSWORD)
        user.save(update_fields=["password"])
    products = list(make_products(reviewer=people["rui"], qp=people["quinn"]).values())
    criteria = {}
    for product in products:
        spec = product.specifications.get(status="approved")
        criteria[product.pk] = (spec, list(spec.criteria.order_by("position", "id")))
    instruments = [make_instrument() for _ in range(6)]
    weeks = 522
    generators = {}
    for kind, parent, nuclide in ((GeneratorKind.RA224_PB212, "Ra-224", "Pb-212"),
                                  (GeneratorKind.AC225_BI213, "Ac-225", "Bi-213")):
        made = Generator.objects.bulk_create([Generator(
            kind=kind, serial=f"{parent}-BENCH-{w:04d}", parent_nuclide=parent,
            loaded_activity_bq=1.5e9, loaded_at=now - timedelta(weeks=weeks - w),
            supplier="bench", expires_on=(now - timedelta(weeks=weeks - w - 2)).date())
            for w in range(weeks)])
        generators[nuclide] = made
    lots = SourceLot.objects.bulk_create([SourceLot(
        lot_number=f"AC225-BENCH-{m:03d}", supplier="bench",
        route=ProductionRoute.TH232_SPALLATION, activity_bq=3.7e9,
        reference_time=now - timedelta(days=30 * (121 - m)), ac227_ratio_percent=0.2)
        for m in range(122)])
    return people, products, criteria, instruments, generators, lots


def decay_templates(products, now):
    from qc.engine import site_engine
    from qc.evaluation.decay_table import decay_table

    engine = site_engine()
    return {p.pk: (now, decay_table(product_nuclide=p.nuclide, activity_bq=3e8,
                                    reference_time=now, until=now + p.shelf_life, step=None,
                                    engine=engine)) for p in products}


def shifted(template: dict, reference: datetime, start: datetime) -> str:
    offset = start - reference
    times = [(datetime.fromisoformat(t) + offset).strftime("%Y-%m-%dT%H:%M:%SZ")
             for t in template["times"]]
    return json.dumps({**template, "times": times})


def load_batches(plan: Plan, people, generators, lots, now) -> None:
    templates = decay_templates(plan.products, now)
    span = (plan.now - plan.rows[0][3]).total_seconds() or 1.0
    elutions, batches = [], []
    for batch_id, lot, product, eos, status in plan.rows:
        spec, crits = plan.criteria[product.pk]
        age = (plan.now - eos).total_seconds() / span
        elution_id = source_lot_id = None
        if product.family == "central_ac225":
            source_lot_id = lots[min(len(lots) - 1, int((1 - age) * len(lots)))].pk
        else:
            pool = generators[product.nuclide]
            generator = pool[min(len(pool) - 1, int((1 - age) * len(pool)))]
            elution_id = len(elutions) + 1
            elutions.append((elution_id, generator.pk, eos - timedelta(minutes=30), 5e8, 2.0,
                             "500 MBq", people["olga"].pk))
        n = len(crits)
        passed = (0 if not plan.has_results(status)
                  else n - (status == "rejected") if status != "in_qc" else n // 2)
        qc = {"rejected": "failing", "in_qc": "pending", "registered": "pending"}.get(
            status, "passing")
        reference, template = templates[product.pk]
        batches.append((batch_id, lot, product.pk, spec.pk, elution_id, source_lot_id, eos,
                        eos + timedelta(minutes=20), 3e8, 5.0, eos, False,
                        eos + product.shelf_life, "EOS + approved shelf life",
                        shifted(template, reference, eos), status, qc, n, passed,
                        people["olga"].pk, eos))
    copy_rows("batches_elution", ["id", "generator_id", "eluted_at", "activity_bq", "volume_ml",
                                  "entered_activity", "recorded_by_id"], elutions)
    copy_rows("batches_batch", [
        "id", "lot_number", "product_id", "specification_id", "elution_id", "source_lot_id",
        "eos", "calibration_time", "activity_bq", "volume_ml", "daughters_separated_at",
        "daughters_not_separated", "expiry", "expiry_reason", "decay_table", "status",
        "qc_status", "criteria_total", "criteria_passed", "registered_by_id", "created_at"],
        batches)


def load_results(plan: Plan, people, instruments) -> None:
    """Results, evaluations, signatures and certificates, set-based in the database."""
    sql("CREATE TEMP TABLE crit_map (product_id int, k int, n int, criterion_id int, "
        "value float, value_text text, entered text, number text, unit text, name text, "
        "instrument_id int)")
    rows = []
    for product in plan.products:
        _, crits = plan.criteria[product.pk]
        for k in range(RESULTS_PER_BATCH):
            c = crits[(k - RESULTS_PER_BATCH) % len(crits)]  # the last round is complete
            value = criterion_value(c)
            rows.append((product.pk, k, len(crits), c.pk, value,
                         "conforms" if c.is_text else "",
                         "" if c.is_text else f"{value:g} {c.unit}".strip(),
                         "" if c.is_text else f"{value:g}", c.unit, c.name,
                         instruments[k % len(instruments)].pk))
    copy_rows("crit_map", ["product_id", "k", "n", "criterion_id", "value", "value_text",
                           "entered", "number", "unit", "name", "instrument_id"], rows)
    sql(f"""
        INSERT INTO batches_result (id, batch_id, criterion_id, value, entered_value,
            entered_number, censor, counting_window, unit, value_text, measured_at,
            method_times, instrument_id, recorded_by_id, recorded_at, channel, reason)
        SELECT (b.id - 1) * {RESULTS_PER_BATCH} + m.k + 1, b.id, m.criterion_id, m.value,
            m.entered, m.number, '', '', m.unit, m.value_text,
            b.eos + (5 + m.k) * interval '1 minute',
            '{{}}', m.instrument_id, %s, b.eos + (6 + m.k) * interval '1 minute',
            CASE WHEN m.k %% 3 = 0 THEN 'web' ELSE 'api' END, ''
        FROM batches_batch b JOIN crit_map m ON m.product_id = b.product_id
        WHERE b.status <> 'registered' ORDER BY b.id, m.k""", [people["ana"].pk])
    sql(f"""
        INSERT INTO batches_evaluation (id, result_id, verdict, measured_value,
            projected_value, judged_at_time, message, data_source, evaluated_at)
        SELECT r.id, r.id, v.verdict, r.value, r.value, r.measured_at,
            m.name || CASE v.verdict WHEN 'pass' THEN ' meets the specification'
                WHEN 'fail' THEN ' is out of specification'
                ELSE ' is invalid (count repeated)' END, '', r.recorded_at
        FROM batches_result r JOIN batches_batch b ON b.id = r.batch_id
        JOIN crit_map m ON m.product_id = b.product_id
            AND m.k = (r.id - 1) % {RESULTS_PER_BATCH}
        CROSS JOIN LATERAL (SELECT CASE
            WHEN m.k < {RESULTS_PER_BATCH} - m.n THEN 'invalid'
            WHEN b.status IN ('rejected', 'post_release_oos')
                AND m.k = {RESULTS_PER_BATCH - 1} THEN 'fail'
            ELSE 'pass' END AS verdict) v
        ORDER BY r.id""")
    # Review and disposition signatures (ids 2b-1 and 2b), then the certificate rows.
    disposed = "('released', 'conditionally_released', 'post_release_oos', 'rejected')"
    from qc.models import Signature

    base = Signature.objects.order_by("-id").values_list("id", flat=True).first() or 0
    sql(f"""
        INSERT INTO qc_signature (id, user_id, printed_name, signed_at, meaning, comment,
            object_type, object_id, record_sha256)
        SELECT {base} + 2 * b.id - 1, %s, 'Rui Reviewer', b.eos + interval '3 hours',
            'reviewed', '', 'batches.batch', b.id::text,
            md5(b.lot_number) || md5('r' || b.lot_number)
        FROM batches_batch b WHERE b.status IN {disposed} AND b.id <> %s
        UNION ALL
        SELECT {base} + 2 * b.id, %s, 'Quinn Person', b.eos + interval '4 hours',
            CASE b.status WHEN 'post_release_oos' THEN 'released' ELSE b.status END, '',
            'batches.batch', b.id::text, md5(b.lot_number) || md5('q' || b.lot_number)
        FROM batches_batch b WHERE b.status IN {disposed} AND b.id <> %s
        ORDER BY 1""", [people["rui"].pk, plan.signed_for_real, people["quinn"].pk,
                        plan.signed_for_real])
    sql(f"""
        INSERT INTO batches_certificate (id, batch_id, version, document_id, disposition,
            signature_id, status, pdf, content_sha256, signed_sha256, error, requested_at,
            issued_at)
        SELECT b.id, b.id, 1, 'CoR-' || b.lot_number || '-v1',
            CASE b.status WHEN 'post_release_oos' THEN 'released' ELSE b.status END,
            {base} + 2 * b.id,
            'issued', 'certificates/CoR-' || b.lot_number || '-v1.pdf',
            md5('c' || b.lot_number) || md5('d' || b.lot_number),
            md5('s' || b.lot_number) || md5('t' || b.lot_number), '',
            b.eos + interval '4 hours', b.eos + interval '4 hours 1 minute'
        FROM batches_batch b
        WHERE b.status IN ('released', 'conditionally_released', 'post_release_oos')
            AND b.id <> %s ORDER BY b.id""", [plan.signed_for_real])


class Event:
    """The fields event_hash reads, as they read back from the database."""

    __slots__ = ("at", "actor_id", "actor_name", "action", "object_type", "object_id",
                 "batch_lot", "before", "after", "reason")

    def __init__(self, at, actor, action, object_type, object_id, batch_lot="", before=None,
                 after=None, reason=""):
        self.at, self.action, self.object_type = at, action, object_type
        self.actor_id, self.actor_name = actor if actor else (None, SYSTEM)
        self.object_id, self.batch_lot = str(object_id), batch_lot
        self.before, self.after, self.reason = before, after, reason


def batch_events(plan: Plan, row, people, logins: float):
    batch_id, lot, product, eos, status = row
    _, crits = plan.criteria[product.pk]
    n = len(crits)
    olga, ana, rui, quinn = (people[k] for k in ("olga", "ana", "rui", "quinn"))

    def at(minutes: float) -> datetime:
        return eos + timedelta(minutes=minutes)

    for j in range(int(logins)):
        user = (olga, ana, rui, quinn)[j % 4]
        yield Event(at(-60 + j), user, "auth.login", "auth.user", user[0],
                    after={"ip_address": f"10.0.{j % 4}.{10 + j % 50}",
                           "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"})
    yield Event(at(1), olga, "batch.register", "batches.batch", batch_id, lot, after={
        "lot_number": lot, "product": product.code, "eos": eos.isoformat().replace(
            "+00:00", "Z"), "activity_bq": 300000000.0, "volume_ml": 5.0, "status": "registered"})
    if not plan.has_results(status):
        return
    yield Event(at(5), ana, "batch.status", "batches.batch", batch_id, lot,
                before={"status": "registered"}, after={"status": "in_qc"},
                reason="first result recorded")
    for k in range(RESULTS_PER_BATCH):
        c = crits[(k - RESULTS_PER_BATCH) % n]
        rid = plan.result_id(batch_id, k)
        value = criterion_value(c)
        measured = at(5 + k).isoformat().replace("+00:00", "Z")
        yield Event(at(6 + k), ana, "result.record", "batches.result", rid, lot, after={
            "test_code": c.test_code, "value": value, "value_text": "conforms" if c.is_text
            else "", "measured_at": measured, "channel": "web" if k % 3 == 0 else "api"})
        verdict = plan.verdict(status, n, k)
        yield Event(at(6.5 + k), None, "result.evaluate", "batches.evaluation", rid, lot, after={
            "result_id": rid, "verdict": verdict, "measured": value, "projected": value,
            "judged_at": measured, "message": f"{c.name} ({verdict})"})
    if status in ("in_qc", "registered"):
        return
    yield Event(at(180), rui, "batch.status", "batches.batch", batch_id, lot,
                before={"status": "in_qc"}, after={"status": "reviewed"}, reason="reviewed")
    if status == "reviewed":
        return
    disposition = "released" if status == "post_release_oos" else status
    yield Event(at(240), quinn, "batch.status", "batches.batch", batch_id, lot,
                before={"status": "reviewed"}, after={"status": disposition},
                reason=f"QP disposition: {disposition}")
    if plan.certified(status):
        document = f"CoR-{lot}-v1"
        yield Event(at(240.1), quinn, "certificate.request", "batches.certificate", batch_id,
                    lot, after={"document_id": document, "version": 1})
        yield Event(at(241), None, "certificate.issue", "batches.certificate", batch_id, lot,
                    after={"document_id": document, "file": f"certificates/{document}.pdf",
                           "status": "issued", "superseded_by": None})
    if status == "post_release_oos":
        c = crits[-1]
        yield Event(at(20160), None, "batch.post_release_oos", "batches.batch", batch_id, lot,
                    before={"status": "released"}, after={
                        "status": "post_release_oos", "test_code": c.test_code,
                        "result_id": plan.result_id(batch_id, RESULTS_PER_BATCH - 1),
                        "notified": ["quinn@example.org"]},
                    reason=f"{c.name} is out of specification")


def load_events(plan: Plan, people, rows, logins_per_batch: float, start_id: int,
                prev: str) -> tuple[int, str, int]:
    """Chain the events of `rows` after (start_id - 1, prev) with the app's event_hash and
    COPY them in; returns (next id, last hash, events written)."""
    from qc.audit import event_hash
    from qc.canonical import canonical_json

    who = {k: (u.pk, u.get_username()) for k, u in people.items()}
    state = {"id": start_id, "prev": prev, "carry": 0.0}

    def stream():
        for row in rows:
            state["carry"] += logins_per_batch
            logins = int(state["carry"])
            state["carry"] -= logins
            for e in batch_events(plan, row, who, logins):
                h = event_hash(state["prev"], e)
                yield (state["id"], e.at, e.actor_id, e.actor_name, e.action, e.object_type,
                       e.object_id, e.batch_lot,
                       None if e.before is None else canonical_json(e.before),
                       None if e.after is None else canonical_json(e.after),
                       e.reason, state["prev"], h)
                state["prev"] = h
                state["id"] += 1

    written = copy_rows("qc_auditevent", [
        "id", "at", "actor_id", "actor_name", "action", "object_type", "object_id", "batch_lot",
        "before", "after", "reason", "prev_hash", "hash"], stream())
    return state["id"], state["prev"], written


def events_per_batch(plan: Plan) -> int:
    who = {"olga": (1, "o"), "ana": (2, "a"), "rui": (3, "r"), "quinn": (4, "q")}
    return sum(sum(1 for _ in batch_events(plan, row, who, 0)) for row in plan.rows)


def finish_tables() -> None:
    from django.core.management.color import no_style
    from django.db import connection

    from batches.models import Batch, Certificate, Elution, Evaluation, Result
    from qc.models import AuditEvent, Signature

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(
                no_style(), [Batch, Certificate, Elution, Evaluation, Result, AuditEvent,
                             Signature]):
            cursor.execute(statement)


# ---------------------------------------------------------------- measuring


# Runs the command in a child of its own and reports that child's peak RSS. (The rusage of a
# direct child of this process would count the pages it shared with this, much larger, process
# between fork and exec: Linux keeps that high-water mark across exec.)
PEAK_RSS = """import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(f"PEAK_RSS_KB={usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(args: list[str], env: dict, log: Path) -> tuple[float, float, int, str]:
    """Run a manage.py command; (seconds, its peak RSS in MB, exit code, its output)."""
    started = time.perf_counter()
    with log.open("w") as out:
        code = subprocess.run([sys.executable, "-c", PEAK_RSS, sys.executable,
                               str(ROOT / "manage.py"), *args], env=env, stdout=out,
                              stderr=subprocess.STDOUT, cwd=ROOT).returncode
    seconds = time.perf_counter() - started
    output = log.read_text()
    peak = [line for line in output.splitlines() if line.startswith("PEAK_RSS_KB=")]
    rss = int(peak[-1].split("=")[1]) / 1024 if peak else float("nan")
    return seconds, rss, code, "\n".join(line for line in output.splitlines()
                                         if not line.startswith("PEAK_RSS_KB="))


def medians_ms(client, url: str) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (the machine is shared: the
    CPU time shows what a request costs here when other work delays it)."""
    for _ in range(2):
        assert client.get(url).status_code == 200, url
    wall, cpu = [], []
    for _ in range(REPEATS):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        assert response.status_code == 200, url
    return 1000 * statistics.median(wall), 1000 * statistics.median(cpu)


def queries(client, url: str) -> tuple[int, float]:
    """The number of queries of one request and their total time in ms."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured), 1000 * sum(float(q["time"]) for q in captured.captured_queries)


def sign_one_release(people, batch_id: int) -> None:
    """The timed released batch gets real signatures over its real record (its page checks
    them) and a certificate row citing the QP's."""
    from django.db import transaction

    from batches.disposition.record import batch_record
    from batches.models import Batch, Certificate
    from qc.signatures import signature_apply

    batch = Batch.objects.get(pk=batch_id)
    signature = None
    for user, meaning in ((people["rui"], "reviewed"), (people["quinn"], "released")):
        with transaction.atomic():
            signature = signature_apply(user=user, meaning=meaning,
                                        object_type="batches.batch", object_id=batch.pk,
                                        record=batch_record(batch), batch_lot=batch.lot_number)
    document = f"CoR-{batch.lot_number}-v1"
    Certificate.objects.create(batch=batch, version=1, document_id=document,
                               disposition="released", signature=signature, status="issued",
                               pdf=f"certificates/{document}.pdf", signed_sha256="0" * 64)


def verify(env: dict, var: Path, label: str) -> None:
    seconds, rss, code, output = run_measured(["verify_audit"], env, var / f"verify-{label}.log")
    last = output.strip().splitlines()[-1] if output.strip() else ""
    print(f"scale_verify_audit_{label}: {last}", file=sys.stderr)
    from qc.models import AuditChainHead

    events = AuditChainHead.objects.get(pk=1).count
    print(f"scale_verify_audit_{label}_events={events}")
    print(f"scale_verify_audit_{label}_s={seconds:.1f}")
    print(f"scale_verify_audit_{label}_peak_rss_mb={rss:.0f}")
    print(f"scale_verify_audit_{label}_intact={int(code == 0 and 'intact' in last)}")


def pages(people, in_qc_lot: str, released_lot: str) -> None:
    from django.test import Client

    urls = {"dashboard": "/", "batch_list": "/batches/",
            "batch_page": f"/batches/{in_qc_lot}/",
            "batch_page_released": f"/batches/{released_lot}/",
            "batch_audit": f"/batches/{released_lot}/audit/"}
    for role, user in (("qp", people["quinn"]), ("analyst", people["ana"])):
        client = Client()
        client.force_login(user)
        for name, url in urls.items():
            if name == "batch_audit" and role != "qp":
                continue  # the per-batch trail is for QA and the QP
            wall, cpu = medians_ms(client, url)
            count, db_ms = queries(client, url)
            print(f"scale_{name}_ms_median_{role}={wall:.1f}", flush=True)
            print(f"scale_{name}_cpu_ms_median_{role}={cpu:.1f} "
                  f"scale_{name}_queries_{role}={count} scale_{name}_db_ms_{role}={db_ms:.1f}")


def counts() -> str:
    from batches.models import Batch, Certificate, Result
    from qc.models import AuditEvent, Signature

    return (f"{Batch.objects.count()} batches, {Result.objects.count()} results, "
            f"{Signature.objects.count()} signatures, {Certificate.objects.count()} "
            f"certificates, {AuditEvent.objects.count()} audit events")


def load_site(env: dict, var: Path):
    """Make the database and fill it; (people, in-QC lot, released lot) for the pages."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from qc.audit_checkpoints import checkpoint_write
    from qc.models import AuditChainHead, AuditEvent

    call_command("migrate", verbosity=0)
    call_command("create_signing_identity", verbosity=0)
    started = time.perf_counter()
    now = timezone.now()
    people, products, criteria, instruments, generators, lots = setup_site(now)
    plan = Plan(now, products, criteria)
    psma = products[0].pk
    in_qc = max(r for r in plan.rows if r[4] == "in_qc" and r[2].pk == psma)
    released = max(r for r in plan.rows if r[4] == "released" and r[2].pk == psma)
    plan.signed_for_real = released[0]
    with transaction.atomic():
        load_batches(plan, people, generators, lots, now)
    step(f"{BATCHES} batches", started)
    with transaction.atomic():
        load_results(plan, people, instruments)
    step("results, evaluations, signatures, certificates", started)

    base = events_per_batch(plan)
    logins = max(0.0, (EVENTS - base) / BATCHES)
    split = BATCHES // 10
    for label, rows in (("tenth", plan.rows[:split]), ("all", plan.rows[split:])):
        with transaction.atomic():
            head = AuditChainHead.objects.select_for_update().get(pk=1)
            last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
            _, head.last_hash, written = load_events(plan, people, rows, logins,
                                                     (last or 0) + 1, head.last_hash)
            head.count += written
            head.save(update_fields=["last_hash", "count"])
        finish_tables()
        step(f"{head.count} audit events chained", started)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if label == "all" else "ANALYZE qc_auditevent")
        checkpoint_write(reason=f"bench-scale after {head.count} events")
        step("vacuum analyze, checkpoint", started)
        if label == "tenth":
            verify(env, var, "tenth")
    print(f"loaded {counts()}", file=sys.stderr)
    print(f"scale_load_s={time.perf_counter() - started:.0f}")
    sign_one_release(people, released[0])
    return people, in_qc[1], released[1]


def kept_site():
    """BENCH_REUSE=1: the site a run with BENCH_KEEP=1 left (migrated to this checkout)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from batches.models import Batch

    call_command("migrate", verbosity=0)
    people = {u.username: u for u in get_user_model().objects.filter(
        username__in=["olga", "ana", "rui", "quinn"])}
    newest = Batch.objects.filter(product__code="ac225-psma-it").order_by("-eos")
    return (people, newest.filter(status="in_qc").first().lot_number,
            newest.filter(status="released").first().lot_number)


def main() -> None:
    total_started = time.perf_counter()
    reuse = os.environ.get("BENCH_REUSE") == "1"
    var = Path(os.environ.get("BENCH_VAR_DIR") or tempfile.mkdtemp(prefix="bench-scale-"))
    env = prepare_environment(var)
    print(f"bench-scale: scale {SCALE} ({BATCHES} batches, ~{BATCHES * RESULTS_PER_BATCH} "
          f"results, ~{EVENTS} audit events) in {urlsplit(DB_URL).path[1:]}, {var}"
          f"{' (reused)' if reuse else ''}", file=sys.stderr)
    if not reuse:
        recreate(DB_URL)
    import django

    django.setup()
    from django.db import connection

    people, in_qc_lot, released_lot = kept_site() if reuse else load_site(env, var)
    pages(people, in_qc_lot, released_lot)
    if os.environ.get("BENCH_PAGES_ONLY") == "1":
        return
    verify(env, var, "all")

    seconds, _, code, output = run_measured(["backup", "--output-dir", str(var / "backups")],
                                            env, var / "backup.log")
    print(f"bench-scale backup: {output.strip()}", file=sys.stderr)
    print(f"scale_backup_s={seconds:.1f}")
    archive = sorted((var / "backups").glob("*.tar.gz"))[-1]
    print(f"scale_backup_archive_mb={archive.stat().st_size / 1e6:.0f}")
    connection.close()
    recreate(RESTORE_URL)
    restored = var / "restored"
    restore_env = {**env, "DATABASE_URL": RESTORE_URL, "ALPHARELEASE_VAR_DIR": str(restored)}
    seconds, rss, code, output = run_measured(["restore", str(archive)], restore_env,
                                              var / "restore.log")
    print(f"bench-scale restore (exit {code}):\n{output.strip()}", file=sys.stderr)
    print(f"scale_restore_s={seconds:.1f}")
    print(f"scale_restore_peak_rss_mb={rss:.0f}")
    audit_ok = any(line.strip().startswith("ok") and "audit trail" in line
                   for line in output.splitlines())
    print(f"scale_restore_audit_ok={int(audit_ok)}")
    # The bench writes no certificate PDFs, so that check can only report them missing.
    failed = [line.split(":")[0].split()[-1] for line in output.splitlines()
              if line.strip().startswith("FAIL")]
    print(f"scale_restore_checks_failed={','.join(failed) or 'none'}")
    if os.environ.get("BENCH_KEEP") != "1":
        for url in (DB_URL, RESTORE_URL):
            psql_admin(f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}"')
        subprocess.run(["rm", "-rf", str(var)], check=False)
    print(f"scale_total_s={time.perf_counter() - total_started:.0f}")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
