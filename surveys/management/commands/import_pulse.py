from partnership.management.csv_command import CsvImportCommand
from surveys.importing import pulse_import_apply, pulse_import_plan


class Command(CsvImportCommand):
    help = (
        "Import past relationship-pulse answers from CSV (columns: period,rater_email,quality,outlook,category; "
        "quality 1-5, outlook improve|same|deteriorate, category partnership|tension|tolerance|unresolved, "
        "blanks allowed). All rows are checked first; nothing is written if any is bad. Missing rounds are "
        "created with the trust's calendar; re-importing a file changes nothing."
    )

    streaming = True  # checked row by row from the file: memory does not grow with its size

    def plan(self, *, trust, path, progress):
        return pulse_import_plan(trust=trust, path=path, progress=progress)

    def apply(self, *, trust, plan, file, progress, options):
        return pulse_import_apply(trust=trust, plan=plan, progress=progress)
