"""The signing identity from a secret setting: SIGNING_P12_BASE64 (the PKCS#12 file in base64,
or SIGNING_P12_BASE64_FILE) and SIGNING_P12_PASSPHRASE_FILE, as Docker and Kubernetes hand out
secrets. Certificates are signed and verified with it, /readyz loads it, audit checkpoints are
signed with it; a malformed value, or a value given twice, stops start-up naming the
variable."""

import base64
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from batches.certificates.verify import certificate_verify
from batches.models import CertificateStatus
from batches.operations.health import check_signing_key
from config.env import env_pkcs12, env_secret_value
from qc.audit_checkpoints import checkpoint_anchors, checkpoint_write
from tests.batches.conftest import tested_batch  # noqa: F401 (a fixture)
from tests.batches.test_certificate_issue import issue

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def identity_in_secret(settings, identity_dir):
    """The test identity given as the secret setting: no file path at all."""
    settings.SIGNING_P12_PATH = ""
    settings.SIGNING_P12_DATA = (identity_dir / "site.p12").read_bytes()
    settings.SIGNING_P12_PASSPHRASE = "test-passphrase"
    return settings.SIGNING_P12_DATA


# ---------------------------------------------------------------- using it


@pytest.mark.django_db
def test_a_release_is_signed_with_the_identity_from_the_secret_and_verifies(
        identity_in_secret, tested_batch, qp, committed):  # noqa: F811
    certificate = issue(tested_batch, qp, committed)

    assert certificate.status == CertificateStatus.ISSUED
    check = certificate_verify(certificate.pdf.read())
    assert check.genuine and check.current, check.details


def test_readyz_loads_the_identity_from_the_secret(identity_in_secret):
    assert check_signing_key() == "SIGNING_P12_BASE64 loaded"


def test_readyz_names_a_wrong_passphrase_for_the_secret(identity_in_secret, settings):
    settings.SIGNING_P12_PASSPHRASE = "not-the-passphrase"
    with pytest.raises(ValueError):
        check_signing_key()


@pytest.mark.django_db
def test_audit_checkpoints_are_signed_with_the_secret_identity(identity_in_secret,
                                                              tested_batch):  # noqa: F811
    path = checkpoint_write(reason="test")
    assert path is not None and path.exists()
    anchors, problems = checkpoint_anchors()
    assert len(anchors) == 1 and not problems, problems


def test_create_signing_identity_refuses_to_write_a_file_beside_the_secret(identity_in_secret):
    with pytest.raises(CommandError, match="SIGNING_P12_BASE64"):
        call_command("create_signing_identity", stdout=io.StringIO())


# ---------------------------------------------------------------- reading the settings


@pytest.fixture
def p12_bytes(identity_dir) -> bytes:
    return (identity_dir / "site.p12").read_bytes()


def test_the_secret_is_decoded_to_the_pkcs12_bytes(monkeypatch, p12_bytes):
    monkeypatch.delenv("SIGNING_P12_PATH", raising=False)
    encoded = base64.b64encode(p12_bytes).decode()
    # Line-wrapped base64 (plain `base64` wraps at 76) is accepted as well as one line.
    wrapped = "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))
    monkeypatch.setenv("SIGNING_P12_BASE64", wrapped)
    assert env_pkcs12("SIGNING_P12_PATH", "SIGNING_P12_BASE64", "/default.p12") == ("", p12_bytes)


def test_without_the_secret_the_file_path_is_used(monkeypatch):
    monkeypatch.delenv("SIGNING_P12_BASE64", raising=False)
    monkeypatch.delenv("SIGNING_P12_BASE64_FILE", raising=False)
    monkeypatch.setenv("SIGNING_P12_PATH", "/etc/alpharelease/site.p12")
    assert env_pkcs12("SIGNING_P12_PATH", "SIGNING_P12_BASE64", "/default.p12") == (
        "/etc/alpharelease/site.p12", None)


def test_the_secret_may_come_from_a_file(monkeypatch, tmp_path, p12_bytes):
    monkeypatch.delenv("SIGNING_P12_PATH", raising=False)
    monkeypatch.delenv("SIGNING_P12_BASE64", raising=False)
    secret = tmp_path / "p12.b64"
    secret.write_text(base64.b64encode(p12_bytes).decode() + "\n")
    monkeypatch.setenv("SIGNING_P12_BASE64_FILE", str(secret))
    assert env_pkcs12("SIGNING_P12_PATH", "SIGNING_P12_BASE64", "/d.p12") == ("", p12_bytes)


@pytest.mark.parametrize(("value", "message"), [
    ("not base64 at all!", "SIGNING_P12_BASE64 is not base64"),
    (base64.b64encode(b"-----BEGIN CERTIFICATE-----").decode(),
     "SIGNING_P12_BASE64 decodes to 27 bytes that are not a PKCS#12 file"),
])
def test_a_malformed_secret_is_refused_naming_it(monkeypatch, value, message):
    monkeypatch.delenv("SIGNING_P12_PATH", raising=False)
    monkeypatch.setenv("SIGNING_P12_BASE64", value)
    with pytest.raises(ImproperlyConfigured, match=message):
        env_pkcs12("SIGNING_P12_PATH", "SIGNING_P12_BASE64", "/default.p12")


def test_a_file_path_and_the_secret_together_are_refused(monkeypatch, p12_bytes):
    monkeypatch.setenv("SIGNING_P12_PATH", "/etc/alpharelease/site.p12")
    monkeypatch.setenv("SIGNING_P12_BASE64", base64.b64encode(p12_bytes).decode())
    with pytest.raises(ImproperlyConfigured,
                       match="SIGNING_P12_PATH and SIGNING_P12_BASE64 are both set"):
        env_pkcs12("SIGNING_P12_PATH", "SIGNING_P12_BASE64", "/default.p12")


def test_the_passphrase_comes_from_its_file_without_the_line_break(monkeypatch, tmp_path):
    monkeypatch.delenv("SIGNING_P12_PASSPHRASE", raising=False)
    (tmp_path / "passphrase").write_text("correct horse battery staple\n")
    monkeypatch.setenv("SIGNING_P12_PASSPHRASE_FILE", str(tmp_path / "passphrase"))
    assert env_secret_value("SIGNING_P12_PASSPHRASE") == "correct horse battery staple"


def test_a_passphrase_given_twice_or_an_unreadable_file_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("SIGNING_P12_PASSPHRASE", "one")
    monkeypatch.setenv("SIGNING_P12_PASSPHRASE_FILE", str(tmp_path / "passphrase"))
    with pytest.raises(ImproperlyConfigured, match="SIGNING_P12_PASSPHRASE and "
                                                   "SIGNING_P12_PASSPHRASE_FILE are both set"):
        env_secret_value("SIGNING_P12_PASSPHRASE")
    monkeypatch.delenv("SIGNING_P12_PASSPHRASE")
    with pytest.raises(ImproperlyConfigured, match=r"SIGNING_P12_PASSPHRASE_FILE=.* cannot be "
                                                   r"read \(No such file or directory\)"):
        env_secret_value("SIGNING_P12_PASSPHRASE")


def test_the_site_does_not_start_with_a_malformed_secret():
    env = {**os.environ, "SIGNING_P12_BASE64": "c2l0ZQ==="}
    env.pop("SIGNING_P12_PATH", None)
    started = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert started.returncode != 0
    assert "SIGNING_P12_BASE64 is not base64" in started.stderr
