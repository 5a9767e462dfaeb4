"""Reports built before the disclosure engine stored the n of hidden groups in their snapshot
and report CSV ("n 1" beside a hidden mean says what one person did). Blank them: the archive,
the stored CSV and every view read back from the snapshot then show no count for a hidden group.
Only counts are removed; no published mean, gap or status changes."""

import csv
import io

from django.db import migrations

N_MEAN_COLUMNS = (("n_clinical", "mean_clinical"), ("n_managerial", "mean_managerial"))


def _scrub_csv(text):
    if not text:
        return text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return text
    header = rows[0]
    pairs = [(header.index(n), header.index(m)) for n, m in N_MEAN_COLUMNS if n in header and m in header]
    for row in rows[1:]:
        for n, m in pairs:
            if len(row) > max(n, m) and row[m] == "":
                row[n] = ""
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _scrub_data(data):
    for item in data.get("objectives", []):
        for cell in item.get("groups", []):
            if cell.get("mean") is None:
                cell["n"] = None
    responses = data.get("responses") or {}
    for key in ("professional_groups", "davies_groups", "directorates"):
        for row in responses.get(key, []):
            if row.get("suppressed"):
                row.update(suppressed="hidden", expected=None, responded=None, rate=None)
    total = responses.get("total")
    if total and total.get("suppressed"):
        total.update(suppressed="hidden", expected=None, responded=None, rate=None)
    return data


def scrub(apps, schema_editor):
    DivergenceReport = apps.get_model("surveys", "DivergenceReport")
    for report in DivergenceReport.objects.filter(data__version=1).iterator():
        report.data = _scrub_data(report.data)
        report.csv = _scrub_csv(report.csv)
        report.save(update_fields=["data", "csv"])


class Migration(migrations.Migration):
    dependencies = [("surveys", "0003_rating_score_counts")]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
