"""Realistic demo data for all three product families, made through the services so that
the demo shows the audit trail, evaluations and expiries exactly as production would."""

import math
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from qc.audit import audit_record
from qc.demo_specifications import METHODS, PRODUCTS
from qc.engine import site_engine
from qc.models import Instrument, InstrumentKind, Product, TestMethod
from qc.roles import Role
from qc.services import specification_approve, specification_create_draft

from .disposition import services as disposition
from .evaluation.physics import batch_compute_physics
from .evaluation.results import result_evaluate
from .models import Batch, Elution, Generator, GeneratorKind, ProductionRoute, SourceLot
from .records.registration import batch_register
from .records.results import result_record

User = get_user_model()


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: Role
    password: str


DEMO_USERS = [
    DemoUser("operator", "Olga Operator", Role.OPERATOR, "demo-operator-212"),
    DemoUser("analyst", "Ana Lyst", Role.ANALYST, "demo-analyst-225"),
    DemoUser("reviewer", "Rui Reviewer", Role.REVIEWER, "demo-reviewer-213"),
    DemoUser("qp", "Quinn Person", Role.QP, "demo-qp-release"),
    DemoUser("admin", "Ada Admin", Role.ADMIN, "demo-admin-keys"),
]

DEMO_INSTRUMENTS = [
    ("DC-CRC55-0042", "Capintec CRC-55tR dose calibrator", InstrumentKind.DOSE_CALIBRATOR),
    ("HPGE-GEM-7781", "Ortec GEM HPGe spectrometer", InstrumentKind.HPGE),
    ("TLC-MINIGITA-19", "Elysia miniGITA radio-TLC scanner", InstrumentKind.RADIO_TLC),
    ("HPLC-1260-332", "Agilent 1260 radio-HPLC", InstrumentKind.HPLC),
    ("LAL-PTS-5512", "Endosafe nexgen-PTS endotoxin reader", InstrumentKind.ENDOTOXIN_READER),
    ("PH-SEVEN-0807", "SevenCompact pH meter", InstrumentKind.PH_METER),
    ("SYN-MODULAB-02", "Modular-Lab synthesis module", InstrumentKind.SYNTHESIS_MODULE),
]


def _users() -> dict[str, User]:
    users = {}
    for demo in DEMO_USERS:
        first, last = demo.full_name.split(" ", 1)
        user, created = User.objects.get_or_create(
            username=demo.username, defaults={"first_name": first, "last_name": last,
                                              "email": f"{demo.username}@example.org"})
        if created:
            user.set_password(demo.password)
            user.is_staff = demo.role == Role.ADMIN
            user.is_superuser = demo.role == Role.ADMIN
            user.save()
            user.groups.add(Group.objects.get(name=demo.role.value))
        users[demo.username] = user
    return users


def _master_data(users) -> dict[str, Product]:
    for code, name in METHODS.items():
        TestMethod.objects.get_or_create(code=code, defaults={"name": name})
    today = timezone.now().date()
    for serial, name, kind in DEMO_INSTRUMENTS:
        Instrument.objects.get_or_create(serial=serial, defaults={
            "name": name, "kind": kind, "calibration_due": today + timedelta(days=180)})
    products = {}
    for row in PRODUCTS:
        fields = {k: v for k, v in row.items() if k not in ("code", "criteria")}
        product, created = Product.objects.get_or_create(code=row["code"], defaults=fields)
        products[row["code"]] = product
        if created:
            with transaction.atomic():
                audit_record(actor=users["admin"], action="product.create", obj=product,
                             after={"code": product.code, "name": product.name})
            spec = specification_create_draft(
                actor=users["reviewer"], product=product, criteria=row["criteria"],
                change_reason="Initial specification (published example values).")
            specification_approve(actor=users["qp"], password=_password("qp"),
                                  specification=spec,
                                  effective_from=timezone.now() - timedelta(days=30),
                                  comment="Approved for the demo site.")
    return products


def _password(username: str) -> str:
    return next(d.password for d in DEMO_USERS if d.username == username)


ELUTION_YIELD = 0.9  # share of the grown-in product a good elution recovers


