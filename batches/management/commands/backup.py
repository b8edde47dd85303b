"""manage.py backup: database, media and signing identity in one archive with a manifest."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from batches.operations.backup import BackupError, backup_create


class Command(BaseCommand):
    help = ("Write alpharelease-<UTC time>.tar.gz: a consistent database dump (pg_dump custom "
            "format, or SQLite's online backup), every media file and the signing identity, "
            "with a manifest of SHA-256s. The archive holds the (encrypted) signing key: "
            "keep it as private as the key.")

    def add_arguments(self, parser):
        parser.add_argument("--output-dir", default="backups",
                            help="folder for the archive (created if missing)")

    def handle(self, *args, output_dir: str, **options):
        try:
            report = backup_create(output_dir=Path(output_dir))
        except BackupError as exc:
            raise CommandError(f"Backup FAILED: {exc}", returncode=1) from None
        self.stdout.write(f"Backup written: {report.path} ({report.files} files, "
                          f"{report.bytes / 1e6:.1f} MB before compression)")
