"""The site's signing identity: the PKCS#12 that signs certificates (a file or a secret
setting: qc.site_identity) and the certificate verifiers check them against."""

from pathlib import Path

from django.conf import settings

from qc import site_identity
from qc.site_identity import SigningIdentityMissing

__all__ = ["SigningIdentityMissing", "signing_paths", "site_signer", "site_certificate_pem",
           "warm_up"]


# ---------------------------------------------------------------- signing identity


def signing_paths() -> tuple[Path, Path]:
    """The identity's file and its published certificate, where create_signing_identity and a
    restore write them (a site whose identity comes from the secret setting has none)."""
    if site_identity.from_secret():
        raise SigningIdentityMissing(
            f"The signing identity comes from {site_identity.SECRET_SETTING}, not a file; "
            "replace the secret to change it.")
    p12 = site_identity.p12_path()
    return p12, p12.with_suffix(".cert.pem")


def site_signer():
    data = site_identity.pkcs12_bytes()
    from qc.signing_key import signer_for  # pyHanko loads when a key is needed

    return signer_for(data, settings.SIGNING_P12_PASSPHRASE.encode())


def site_certificate_pem() -> bytes:
    pem = site_identity.published_certificate_path()
    if pem is None:  # the secret setting: the certificate inside the PKCS#12
        from asn1crypto import pem as asn1_pem

        return asn1_pem.armor("CERTIFICATE", site_signer().signing_cert.dump())
    if not pem.exists():
        raise SigningIdentityMissing(f"No site certificate at {pem}; verifiers need it.")
    return pem.read_bytes()


def warm_up() -> None:
    """Register the fonts and load the signing key at worker start, so that the first
    release after a restart is as fast as the others."""
    from ..pdf.fonts import register_fonts

    register_fonts()
    if site_identity.installed() and settings.SIGNING_P12_PASSPHRASE:
        site_signer()
