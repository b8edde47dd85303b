from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from batches.certificates.verify import certificate_verify


class Command(BaseCommand):
    help = ("Check a release certificate PDF: genuine certificate of this site, unchanged, "
            "and current or superseded. Exits 0 only for a genuine current certificate.")

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file: str, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        check = certificate_verify(path.read_bytes())
        self.stdout.write(check.summary)
        for line in check.details:
            self.stdout.write(f"  {line}")
        if not check.current:
            raise SystemExit(1)
