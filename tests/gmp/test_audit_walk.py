"""Every state-changing service leaves exactly the expected audit event(s), in the same
transaction: this test walks them all, and fails when a service appears that it does not
walk (add it to the walk, or to READ_ONLY with the reason it writes nothing that matters)."""

import inspect
from datetime import timedelta
from importlib import import_module

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from batches.certificates import services as certificates
from batches.disposition import services as disposition
from batches.evaluation import oos, physics
from batches.evaluation import results as evaluation
from batches.models import Certificate, GeneratorKind, Result
from batches.records import elutions, raw_data, registration
from batches.records import results as records
from qc import api_keys, signatures, specification_edits
from qc import services as qc_services
from qc.errors import RuleViolation
from qc.models import AuditEvent, Criterion, InstrumentKind
from tests.conftest import PASSWORD
from tests.factories import make_elution, make_instrument, make_source_lot

from .flows import record, release_required_results

pytestmark = pytest.mark.django_db

REAL_CERTIFICATE_REQUEST = certificates.certificate_request_issue  # before the gmp fixture

SERVICE_MODULES = ["batches.records.registration", "batches.records.results",
                   "batches.records.elutions",
                   "batches.records.raw_data", "batches.evaluation.physics",
                   "batches.evaluation.results", "batches.evaluation.oos",
                   "batches.disposition.services", "batches.disposition.blockers",
                   "batches.disposition.record", "batches.certificates.services",
                   "batches.certificates.content", "batches.certificates.identity",
                   "batches.certificates.verify", "batches.certificates.lookup",
                   "qc.services", "qc.signatures", "qc.specification_edits", "qc.api_keys"]

READ_ONLY = {
    "batches.records.raw_data.file_sha256": "pure",
    "batches.evaluation.physics.batch_times": "pure",
    "batches.evaluation.physics.measurement": "pure",
    "batches.evaluation.results.batch_refresh_qc_status": "derived counts, recomputed from results",
    "batches.disposition.record.batch_record": "read",
    "batches.disposition.record.invalidation_record": "read",
    "batches.disposition.record.signature_integrity": "read",
    "batches.disposition.record.batch_records": "read",
    "batches.disposition.record.signatures_integrity": "read",
    "batches.disposition.blockers.batch_picture": "read",
    "batches.disposition.blockers.pending_optional": "pure",
    "batches.disposition.blockers.status_label": "pure",
    "batches.disposition.blockers.reviewer_conflicts": "read",
    "batches.disposition.blockers.releaser_conflicts": "read",
    "batches.disposition.blockers.review_blockers": "read",
    "batches.disposition.blockers.release_blockers": "read",
    "batches.disposition.blockers.conditional_release_blockers": "read",
    "batches.disposition.blockers.available_actions": "read",
    "batches.disposition.blockers.action_states": "read",
    "batches.records.results.correction_blockers": "read",
    "batches.records.elutions.elution_forecast": "read",
    "batches.certificates.services.stuck_certificates": "read",
    "batches.certificates.services.unrequested_releases": "read",
    "batches.certificates.identity.signing_paths": "read",
    "batches.certificates.identity.site_signer": "read",
    "batches.certificates.identity.site_certificate_pem": "read",
    "batches.certificates.content.certificate_data": "read",
    "batches.certificates.verify.certificate_verify": "read",
    "batches.certificates.content.verify_url": "read (the QR code's URL)",
    "batches.certificates.lookup.certificate_lookup": "read (the QR code's verify page)",
    "batches.certificates.identity.warm_up": "loads fonts and the signing key; writes nothing",
    "qc.services.specification_record": "read",
    "qc.services.criterion_text_errors": "pure",
    "qc.signatures.record_hash": "pure",
    "qc.signatures.signing_is_locked": "read",
    "qc.signatures.is_administrator": "read",
    "qc.specification_edits.previous_version": "read",
    "qc.specification_edits.criteria_diff": "read",
    "qc.api_keys.hash_key": "pure",
    "qc.api_keys.key_label": "pure",
    "qc.api_keys.api_key_verify": "read; stamps last_used_at, operational metadata",
    "qc.api_keys.forget_verified_keys": "clears this process's memory of verified keys",
    "qc.api_keys.instrument_user": "the system account made inside api_key_create (audited)",
}


