"""The CSV imports this app offers in the browser (see partnership.import_views.CsvImporter)."""

from partnership.import_views import CsvImporter

from .importing import COLUMNS, objectives_import_apply, objectives_import_plan

OBJECTIVES = CsvImporter(
    key="objectives",
    title="Import objectives",
    columns=COLUMNS,
    notes=(
        "Rows are matched to objectives by ref (by exact title when ref is blank): matching objectives "
        "are updated, others created with the next free ref. Theme and status use the slugs "
        "(e.g. clinical-focus, agreed; blank status = draft). Directorates must already exist. "
        "Leads are active members of this trust, by email. No sign-off emails are sent. An existing "
        "objective is never proposed, agreed or marked achieved by an import (that happens on its page), "
        "and changing its wording clears its sign-offs."
    ),
    plan=lambda trust, text: objectives_import_plan(trust=trust, text=text),
    apply=lambda trust, plan, options, user: objectives_import_apply(
        trust=trust, plan=plan, by_user=user, source="a CSV upload"
    ),
    done_url_name="objective_list",
)
