"""Where the site's signing identity comes from: a PKCS#12 file on disk (SIGNING_P12_PATH,
its certificate published beside it as <name>.cert.pem), or a secret setting
(SIGNING_P12_BASE64: the same file in base64, for hosts that get their secrets from the
environment or a mounted secret; the certificate is the one inside it). Certificates, audit
checkpoints, /readyz and backups read the identity through here."""

import hashlib
from pathlib import Path

from django.conf import settings

SECRET_SETTING = "SIGNING_P12_BASE64"


class SigningIdentityMissing(RuntimeError):
    """The site's signing identity is not installed where the settings say."""


def from_secret() -> bool:
    return settings.SIGNING_P12_DATA is not None


def p12_path() -> Path | None:
    """The PKCS#12 file, or None when the identity comes from the secret setting."""
    return None if from_secret() else Path(settings.SIGNING_P12_PATH)


def source() -> str:
    """Where the identity comes from, for messages."""
    return SECRET_SETTING if from_secret() else str(p12_path())


def installed() -> bool:
    return from_secret() or p12_path().exists()


def pkcs12_bytes() -> bytes:
    if from_secret():
        return settings.SIGNING_P12_DATA
    path = p12_path()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SigningIdentityMissing(
            f"No signing identity at {path}. Install the site's PKCS#12 file there (setting "
            f"SIGNING_P12_PATH), set {SECRET_SETTING}, or run `python manage.py "
            "create_signing_identity`.") from None


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def published_certificate_path() -> Path | None:
    """The site certificate published beside the PKCS#12 file (None with the secret)."""
    path = p12_path()
    return None if path is None else path.with_suffix(".cert.pem")
