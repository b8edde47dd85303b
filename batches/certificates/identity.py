"""The site's signing identity: the PKCS#12 file that signs certificates and the certificate
verifiers check them against."""

from pathlib import Path

from django.conf import settings


class SigningIdentityMissing(RuntimeError):
    """The site's signing identity is not installed where the settings say."""


# ---------------------------------------------------------------- signing identity


def signing_paths() -> tuple[Path, Path]:
    p12 = Path(settings.SIGNING_P12_PATH)
    return p12, p12.with_suffix(".cert.pem")


def site_signer():
    p12, _ = signing_paths()
    if not p12.exists():
        raise SigningIdentityMissing(
            f"No signing identity at {p12}. Install the site's PKCS#12 file there (setting "
            "SIGNING_P12_PATH) or run `python manage.py create_signing_identity`.")
    from ..pdf.signing import load_signer  # pyHanko loads when a key is needed, not at start

    return load_signer(p12, settings.SIGNING_P12_PASSPHRASE.encode())


def site_certificate_pem() -> bytes:
    _, pem = signing_paths()
    if not pem.exists():
        raise SigningIdentityMissing(f"No site certificate at {pem}; verifiers need it.")
    return pem.read_bytes()


def warm_up() -> None:
    """Register the fonts and load the signing key at worker start, so that the first
    release after a restart is as fast as the others."""
    from ..pdf.fonts import register_fonts

    register_fonts()
    if signing_paths()[0].exists() and settings.SIGNING_P12_PASSPHRASE:
        site_signer()
