from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from objectives.importing import ImportFileError, decode_upload, objectives_import_apply, objectives_import_plan
from partnership.models import Trust


class Command(BaseCommand):
    help = (
        "Import a trust's objectives from CSV (columns: ref,title,description,theme,directorate,"
        "clinical_lead_email,managerial_lead_email,status). All rows are checked first; nothing is "
        "written if any is bad. Rows are matched on ref (on title when ref is blank), so re-importing "
        "a file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("trust_code")
        parser.add_argument("file", type=Path)

    def progress(self, stage):
        def report(done, total):
            self.stderr.write(f"{stage} {done:,}/{total:,} rows", ending="\r" if done < total else "\n")

        return report

    def handle(self, *args, trust_code, file, **options):
        trust = Trust.objects.filter(code=trust_code.strip().upper()).first()
        if trust is None:
            raise CommandError(f"No trust with code {trust_code!r}. Create it with create_trust first.")
        try:
            text = decode_upload(file.read_bytes())
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {file}") from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        plan = objectives_import_plan(trust=trust, text=text, progress=self.progress("Checked"))
        if not plan.is_valid:
            for error in plan.errors:
                self.stderr.write(f"{file.name}: {error}")
            raise CommandError(f"{len(plan.errors)} error(s) in {file.name}; nothing was imported.")
        result = objectives_import_apply(trust=trust, plan=plan, source=file.name, progress=self.progress("Imported"))
        self.stdout.write(f"Imported {file.name} into {trust.code}: {result.summary()}")
