from partnership.management.csv_command import CsvImportCommand
from surveys.importing import ratings_import_apply, ratings_import_plan


class Command(CsvImportCommand):
    help = (
        "Import past ratings from CSV (columns: period,objective_ref,rater_email,score,comment; period is "
        "YYYY-MM, a blank score is can't judge). All rows are checked first; nothing is written if any is "
        "bad. Missing rounds are created with the trust's calendar; re-importing a file changes nothing."
    )

    streaming = True  # checked row by row from the file: memory does not grow with its size

    def plan(self, *, trust, path, progress):
        return ratings_import_plan(trust=trust, path=path, progress=progress)

    def apply(self, *, trust, plan, file, progress, options):
        return ratings_import_apply(trust=trust, plan=plan, progress=progress)
