from objectives.importing import objectives_import_apply, objectives_import_plan
from partnership.management.csv_command import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Import a trust's objectives from CSV (columns: ref,title,description,theme,directorate,"
        "clinical_lead_email,managerial_lead_email,status). All rows are checked first; nothing is "
        "written if any is bad. Rows are matched on ref (on title when ref is blank), so re-importing "
        "a file changes nothing."
    )

    def plan(self, *, trust, text, progress):
        return objectives_import_plan(trust=trust, text=text, progress=progress)

    def apply(self, *, trust, plan, file, progress, options):
        return objectives_import_apply(trust=trust, plan=plan, source=file.name, progress=progress)