def _generator(serial: str, kind: str, parent: str, loaded_bq: float, loaded_at: datetime,
               supplier: str, shelf_days: int) -> Generator:
    generator, _ = Generator.objects.get_or_create(serial=serial, defaults={
        "kind": kind, "parent_nuclide": parent, "loaded_activity_bq": loaded_bq,
        "loaded_at": loaded_at, "supplier": supplier,
        "expires_on": (loaded_at + timedelta(days=shelf_days)).date()})
    return generator


def _elution(generator: Generator, at: datetime) -> Elution:
    """An elution at `at` recovering ELUTION_YIELD of what grew in since the elution before
    (or since loading), so the demo's generator pages show plausible yields."""
    from .web.physics import predict_elution

    existing = Elution.objects.filter(generator=generator, eluted_at=at).first()
    if existing is not None:
        return existing
    previous = generator.elutions.filter(eluted_at__lt=at).order_by("-eluted_at").first()
    grown = predict_elution(generator, last_elution_at=previous.eluted_at if previous else None,
                            at=at).product_bq
    return Elution.objects.create(generator=generator, eluted_at=at,
                                  activity_bq=float(f"{ELUTION_YIELD * grown:.3g}"))


def _sources(now: datetime) -> dict[str, object]:
    """Generators and their elutions in time order, each elution's activity from ingrowth.

    A 224Ra/212Pb generator is eluted once a day and its morning eluate, with Pb-212's
    10.6 h half-life, serves the day's 212Pb batches; a 225Ac/213Bi generator regrows in a
    few hours, so the two 213Bi batches minutes apart come from two generators. The
    released batches of two weeks ago were made on generators that have since expired."""
    day = timedelta(days=1)
    old_pb = _generator("RA224-GEN-0109", GeneratorKind.RA224_PB212, "Ra-224", 2.5e9,
                        now - 17 * day, "OranoMed", 7)
    old_bi = _generator("AC225-GEN-0024", GeneratorKind.AC225_BI213, "Ac-225", 4.0e9,
                        now - 22 * day, "ITM", 21)
    pb_gen = _generator("RA224-GEN-0117", GeneratorKind.RA224_PB212, "Ra-224", 2.5e9,
                        now - 3 * day, "OranoMed", 7)
    bi_gen = _generator("AC225-GEN-0031", GeneratorKind.AC225_BI213, "Ac-225", 4.0e9,
                        now - 6 * day, "ITM", 21)
    bi_gen2 = _generator("AC225-GEN-0032", GeneratorKind.AC225_BI213, "Ac-225", 4.0e9,
                         now - 2 * day, "ITM", 21)
    lot, _ = SourceLot.objects.get_or_create(lot_number="AC225-TH232-2611-07", defaults={
        "supplier": "Accelerator isotope supplier (demo)",
        "route": ProductionRoute.TH232_SPALLATION, "activity_bq": 3.7e9,
        "reference_time": now - timedelta(days=5), "ac227_ratio_percent": 0.2})
    _elution(pb_gen, now - timedelta(hours=31))  # yesterday's, its batch long gone
    _elution(bi_gen, now - timedelta(hours=3, minutes=40))
    return {
        "lot": lot,
        "pb_history": _elution(old_pb, now - timedelta(days=15, hours=-1)),
        "bi_history": _elution(old_bi, now - timedelta(days=15, hours=-4, minutes=12)),
        "pb_today": _elution(pb_gen, now - timedelta(hours=7)),
        "bi_013": _elution(bi_gen, now - timedelta(minutes=37)),
        "bi_014": _elution(bi_gen2, now - timedelta(minutes=26)),
    }


def _activity_measured(nuclide: str, nominal_bq: float, calibration: datetime,
                       measured_at: datetime, share: float) -> float:
    """What the dose calibrator reads at `measured_at` for a batch at `share` of nominal."""
    half_life = site_engine().half_life_s(nuclide)
    dt = (calibration - measured_at).total_seconds()
    return nominal_bq * share * math.exp(math.log(2) * dt / half_life)


