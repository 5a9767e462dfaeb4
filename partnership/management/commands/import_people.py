from partnership.management.csv_command import CsvImportCommand
from partnership.services.people_import import people_import_apply, people_import_plan


class Command(CsvImportCommand):
    help = (
        "Import a trust's staff list from CSV (columns: email,full_name,professional_group,level,role,"
        "directorate,receives_board_report). All rows are checked first; nothing is written if any is bad."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--invite", action="store_true", help="email invitations to people who have not signed in yet"
        )

    def plan(self, *, trust, text, progress):
        return people_import_plan(trust=trust, text=text, progress=progress)

    def apply(self, *, trust, plan, file, progress, options):
        return people_import_apply(trust=trust, plan=plan, invite=options.get("invite", False), progress=progress)
