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
from qc.demo_specifications import METHODS, PRODUCTS, QUALIFIED_TEST_CODES_BY_KIND
from qc.engine import site_engine
from qc.entered import EnteredNumber, derived_text
from qc.evaluation.daughters import calibrator_correction
from qc.evaluation.values import Measurement
from qc.formatting import significant
from qc.instruments import instrument_qualify
from qc.models import Criterion, Instrument, InstrumentKind, Product, TestMethod, Validity
from qc.roles import Role
from qc.rules import rule_for
from qc.services import specification_approve, specification_create_draft

from .demo_sources import sources
from .disposition import services as disposition
from .evaluation.physics import batch_compute_physics, batch_times
from .evaluation.results import result_evaluate
from .models import Batch, CountingWindow
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
    qualify_demo_instruments(actor=users["admin"])
    return products


def qualify_demo_instruments(*, actor) -> None:
    """Each demo instrument qualified for what its kind measures in the demo specifications,
    through the audited service; an instrument qualified before is left as it is."""
    known = set(Criterion.objects.values_list("test_code", flat=True))
    for instrument in Instrument.objects.filter(serial__in=demo_instrument_serials()):
        if instrument.qualified_test_codes:
            continue
        codes = [c for c in QUALIFIED_TEST_CODES_BY_KIND.get(instrument.kind, []) if c in known]
        if codes:
            instrument_qualify(actor=actor, instrument=instrument, test_codes=codes,
                               reason="Demo site: IQ/OQ/PQ of the method on this instrument.")


def _password(username: str) -> str:
    return next(d.password for d in DEMO_USERS if d.username == username)


def _activity_measured(batch: Batch, measured_at: datetime, share: float) -> float:
    """What the dose calibrator reads at `measured_at` for a batch at `share` of nominal: the
    product's activity then, as its setting shows it (the 212Pb equilibrium setting reads
    the Pb-212 with its daughters as they stand, qc.evaluation.daughters)."""
    half_life = site_engine().half_life_s(batch.product.nuclide)
    dt = (batch.calibration_time - measured_at).total_seconds()
    activity = batch.activity_bq * share * math.exp(math.log(2) * dt / half_life)
    rule = rule_for(batch.specification.criteria.get(test_code="activity"))
    if rule.validity != "daughter_correction":
        return activity
    factor, _ = calibrator_correction(rule, Measurement(None, "", measured_at),
                                      batch_times(batch), site_engine())
    return activity / factor


@transaction.atomic
def seed(*, now: datetime | None = None) -> dict[str, object]:
    """Create the demo site. Idempotent: a seeded database is left as it is."""
    now = now or timezone.now()
    users = _users()
    products = _master_data(users)
    if Batch.objects.exists():
        return {"users": users, "created": False}
    src = sources(now)
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
           _activity_measured(pb, eos + timedelta(minutes=15), 1.02) / 1e6, "MBq")
    record(pb, "ph", eos + timedelta(minutes=18), 6.8, "pH")
    record(pb, "endotoxin", eos + timedelta(minutes=40), 1.2, "EU/mL")
    record(pb, "filter-integrity", eos + timedelta(minutes=10), text="pass")
    record(pb, "appearance", eos + timedelta(minutes=5), text="conforms")
    record(pb, "vector-integrity", eos + timedelta(minutes=22), 97.1, "%")
    record(pb, "endotoxin-dose", eos + timedelta(minutes=41), 1.2 * pb.volume_ml, "EU")
    record(pb, "vector-function", eos + timedelta(minutes=75), 83.0, "%")

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
    # It was registered yesterday, within its 3 h shelf life; the demo clock says so.
    eos = now - timedelta(hours=26)
    with _demo_clock(eos + timedelta(minutes=2)):
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


def lab_reading(code: str, value: float | None) -> EnteredNumber | None:
    """A value as the lab enters it: a dose calibrator's activity reading to 4 significant
    figures ('305.9 MBq'), other values as written in the plans ('97.4')."""
    if value is None or isinstance(value, EnteredNumber):
        return value
    if code in ("activity", "activity-conc"):
        return EnteredNumber(significant(value, 4))
    return EnteredNumber(derived_text(value))


