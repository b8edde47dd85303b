"""manage.py restore ARCHIVE: into an empty database, then verify the audit trail, the raw
data and every certificate. Exit 0 only when everything checks out."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from batches.operations.restore import (
    RestoreError,
    backup_restore,
    pending_migrations,
    restore_checks,
)


class Command(BaseCommand):
    help = ("Restore a backup archive into an empty database and media storage, then run the "
            "restore checks (audit chain, raw-data SHA-256s, every current certificate's "
            "signature). --checks-only runs just the checks on the database as it is.")

    def add_arguments(self, parser):
        parser.add_argument("archive", nargs="?")
        parser.add_argument("--checks-only", action="store_true")
        parser.add_argument("--no-privileges", action="store_true",
                            help="PostgreSQL: skip the dump's GRANTs (when the app role does "
                                 "not exist here yet; run the guide's GRANT SQL afterwards)")
        parser.add_argument("--replace-signing-identity", action="store_true")

    def handle(self, *args, archive=None, checks_only=False, no_privileges=False,
               replace_signing_identity=False, **options):
        if not checks_only:
            if not archive:
                raise CommandError("Name the archive to restore, or pass --checks-only.")
            path = Path(archive)
            if not path.is_file():
                raise CommandError(f"{archive}: no such file")
            try:
                done = backup_restore(path=path, privileges=not no_privileges,
                                      replace_signing_identity=replace_signing_identity)
            except RestoreError as exc:
                raise CommandError(f"Restore FAILED: {exc}", returncode=1) from None
            self.stdout.write(f"Restored the backup of {done['created_at']}: database, "
                              f"{done['media']} media files, {done['signing']} signing files "
                              f"(all {done['files']} files matched the manifest).")
        pending = pending_migrations()
        if pending:
            raise CommandError(
                f"The database lacks {len(pending)} migrations of this version "
                f"({', '.join(pending[:3])}...): run `manage.py migrate`, then "
                "`manage.py restore --checks-only`.", returncode=2)
        failed = 0
        for check in restore_checks():
            self.stdout.write(f"  {'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
            failed += not check.ok
        if failed:
            raise CommandError(f"Restore checks FAILED ({failed}).", returncode=1)
        self.stdout.write(self.style.SUCCESS("Restore checks passed."))