def public_functions() -> set[str]:
    names = set()
    for module_name in SERVICE_MODULES:
        module = import_module(module_name)
        for name, value in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and value.__module__ == module_name:
                names.add(f"{module_name}.{name}")
    return names


class Walk:
    def __init__(self):
        self.walked: set[str] = set()

    def step(self, function, expected: list[str], *args, by=..., **kwargs):
        """Call `function` and check the events it leaves: exactly `expected`, by `by`
        (default: the `actor` argument; None: the system)."""
        actor = kwargs.get("actor") if by is ... else by
        last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        outcome = function(*args, **kwargs)
        events = list(AuditEvent.objects.filter(id__gt=last).order_by("id"))
        name = f"{function.__module__}.{function.__name__}"
        assert [e.action for e in events] == expected, name
        for event in events:
            assert event.actor == actor, (name, event.action, event.actor)
            assert event.at is not None and event.hash
        self.walked.add(name)
        return outcome

    def refused(self, function, expected: list[str], *, by, **kwargs):
        def call():
            with pytest.raises(RuleViolation):
                function(**kwargs)
        call.__module__, call.__name__ = function.__module__, function.__name__
        self.step(call, expected, by=by)


@pytest.fixture
def signing_identity(settings, tmp_path):
    from batches.pdf.signing import create_signing_identity

    create_signing_identity(tmp_path / "site.p12", b"walk", common_name="Walk site",
                            organisation="Walk site")
    settings.SIGNING_P12_PATH = str(tmp_path / "site.p12")
    settings.SIGNING_P12_PASSPHRASE = "walk"
    return tmp_path


