from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from batches.certificates.identity import signing_paths


class Command(BaseCommand):
    help = ("Create a self-signed site signing identity (PKCS#12 + certificate PEM) for the demo "
            "and for tests. Production sites install their own identity at SIGNING_P12_PATH.")

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="replace an existing identity (old certificates will no "
                                 "longer verify against the new site certificate)")
        parser.add_argument("--common-name", default=None)

    def handle(self, *args, force: bool = False, common_name: str | None = None, **options):
        from batches.pdf.signing import create_signing_identity
        from qc import site_identity

        if site_identity.from_secret():
            raise CommandError(f"The signing identity comes from {site_identity.SECRET_SETTING}"
                               "; unset it to create an identity file at SIGNING_P12_PATH.")
        if not settings.SIGNING_P12_PASSPHRASE:
            raise CommandError("SIGNING_P12_PASSPHRASE is not set; set it to the passphrase "
                               "that protects the identity file.")
        p12, pem = signing_paths()
        if p12.exists() and not force:
            self.stdout.write(f"Signing identity already present: {p12} (certificate {pem}).")
            return
        p12, pem = create_signing_identity(
            Path(p12), settings.SIGNING_P12_PASSPHRASE.encode(),
            common_name=common_name or f"{settings.SITE_NAME} release signing",
            organisation=settings.SITE_NAME)
        self.stdout.write(self.style.SUCCESS(f"Wrote signing identity {p12}"))
        self.stdout.write(f"Site certificate for verifiers: {pem}")