def _demo_record(analyst, batch, code, at, value=None, unit="", text="", **method_times):
    """Record and judge a result at once: seed() runs in one transaction, so the evaluation
    it schedules on commit would come too late for the signatures below (it then finds the
    evaluation made here and leaves it). The demo site counts its strips on the product's
    own line where the test asks for the counting window."""
    criterion = batch.specification.criteria.get(test_code=code)
    kind = {"rcp": InstrumentKind.RADIO_TLC, "activity": InstrumentKind.DOSE_CALIBRATOR,
            "activity-conc": InstrumentKind.DOSE_CALIBRATOR,
            "endotoxin": InstrumentKind.ENDOTOXIN_READER, "ph": InstrumentKind.PH_METER,
            "identity": InstrumentKind.HPGE, "vector-integrity": InstrumentKind.HPLC,
            "ac226-share": InstrumentKind.HPGE, "rn-impurities": InstrumentKind.HPGE}.get(code)
    result = result_record(
        actor=analyst, batch=batch, criterion=criterion, measured_at=at,
        value=lab_reading(code, value), unit=unit, value_text=text, method_times=method_times,
        counting_window=(CountingWindow.PRODUCT_LINE
                         if criterion.validity == Validity.COUNTING_WINDOW else ""),
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
    src = sources(now)
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
        return _activity_measured(batch, at, share)

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
    _demo_record(analyst, ac, "ac226-share", eos + timedelta(minutes=25), 0.03, "%")
    _demo_record(analyst, ac, "rn-impurities", eos + timedelta(minutes=25), 0.01, "%")
    _demo_record(analyst, ac, "ethanol", eos + timedelta(minutes=15), 6.8, "%")
    _demo_record(analyst, ac, "endotoxin-dose", eos + timedelta(minutes=41), 0.8 * ac.volume_ml,
                 "EU")
    _demo_record(analyst, ac, "vector-function", eos + timedelta(minutes=70), 86.0, "%")
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
    _demo_record(analyst, pb, "appearance", eos + timedelta(minutes=5), text="conforms")
    _demo_record(analyst, pb, "vector-integrity", eos + timedelta(minutes=22), 97.6, "%")
    _demo_record(analyst, pb, "endotoxin-dose", eos + timedelta(minutes=41), 0.9 * pb.volume_ml,
                 "EU")
    _demo_record(analyst, pb, "vector-function", eos + timedelta(minutes=70), 82.0, "%")
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
    _demo_record(analyst, bi, "appearance", eos + timedelta(minutes=2), text="conforms")
    _demo_record(analyst, bi, "filter-integrity", eos + timedelta(minutes=2), text="pass")
    _demo_record(analyst, bi, "vector-integrity", eos + timedelta(minutes=7), 97.0, "%")
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
    src = sources(now)
    operator, analyst, reviewer, qp = (users[k] for k in ("operator", "analyst", "reviewer",
                                                         "qp"))
    plans = [
        ("AC225-2611-000", "ac225-psma-it", now - timedelta(days=15), timedelta(hours=1),
         8.0e6, 4.0, {"source_lot": src["lot_history"]}, [
             ("appearance", 5, None, "", "conforms", {}),
             ("identity", 50, None, "", "present", {}),
             ("rcp", 48, 97.0, "%", "", {"developed_at": 8}),
             ("activity", 15, "activity", "MBq", "", {}),
             ("activity-conc", 15, "activity-conc", "MBq/mL", "", {}),
             ("ph", 9, 7.0, "pH", "", {}),
             ("endotoxin", 40, 0.6, "EU/mL", "", {}),
             ("filter-integrity", 12, None, "", "pass", {}),
             ("vector-integrity", 30, 98.4, "%", "", {}),
             ("ac226-share", 25, 0.02, "%", "", {}),
             ("rn-impurities", 25, 0.01, "%", "", {}),
             ("ethanol", 15, 6.6, "%", "", {}),
             ("endotoxin-dose", 41, 2.4, "EU", "", {}),
             ("vector-function", 50, 86.0, "%", "", {})],
         [("sterility", 14 * 24 * 60, None, "", "sterile", {})]),
        ("PB212-2611-000", "pb212-dotamtate", now - timedelta(days=15, hours=-2),
         timedelta(hours=1), 3.0e8, 5.0,
         {"elution": src["pb_history"]}, [
             ("identity", 20, None, "", "present", {}),
             ("rcp", 25, 97.8, "%", "", {}),
             ("activity", 15, "activity", "MBq", "", {}),
             ("ph", 18, 6.9, "pH", "", {}),
             ("endotoxin", 40, 1.0, "EU/mL", "", {}),
             ("filter-integrity", 10, None, "", "pass", {}),
             ("appearance", 5, None, "", "conforms", {}),
             ("vector-integrity", 22, 97.9, "%", "", {}),
             ("endotoxin-dose", 41, 5.0, "EU", "", {}),
             ("vector-function", 50, 81.0, "%", "", {})],
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
             ("ph", 5, 7.1, "pH", "", {}),
             ("appearance", 2, None, "", "conforms", {}),
             ("filter-integrity", 2, None, "", "pass", {}),
             ("vector-integrity", 7, 97.2, "%", "", {})],
         [("endotoxin", 60, 0.5, "EU/mL", "", {}),
          ("endotoxin-dose", 61, 1.5, "EU", "", {}),
          ("vector-function", 6 * 60, 78.0, "%", "", {}),
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
            reading = _activity_measured(batch, at, 1.0)
            value = reading / 1e6 / (batch.volume_ml if value == "activity-conc" else 1)
        times = {name: eos + timedelta(minutes=m) for name, m in method_times.items()}
        with _demo_clock(at + timedelta(minutes=1)):
            _demo_record(analyst, batch, test_code, at, value, unit, text, **times)
