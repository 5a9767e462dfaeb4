"""The CSV imports this app offers in the browser (see import_views.CsvImporter)."""

from .import_views import CsvImporter
from .services.people_import import COLUMNS, people_import_apply, people_import_plan

PEOPLE = CsvImporter(
    key="people",
    title="Import a staff list",
    columns=COLUMNS,
    notes=(
        "New directorates are created; people already in the trust are updated; "
        "people missing from the file are left as they are."
    ),
    plan=lambda trust, text: people_import_plan(trust=trust, text=text),
    apply=lambda trust, plan, options, user: people_import_apply(
        trust=trust, plan=plan, invite=options.get("invite", False), invited_by=user
    ),
    done_url_name="people_list",
    options=(("invite", "Email an invitation to people who have not signed in yet", True),),
)