def test_every_state_changing_service_leaves_exactly_its_audit_events(
        products, operator, analyst, second_analyst, reviewer, qp, admin_user, committed,
        signing_identity, settings, clock, now):
    walk = Walk()
    product = products["ac225-psma-it"]

    # Master data: a new specification version, authored and approved by signature.
    draft = walk.step(qc_services.specification_create_draft, ["specification.draft"],
                      actor=reviewer, product=products["bi213-dotatoc"],
                      criteria=[{"test_code": "ph", "name": "pH", "unit": "pH",
                                 "lower_limit": 5.0, "upper_limit": 8.5}])
    added = walk.step(specification_edits.criterion_add, ["specification.criterion_add"],
                      actor=reviewer, specification=draft,
                      values={"test_code": "appearance", "name": "Appearance",
                              "text_requirement": "clear"})
    walk.step(specification_edits.criterion_update, ["specification.criterion_change"],
              actor=reviewer, criterion=added, values={"name": "Appearance (visual)"})
    walk.step(specification_edits.criterion_remove, ["specification.criterion_remove"],
              actor=reviewer, criterion=Criterion.objects.get(pk=added.pk))
    walk.step(qc_services.specification_author, ["signature.authored"], actor=reviewer,
              password=PASSWORD, specification=draft)
    walk.step(qc_services.specification_approve,
              ["signature.approved", "specification.retire", "specification.approve"],
              actor=qp, password=PASSWORD, specification=draft)

    # Instruments' keys.
    instrument = make_instrument(InstrumentKind.PH_METER)
    key, _ = walk.step(api_keys.api_key_create, ["api_key.create"], actor=admin_user,
                       instrument=instrument, test_codes=["ph"])
    walk.step(api_keys.api_key_revoke, ["api_key.revoke"], actor=admin_user, key=key,
              reason="meter replaced")

    # A batch: registration (with the source lot's Ac-227 share), expiry, results.
    batch = walk.step(registration.batch_register, ["batch.register", "result.record"],
                      actor=operator, lot_number="AC-WALK-1", product=product,
                      source_lot=make_source_lot(),
                      eos=now - timedelta(minutes=50),
                      calibration_time=now + timedelta(minutes=10), activity_bq=8e6,
                      volume_ml=4.0)
    walk.step(physics.batch_compute_physics, ["batch.expiry"], batch_id=batch.pk)
    share = Result.objects.get(batch=batch)
    walk.step(evaluation.result_evaluate, ["result.evaluate"], result_id=share.pk)
    first = walk.step(record, ["result.record", "batch.status"], analyst, batch, "ph",
                      batch.eos + timedelta(minutes=8), 9.9, "pH", by=analyst)
    walk.step(records.result_record, ["result.record"], actor=analyst, batch=batch,
              criterion=first.criterion, measured_at=batch.eos + timedelta(minutes=9),
              value=7.0, unit="pH")
    upload = SimpleUploadedFile("ph-meter.csv", b"time,pH\n09:38,7.0\n")
    walk.step(records.result_record, ["raw_data.store", "result.record"], actor=analyst,
              batch=batch, criterion=first.criterion,
              measured_at=batch.eos + timedelta(minutes=9), value=7.0, unit="pH",
              raw_data_upload=upload)
    with transaction.atomic():
        walk.step(raw_data.raw_data_store, ["raw_data.store"], actor=analyst,
                  upload=SimpleUploadedFile("spectrum.spe", b"$SPEC_ID: walk"),
                  batch_lot=batch.lot_number)
    many = walk.step(records.result_record_many, ["result.record", "result.record"],
                     actor=analyst,
              channel="web", items=[
                  records.ResultInput(batch=batch, criterion=first.criterion, value=v,
                                       unit="pH", measured_at=batch.eos + timedelta(minutes=m))
                  for m, v in ((10, 7.1), (11, 7.2))])
    walk.step(evaluation.results_evaluate_many, ["result.evaluate", "result.evaluate"],
              by=None, result_ids=[r.pk for r in many])
    walk.step(evaluation.result_evaluate, ["result.evaluate"], result_id=first.pk)
    walk.step(disposition.result_invalidate, ["signature.invalidated", "result.invalidate"],
              actor=reviewer, password=PASSWORD, result=first, cause="strip misread")
    with committed():
        release_required_results(second_analyst, batch)
    ph = Result.objects.filter(batch=batch, criterion__test_code="ph").latest("id")
    correction = walk.step(records.result_correct, ["result.supersede"], actor=analyst,
                           result=ph, value=7.05, reason="transcription error")
    walk.step(evaluation.result_evaluate, ["result.evaluate"], result_id=correction.pk)

    # Signatures: refused, failed, locked, unlocked, then the disposition itself.
    walk.refused(disposition.batch_release, ["signature.refused"], by=qp, actor=qp,
                 password=PASSWORD, batch=batch)
    for _ in range(4):
        walk.refused(signatures.check_signer, ["signature.failed"], by=reviewer,
                     user=reviewer, password="wrong")
    walk.refused(disposition.batch_review, ["signature.failed"], by=reviewer, actor=reviewer,
                 password="wrong", batch=batch)
    walk.refused(signatures.check_signer, ["signature.refused_locked"], by=reviewer,
                 user=reviewer, password=PASSWORD)
    walk.step(signatures.signing_unlock, ["signature.unlock"], actor=admin_user,
              user=reviewer)
    walk.step(signatures.check_signer, [], by=reviewer, user=reviewer, password=PASSWORD)
    with transaction.atomic():
        walk.step(signatures.signature_apply, ["signature.authored"], by=reviewer,
                  user=reviewer, meaning="authored", object_type="test", object_id=1, record={})
    walk.step(disposition.batch_review, ["signature.reviewed", "batch.review"],
              actor=reviewer, password=PASSWORD, batch=batch)
    conditional = walk.step(disposition.batch_release_conditionally,
                            ["signature.conditionally_released",
                             "batch.release_conditionally"],
                            actor=qp, password=PASSWORD, batch=batch)

    # The certificate of the conditional release, issued by the task on commit.
    certificate = walk.step(REAL_CERTIFICATE_REQUEST, ["certificate.request"], by=qp,
                            batch_id=batch.pk, signature_id=conditional.pk)
    walk.step(certificates.certificate_issue, ["certificate.issue"], by=None,
              certificate_id=certificate.pk)

    walk.step(certificates.certificates_sweep, [], by=None, now=timezone.now())  # none stuck

    # Sterility passes; the QP's final release; its certificate fails, is retried, issued.
    clock.advance(days=14)
    sterility = walk.step(record, ["result.record"], analyst, batch, "sterility",
                          clock.now(), text="no growth", by=analyst)
    walk.step(evaluation.result_evaluate, ["result.evaluate"], result_id=sterility.pk)
    final = walk.step(disposition.batch_release, ["signature.released", "batch.release"],
                      actor=qp, password=PASSWORD, batch=batch)
    second = walk.step(REAL_CERTIFICATE_REQUEST, ["certificate.request"], by=qp,
                       batch_id=batch.pk, signature_id=final.pk)
    settings.SIGNING_P12_PATH = str(signing_identity / "missing.p12")
    walk.step(certificates.certificate_issue, ["certificate.fail"], certificate_id=second.pk)
    walk.step(certificates.certificate_retry, ["certificate.retry"], actor=admin_user,
              certificate=Certificate.objects.get(pk=second.pk))
    settings.SIGNING_P12_PATH = str(signing_identity / "site.p12")
    walk.step(certificates.certificate_issue, ["certificate.supersede", "certificate.issue"],
              certificate_id=second.pk)

    # After release: QA's correction fails, the batch is flagged for recall.
    correction = walk.step(records.result_correct, ["result.supersede"], actor=reviewer,
                           result=sterility, value_text="growth observed",
                           reason="canister re-read")
    walk.step(evaluation.result_evaluate, ["result.evaluate", "batch.post_release_oos"],
              result_id=correction.pk)
    walk.step(oos.batch_flag_post_release_oos, [], batch_id=batch.pk,
              result_id=correction.pk)  # already flagged: nothing more

    # Rejection, on another batch.
    rejected = registration.batch_register(
        actor=operator, lot_number="AC-WALK-2", product=product, source_lot=batch.source_lot,
        eos=clock.now() - timedelta(minutes=5), calibration_time=clock.now(),
        activity_bq=8e6, volume_ml=4.0)
    walk.step(disposition.batch_reject, ["signature.rejected", "batch.reject"], actor=qp,
              password=PASSWORD, batch=rejected, reason="synthesis module fault")

    # Every event about a batch, its results or certificates is on the batch's own trail.
    about_batches = AuditEvent.objects.filter(object_type__startswith="batches.")
    assert about_batches.count() > 30
    assert not about_batches.filter(batch_lot="").exists()
    assert set(about_batches.values_list("batch_lot", flat=True)) == {"AC-WALK-1", "AC-WALK-2"}

    # An elution, recorded by an operator (not about a batch: it comes before one).
    generator = make_elution(GeneratorKind.RA224_PB212,
                             eluted_at=timezone.now() - timedelta(hours=3)).generator
    walk.step(elutions.elution_record, ["elution.recorded"], actor=operator,
              generator=generator, eluted_at=timezone.now(), activity_bq=1e6, volume_ml=2.0)

    missing = public_functions() - walk.walked - {f"{n}" for n in READ_ONLY}
    assert not missing, f"services not walked: {sorted(missing)}"
    stale = set(READ_ONLY) - public_functions()
    assert not stale, f"READ_ONLY names functions that no longer exist: {sorted(stale)}"
