"""The command-line side of every CSV import: `manage.py import_<kind> TRUST_CODE FILE.csv`.

Subclasses say how to check (`plan`) and write (`apply`); this class finds the trust, reads
the file, shows progress on stderr, prints each bad row as "file: line N: reason" and exits
non-zero having written nothing, or prints a one-line summary.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from partnership.csv_import import ImportConflict, ImportFileError, decode_upload
from partnership.models import Trust


class CsvImportCommand(BaseCommand):
    # True: `plan` gets the file's path and streams it (imports built for files of millions of
    # rows); False: `plan` gets the decoded text.
    streaming = False

    def add_arguments(self, parser):
        parser.add_argument("trust_code")
        parser.add_argument("file", type=Path)

    def plan(self, *, trust, text, progress):
        raise NotImplementedError

    def apply(self, *, trust, plan, file, progress, options):
        raise NotImplementedError

    def progress(self, stage):
        def report(done, total):
            self.stderr.write(f"{stage} {done:,}/{total:,} rows", ending="\r" if done < total else "\n")

        return report

    def handle(self, *args, trust_code, file, **options):
        trust = Trust.objects.filter(code=trust_code.strip().upper()).first()
        if trust is None:
            raise CommandError(f"No trust with code {trust_code!r}. Create it with create_trust first.")
        if self.streaming:
            if not file.is_file():
                raise CommandError(f"No such file: {file}")
            try:
                file.open("rb").close()
            except OSError as exc:
                raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
            try:
                plan = self.plan(trust=trust, path=file, progress=self.progress("Checked"))
            except ImportFileError as exc:
                raise CommandError(str(exc)) from exc
            return self._finish(trust, plan, file, options)
        try:
            text = decode_upload(file.read_bytes())
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {file}") from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        plan = self.plan(trust=trust, text=text, progress=self.progress("Checked"))
        return self._finish(trust, plan, file, options)

    def _finish(self, trust, plan, file, options):
        if not plan.is_valid:
            for error in plan.errors:
                self.stderr.write(f"{file.name}: {error}")
            raise CommandError(f"{len(plan.errors)} error(s) in {file.name}; nothing was imported.")
        for warning in getattr(plan, "warnings", ()):
            self.stderr.write(f"{file.name}: {warning}")
        try:
            with transaction.atomic():
                result = self.apply(
                    trust=trust, plan=plan, file=file, progress=self.progress("Imported"), options=options
                )
        except (ImportConflict, IntegrityError) as exc:
            message = str(exc) if isinstance(exc, ImportConflict) else ImportConflict.default_message
            raise CommandError(f"{file.name}: {message}") from exc
        self.stdout.write(f"Imported {file.name} into {trust.code}: {result.summary()}")
