"""The demo site's dispositions are made through the services, so its trail, signatures and
certificates are those of a real site."""

import io

import pytest
from django.core.management import call_command

from batches import demo
from batches.disposition import blockers as blocking
from batches.disposition import record
from batches.models import Batch, BatchStatus, Certificate, CertificateStatus
from qc.models import Signature

pytestmark = pytest.mark.django_db


def test_the_demo_has_batches_of_every_family_in_every_disposition(
        capsys, signing_identity, committed):
    with committed():
        seeded = demo.seed()
    statuses = {b.lot_number: (b.product.family, b.status) for b in Batch.objects.all()}
    for lot, family in (("AC225-2611-000", "central_ac225"),
                        ("PB212-2611-000", "generator_pb212"),
                        ("BI213-2611-000", "generator_bi213")):
        assert statuses[lot] == (family, BatchStatus.RELEASED)
        versions = Certificate.objects.filter(batch__lot_number=lot).order_by("version")
        assert [(c.version, c.status, c.disposition) for c in versions] == [
            (1, CertificateStatus.SUPERSEDED, BatchStatus.CONDITIONALLY_RELEASED),
            (2, CertificateStatus.ISSUED, BatchStatus.RELEASED)]
    assert statuses["AC225-2611-001"] == ("central_ac225", BatchStatus.CONDITIONALLY_RELEASED)
    assert statuses["PB212-2611-003"] == ("generator_pb212",
                                          BatchStatus.CONDITIONALLY_RELEASED)
    assert statuses["BI213-2611-013"] == ("generator_bi213", BatchStatus.REVIEWED)
    assert statuses["PB212-2611-002"][1] == BatchStatus.REGISTERED
    assert {s for _, s in statuses.values()} >= {BatchStatus.IN_QC}
    for signature in Signature.objects.filter(object_type="batches.batch"):
        assert record.signature_integrity(signature)
    assert Certificate.objects.filter(status=CertificateStatus.ISSUED).count() == 5
    # The QP's decision on the 213Bi batch is open; the conditional release is offered.
    bi = Batch.objects.get(lot_number="BI213-2611-013")
    assert blocking.available_actions(user=seeded["users"]["qp"], batch=bi) == [
        "release_conditionally", "reject"]
    call_command("verify_audit")
    assert "Audit trail intact" in capsys.readouterr().out


def test_seeding_twice_changes_nothing(signing_identity, committed):
    with committed():
        demo.seed()
    counts = (Batch.objects.count(), Signature.objects.count(), Certificate.objects.count())
    with committed():
        assert demo.seed()["created"] is False
    assert (Batch.objects.count(), Signature.objects.count(),
            Certificate.objects.count()) == counts


def test_the_demos_own_history_passes_the_registration_and_result_rules(signing_identity,
                                                                        committed):
    from batches.models import Result
    from qc.instruments import is_qualified

    with committed():
        demo.seed()
    for batch in Batch.objects.select_related("source_lot", "elution", "product"):
        source_time = (batch.source_lot.reference_time if batch.source_lot
                       else batch.elution.eluted_at)
        assert source_time <= batch.eos, batch.lot_number  # AC225-2611-000 used a later lot
    for result in Result.objects.select_related("batch", "criterion", "instrument"):
        if result.criterion.earliest_after:
            assert result.measured_at >= result.batch.eos + result.criterion.earliest_after
        if result.instrument:
            assert is_qualified(result.instrument, result.criterion.test_code)
    assert Result.objects.filter(criterion__test_code="vector-function").exists()
    # 212Pb: every radio-TLC strip states its window (the Pb-212 line) and is valid; every
    # equilibrium-setting reading is corrected to Pb-212 with the batch's daughters and passes
    pb_rcp = Result.objects.filter(batch__product__code="pb212-dotamtate",
                                   criterion__test_code="rcp").select_related("evaluation")
    assert pb_rcp and all(r.counting_window == "product_line" and r.evaluation.verdict == "pass"
                          for r in pb_rcp)
    pb_activity = Result.objects.filter(batch__product__code="pb212-dotamtate",
                                        criterion__test_code="activity")
    assert pb_activity.count() == 3
    for result in pb_activity.select_related("evaluation"):
        assert result.evaluation.verdict == "pass", result.evaluation.message
        assert "corrected x5.155 to Pb-212 (Tl-208 at 10.4 % of equilibrium" in (
            result.evaluation.message)


def test_seed_demo_prints_the_site_url_and_logins_last_and_keeps_task_logs_quiet(
        monkeypatch, settings, caplog):
    import io
    import logging

    from batches.management.commands import seed_demo

    def noisy_seed():
        logging.getLogger("celery.app.trace").info("Task evaluate_result succeeded")
        logging.getLogger("celery.app.trace").warning("a task warning still shows")
        return {"created": True, "users": {}}

    settings.SITE_URL = "http://127.0.0.1:8000"
    monkeypatch.setattr(seed_demo, "seed", noisy_seed)
    monkeypatch.setattr(seed_demo, "demo_instrument_keys", lambda: [])
    monkeypatch.setattr(seed_demo, "seed_stability", lambda users: False)
    out = io.StringIO()
    level_before = logging.getLogger("celery").level
    with caplog.at_level(logging.INFO):
        call_command("seed_demo", "--not-production", stdout=out)
    lines = out.getvalue().rstrip().splitlines()
    logins = demo.demo_logins()
    assert lines[-len(logins) - 2] == "Open http://127.0.0.1:8000/ and log in as:"
    for line, (username, password, _) in zip(lines[-len(logins):], logins, strict=True):
        assert line.split()[:2] == [username, password]
    messages = [record.getMessage() for record in caplog.records]
    assert "Task evaluate_result succeeded" not in messages
    assert "a task warning still shows" in messages
    assert logging.getLogger("celery").level == level_before  # restored afterwards


def test_seeding_hashes_the_published_passwords_cheaply_and_a_first_login_rehashes_them(
        monkeypatch, settings, client):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from batches.management.commands import seed_demo

    def seed_one_user():
        user = get_user_model().objects.create(username="olga")
        user.set_password("demo-operator-212")
        user.save()
        assert user.check_password("demo-operator-212")  # as each seeded e-signature does
        return {"created": True, "users": {}}

    monkeypatch.setattr(seed_demo, "seed", seed_one_user)
    monkeypatch.setattr(seed_demo, "demo_instrument_keys", lambda: [])
    monkeypatch.setattr(seed_demo, "seed_stability", lambda users: False)
    monkeypatch.setattr(seed_demo, "_foreign_users", lambda: [])
    call_command("seed_demo", "--not-production", stdout=io.StringIO())
    user = get_user_model().objects.get(username="olga")
    assert user.password.startswith("pbkdf2_sha256$1000$")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    response = client.post("/login/", {"username": "olga", "password": "demo-operator-212"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith(f"pbkdf2_sha256${PBKDF2PasswordHasher.iterations}$")