@transaction.atomic
def seed(*, now: datetime | None = None) -> dict[str, object]:
    """Create the demo site. Idempotent: a seeded database is left as it is."""
    now = now or timezone.now()
    users = _users()
    products = _master_data(users)
    if Batch.objects.exists():
        return {"users": users, "created": False}
    src = _sources(now)
    analyst, operator = users["analyst"], users["operator"]
    seed_release_history(users, now=now)

    def record(batch, code, at, value=None, unit="", text="", **method_times):
        return _demo_record(analyst, batch, code, at, value, unit, text, **method_times)

    # 212Pb: made this morning, every release-required test passed; sterility and the
    # Ra-224 recount (8.3 d after EOS) are still to come (a conditional release candidate).
    eos = now - timedelta(hours=3)
    pb = batch_register(
        actor=operator, lot_number="PB212-2611-001", product=products["pb212-dotamtate"],
        elution=src["pb_today"],
        eos=eos, calibration_time=eos + timedelta(hours=1), activity_bq=3.0e8, volume_ml=5.0)
    record(pb, "identity", eos + timedelta(minutes=20), text="present")
    record(pb, "rcp", eos + timedelta(minutes=25), 97.4, "%")
    record(pb, "activity", eos + timedelta(minutes=15),
           _activity_measured("Pb-212", 3.0e8, pb.calibration_time,
                              eos + timedelta(minutes=15), 1.02) / 1e6, "MBq")
    record(pb, "ph", eos + timedelta(minutes=18), 6.8, "pH")
    record(pb, "endotoxin", eos + timedelta(minutes=40), 1.2, "EU/mL")
    record(pb, "filter-integrity", eos + timedelta(minutes=10), text="pass")

    # 213Bi: just eluted and labelled for a patient; QC under way against the clock.
    eos = now - timedelta(minutes=12)
    bi = batch_register(
        actor=operator, lot_number="BI213-2611-014", product=products["bi213-dotatoc"],
        elution=src["bi_014"],
        eos=eos, calibration_time=eos + timedelta(minutes=20), activity_bq=1.1e9, volume_ml=3.0)
    record(bi, "identity", eos + timedelta(minutes=4), text="present")
    record(bi, "rcp", eos + timedelta(minutes=6), 98.3, "%")

    # 225Ac: shipped-lot product; the radio-TLC was counted 12 min after development,
    # before Fr-221 regrew, so the result is invalid and must be recounted.
    eos = now - timedelta(minutes=50)
    ac = batch_register(
        actor=operator, lot_number="AC225-2611-003", product=products["ac225-psma-it"],
        source_lot=src["lot"], eos=eos, calibration_time=eos + timedelta(hours=1),
        activity_bq=8.0e6, volume_ml=4.0)
    record(ac, "appearance", eos + timedelta(minutes=5), text="conforms")
    developed = eos + timedelta(minutes=8)
    record(ac, "rcp", developed + timedelta(minutes=12), 96.1, "%",
           developed_at=developed)
    record(ac, "ph", eos + timedelta(minutes=9), 7.1, "pH")

    # 225Ac from the same lot, yesterday: endotoxin failed; blocks review until QA acts.
    eos = now - timedelta(hours=26)
    ac_fail = batch_register(
        actor=operator, lot_number="AC225-2611-002", product=products["ac225-psma-it"],
        source_lot=src["lot"], eos=eos, calibration_time=eos + timedelta(hours=1),
        activity_bq=7.5e6, volume_ml=4.0)
    record(ac_fail, "appearance", eos + timedelta(minutes=5), text="conforms")
    record(ac_fail, "endotoxin", eos + timedelta(minutes=35), 7.8, "EU/mL")

    # A 212Pb batch registered from the synthesis module, no results yet.
    eos = now - timedelta(minutes=5)
    batch_register(
        actor=operator, lot_number="PB212-2611-002", product=products["pb212-dotamtate"],
        elution=src["pb_today"],
        eos=eos, calibration_time=eos + timedelta(hours=2), activity_bq=2.5e8, volume_ml=5.0)
    seed_dispositions(users, now=now)
    return {"users": users, "created": True}


def demo_logins() -> list[tuple[str, str, str]]:
    return [(d.username, d.password, d.role.value) for d in DEMO_USERS]


