from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from partnership.models import Trust
from partnership.services.people_import import ImportFileError, decode_upload, people_import_apply, people_import_plan


class Command(BaseCommand):
    help = (
        "Import a trust's staff list from CSV (columns: email,full_name,professional_group,level,role,"
        "directorate,receives_board_report). All rows are checked first; nothing is written if any is bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("trust_code")
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--invite", action="store_true", help="email invitations to people who have not signed in yet"
        )

    def progress(self, stage):
        def report(done, total):
            self.stderr.write(f"{stage} {done:,}/{total:,} rows", ending="\r" if done < total else "\n")

        return report

    def handle(self, *args, trust_code, file, invite=False, **options):
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
        plan = people_import_plan(trust=trust, text=text, progress=self.progress("Checked"))
        if not plan.is_valid:
            for error in plan.errors:
                self.stderr.write(f"{file.name}: {error}")
            raise CommandError(f"{len(plan.errors)} error(s) in {file.name}; nothing was imported.")
        result = people_import_apply(trust=trust, plan=plan, invite=invite, progress=self.progress("Imported"))
        self.stdout.write(f"Imported {file.name} into {trust.code}: {result.summary()}")