def demo_instrument_serials() -> list[str]:
    return [serial for serial, _, _ in DEMO_INSTRUMENTS]


__all__ = ["seed", "demo_logins", "demo_instrument_serials"]


# --- dispositions (GMP engineer) ------------------------------------------------------------


def _demo_record(analyst, batch, code, at, value=None, unit="", text="", **method_times):
    """Record and judge a result at once: seed() runs in one transaction, so the evaluation
    it schedules on commit would come too late for the signatures below (it then finds the
    evaluation made here and leaves it)."""
    kind = {"rcp": InstrumentKind.RADIO_TLC, "activity": InstrumentKind.DOSE_CALIBRATOR,
            "activity-conc": InstrumentKind.DOSE_CALIBRATOR,
            "endotoxin": InstrumentKind.ENDOTOXIN_READER, "ph": InstrumentKind.PH_METER,
            "identity": InstrumentKind.HPGE, "vector-integrity": InstrumentKind.HPLC}.get(code)
    result = result_record(
        actor=analyst, batch=batch, criterion=batch.specification.criteria.get(test_code=code),
        measured_at=at, value=value, unit=unit, value_text=text, method_times=method_times,
        instrument=Instrument.objects.filter(kind=kind).first() if kind else None)
    result_evaluate(result_id=result.id)
    return result


def seed_dispositions(users, *, now: datetime | None = None) -> dict[str, list[Batch]]:
    """Demo batches taken through QA review and the QP's signatures, by the services and
    with the demo users' passwords. Idempotent: lots that exist are left as they are.

    A fully released batch cannot be made honestly at seeding time: full release needs
    every criterion passed, and the may-release-before-result tests (sterility: 14 days;
    Ra-224 recount: 8.3 d after EOS; Ac-225 recount: ~15 h after EOS) only give results
    after the batch has expired, so a full release always closes a conditional release
    signed days earlier, and signatures carry the server's time."""
    now = now or timezone.now()
    if Batch.objects.filter(lot_number__in=["AC225-2611-001", "PB212-2611-003",
                                            "BI213-2611-013"]).exists():
        return {}
    products = {p.code: p for p in Product.objects.all()}
    src = _sources(now)
    operator, analyst, reviewer, qp = (users[k] for k in ("operator", "analyst", "reviewer",
                                                         "qp"))

    def register(lot, product, eos, calibration_after, activity_bq, volume_ml, **source):
        batch = batch_register(
            actor=operator, lot_number=lot, product=products[product], eos=eos,
            calibration_time=eos + calibration_after, activity_bq=activity_bq,
            volume_ml=volume_ml, **source)
        batch_compute_physics(batch_id=batch.id)
        for result in batch.results.filter(evaluation__isnull=True):  # the lot's Ac-227 share
            result_evaluate(result_id=result.id)
        return batch

    def reading(nuclide, batch, at, share):
        return _activity_measured(nuclide, batch.activity_bq, batch.calibration_time, at, share)

    # 225Ac, made two hours ago: every release-required test passed, reviewed by QA and
    # released by the QP before the sterility result (certificate lists it as pending).
    eos = now - timedelta(hours=2)
    ac = register("AC225-2611-001", "ac225-psma-it", eos, timedelta(hours=1), 8.0e6, 4.0,
                  source_lot=src["lot"])
    _demo_record(analyst, ac, "appearance", eos + timedelta(minutes=5), text="conforms")
    _demo_record(analyst, ac, "filter-integrity", eos + timedelta(minutes=12), text="pass")
    activity_at = eos + timedelta(minutes=15)
    _demo_record(analyst, ac, "activity", activity_at,
                 reading("Ac-225", ac, activity_at, 0.99) / 1e6, "MBq")
    _demo_record(analyst, ac, "activity-conc", activity_at,
                 reading("Ac-225", ac, activity_at, 0.99) / ac.volume_ml / 1e6, "MBq/mL")
    _demo_record(analyst, ac, "ph", eos + timedelta(minutes=9), 7.0, "pH")
    _demo_record(analyst, ac, "vector-integrity", eos + timedelta(minutes=30), 98.1, "%")
    _demo_record(analyst, ac, "endotoxin", eos + timedelta(minutes=40), 0.8, "EU/mL")
    developed = eos + timedelta(minutes=8)
    _demo_record(analyst, ac, "rcp", developed + timedelta(minutes=40), 97.2, "%",
                 developed_at=developed)
    _demo_record(analyst, ac, "identity", eos + timedelta(minutes=50), text="present")
    disposition.batch_review(actor=reviewer, password=_password("reviewer"), batch=ac,
                             comment="Batch record and QC results reviewed; no deviations.")
    disposition.batch_release_conditionally(
        actor=qp, password=_password("qp"), batch=ac,
        comment="Released for today's patients; sterility result to follow.")

    # 212Pb, made this morning: released before the Ra-224 recount and sterility.
    eos = now - timedelta(hours=6)
    pb = register("PB212-2611-003", "pb212-dotamtate", eos, timedelta(hours=1), 3.0e8, 5.0,
                  elution=src["pb_today"])
    _demo_record(analyst, pb, "filter-integrity", eos + timedelta(minutes=10), text="pass")
    activity_at = eos + timedelta(minutes=15)
    _demo_record(analyst, pb, "activity", activity_at,
                 reading("Pb-212", pb, activity_at, 1.01) / 1e6, "MBq")
    _demo_record(analyst, pb, "ph", eos + timedelta(minutes=18), 6.9, "pH")
    _demo_record(analyst, pb, "identity", eos + timedelta(minutes=20), text="present")
    _demo_record(analyst, pb, "rcp", eos + timedelta(minutes=25), 98.0, "%")
    _demo_record(analyst, pb, "endotoxin", eos + timedelta(minutes=40), 0.9, "EU/mL")
    disposition.batch_review(actor=reviewer, password=_password("reviewer"), batch=pb)
    disposition.batch_release_conditionally(actor=qp, password=_password("qp"), batch=pb)

    # 213Bi, eluted 25 minutes ago for a patient: reviewed, waiting for the QP's decision.
    eos = now - timedelta(minutes=25)
    bi = register("BI213-2611-013", "bi213-dotatoc", eos, timedelta(minutes=20), 1.1e9, 3.0,
                  elution=src["bi_013"])
    activity_at = eos + timedelta(minutes=3)
    _demo_record(analyst, bi, "activity", activity_at,
                 reading("Bi-213", bi, activity_at, 1.0) / 1e6, "MBq")
    _demo_record(analyst, bi, "identity", eos + timedelta(minutes=4), text="present")
    _demo_record(analyst, bi, "ph", eos + timedelta(minutes=5), 7.2, "pH")
    _demo_record(analyst, bi, "rcp", eos + timedelta(minutes=6), 98.6, "%")
    disposition.batch_review(actor=reviewer, password=_password("reviewer"), batch=bi)
    return {"conditionally_released": [ac, pb], "reviewed": [bi]}


# --- released batches: a history under a demo clock --------------------------------------


@contextmanager
def _demo_clock(moment: datetime):
    """Run the services as if at `moment`.

    A full release closes a conditional release signed days before (sterility takes 14
    days), so a released batch is history by nature. The demo writes that history through
    the real services, with the clock set back; production never does this."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def seed_release_history(users, *, now: datetime) -> list[Batch]:
    """One fully released batch of each family, made 15 days ago: registered, tested,
    reviewed, conditionally released (certificate v1), then the post-release tests passed
    and the QP signed the final release (certificate v2, v1 superseded)."""
    products = {p.code: p for p in Product.objects.all()}
    src = _sources(now)
    operator, analyst, reviewer, qp = (users[k] for k in ("operator", "analyst", "reviewer",
                                                         "qp"))
    plans = [
        ("AC225-2611-000", "ac225-psma-it", now - timedelta(days=15), timedelta(hours=1),
         8.0e6, 4.0, {"source_lot": src["lot"]}, [
             ("appearance", 5, None, "", "conforms", {}),
             ("identity", 50, None, "", "present", {}),
             ("rcp", 48, 97.0, "%", "", {"developed_at": 8}),
             ("activity", 15, "activity", "MBq", "", {}),
             ("activity-conc", 15, "activity-conc", "MBq/mL", "", {}),
             ("ph", 9, 7.0, "pH", "", {}),
             ("endotoxin", 40, 0.6, "EU/mL", "", {}),
             ("filter-integrity", 12, None, "", "pass", {}),
             ("vector-integrity", 30, 98.4, "%", "", {})],
         [("sterility", 14 * 24 * 60, None, "", "sterile", {})]),
        ("PB212-2611-000", "pb212-dotamtate", now - timedelta(days=15, hours=-2),
         timedelta(hours=1), 3.0e8, 5.0,
         {"elution": src["pb_history"]}, [
             ("identity", 20, None, "", "present", {}),
             ("rcp", 25, 97.8, "%", "", {}),
             ("activity", 15, "activity", "MBq", "", {}),
             ("ph", 18, 6.9, "pH", "", {}),
             ("endotoxin", 40, 1.0, "EU/mL", "", {}),
             ("filter-integrity", 10, None, "", "pass", {})],
         # the Ra-224 recount on the Pb-212 line is valid 8.32 d after EOS (not 72 h):
         # 1.0 kBq at 9 d is 5.5 kBq at calibration, 0.0018 % of 300 MBq
         [("ra224-breakthrough", 9 * 24 * 60, 1.0e3, "Bq", "", {}),
          ("sterility", 14 * 24 * 60, None, "", "sterile", {})]),
        ("BI213-2611-000", "bi213-dotatoc", now - timedelta(days=15, hours=-4),
         timedelta(minutes=20), 1.1e9, 3.0,
         {"elution": src["bi_history"]}, [
             ("identity", 4, None, "", "present", {}),
             ("rcp", 6, 98.4, "%", "", {}),
             ("activity", 3, "activity", "MBq", "", {}),
             ("ph", 5, 7.1, "pH", "", {})],
         [("endotoxin", 60, 0.5, "EU/mL", "", {}),
          # the Ac-225 recount on the Bi-213 line is valid ~15 h after EOS (not 7.6 h)
          ("ac225-breakthrough", 16 * 60, 3.0e3, "Bq", "", {}),
          ("ac225-breakthrough-expiry", 16 * 60, 3.0e3, "Bq", "", {}),
          ("sterility", 14 * 24 * 60, None, "", "sterile", {})]),
    ]
    made = []
    for lot, code, eos, calibration_after, activity, volume, source, before, after in plans:
        with _demo_clock(eos + timedelta(minutes=2)):
            batch = batch_register(
                actor=operator, lot_number=lot, product=products[code], eos=eos,
                calibration_time=eos + calibration_after, activity_bq=activity,
                volume_ml=volume, **source)
            batch_compute_physics(batch_id=batch.id)
            for result in batch.results.filter(evaluation__isnull=True):
                result_evaluate(result_id=result.id)
        _history_results(analyst, batch, eos, before)
        with _demo_clock(eos + timedelta(minutes=55 if code != "bi213-dotatoc" else 30)):
            disposition.batch_review(actor=reviewer, password=_password("reviewer"),
                                     batch=batch, comment="Batch record and results reviewed.")
            disposition.batch_release_conditionally(
                actor=qp, password=_password("qp"), batch=batch,
                comment="Released for use; post-release tests to follow.")
        _history_results(analyst, batch, eos, after)
        with _demo_clock(eos + timedelta(days=14, hours=3)):
            disposition.batch_release(actor=qp, password=_password("qp"), batch=batch,
                                      comment="Post-release tests passed: final release.")
        made.append(batch)
    return made


def _history_results(analyst, batch, eos, rows) -> None:
    for test_code, minutes, value, unit, text, method_times in rows:
        at = eos + timedelta(minutes=minutes)
        if value in ("activity", "activity-conc"):
            reading = _activity_measured(batch.product.nuclide, batch.activity_bq,
                                         batch.calibration_time, at, 1.0)
            value = reading / 1e6 / (batch.volume_ml if value == "activity-conc" else 1)
        times = {name: eos + timedelta(minutes=m) for name, m in method_times.items()}
        with _demo_clock(at + timedelta(minutes=1)):
            _demo_record(analyst, batch, test_code, at, value, unit, text, **times)
