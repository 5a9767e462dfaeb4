"""Shared by the hostile-input tests (issue #8 item 3): the corpus in tests/data/hostile/, a
small trust to import into, and the checks every payload must pass.

The corpus:
- `strings.jsonl`: one payload a line, each a JSON string (so NUL, control characters and
  lone-surrogate escapes survive), or a JSON object {"repeat": s, "times": n, "prefix": p,
  "suffix": q} for an over-long value built at load time (the file stays small).
- `csv/<kind>/*.csv` for the people, objectives, ratings and pulse imports, and `csv/any/*.csv`
  for every import: `ok_*` files must import, `err_*` files must be refused with nothing
  written. The huge files (10 MB, 200,000 rows) are generated at test time.

What "safe" means for every payload: no 500; a form error or CommandError, with the database
exactly as it was, or stored and shown escaped (the raw payload never appears in the page).
"""

import contextlib
import csv
import io
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.utils.html import escape
from django_scopes import scopes_disabled

from tests.factories import DirectorateFactory, MembershipFactory, ObjectiveFactory

HOSTILE = Path(__file__).resolve().parent.parent / "data" / "hostile"
STRINGS_FILE = HOSTILE / "strings.jsonl"
CSV_DIR = HOSTILE / "csv"
KINDS = ("people", "objectives", "ratings", "pulse")


def _expand(entry):
    if isinstance(entry, str):
        return entry
    return entry.get("prefix", "") + entry["repeat"] * entry["times"] + entry.get("suffix", "")


def load_strings():
    """Every string payload of the corpus, in file order."""
    lines = STRINGS_FILE.read_text(encoding="utf-8").splitlines()
    return [_expand(json.loads(line)) for line in lines if line.strip()]


PAYLOADS = load_strings()


def describe(payload, limit=40):
    """A short, printable name for a payload in failure messages."""
    text = repr(payload)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(payload):,} chars)"


def csv_files(kind):
    """The corpus files an import of `kind` must handle: its own and the `any` ones."""
    return sorted((CSV_DIR / kind).glob("*.csv")) + sorted((CSV_DIR / "any").glob("*.csv"))


def all_csv_files():
    return sorted(CSV_DIR.rglob("*.csv"))


# The columns of each import and one valid row, in the world of the `world` fixture below.
COLUMNS = {
    "people": ["email", "full_name", "professional_group", "level", "role", "directorate", "receives_board_report"],
    "objectives": [
        "ref",
        "title",
        "description",
        "theme",
        "directorate",
        "clinical_lead_email",
        "managerial_lead_email",
        "status",
    ],
    "ratings": ["period", "objective_ref", "rater_email", "score", "comment"],
    "pulse": ["period", "rater_email", "quality", "outlook", "category"],
}
VALID_ROW = {
    "people": {
        "email": "new.person@ashby.nhs.uk",
        "full_name": "New Person",
        "professional_group": "clinical",
        "level": "operational",
        "role": "consultant",
        "directorate": "Medicine",
        "receives_board_report": "no",
    },
    "objectives": {
        "ref": "SEC-09",
        "title": "Joint clinic redesign",
        "description": "Agreed at the March board",
        "theme": "dialogue",
        "directorate": "Medicine",
        "clinical_lead_email": "clin@ashby.nhs.uk",
        "managerial_lead_email": "mgr@ashby.nhs.uk",
        "status": "agreed",
    },
    "ratings": {
        "period": "2025-06",
        "objective_ref": "OBJ-01",
        "rater_email": "clin@ashby.nhs.uk",
        "score": "4",
        "comment": "Going well",
    },
    "pulse": {
        "period": "2025-06",
        "rater_email": "clin@ashby.nhs.uk",
        "quality": "4",
        "outlook": "improve",
        "category": "partnership",
    },
}
COMMANDS = {
    "people": "import_people",
    "objectives": "import_objectives",
    "ratings": "import_ratings",
    "pulse": "import_pulse",
}


def csv_text(kind, rows, line_ending="\r\n"):
    """A CSV of `rows` (dicts by column) under the kind's header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=line_ending)
    writer.writerow(COLUMNS[kind])
    for row in rows:
        writer.writerow([row[column] for column in COLUMNS[kind]])
    return out.getvalue()


def with_cell(kind, column, value):
    """The valid row of `kind` with `value` in `column`, as a CSV file's bytes."""
    return csv_text(kind, [{**VALID_ROW[kind], column: value}]).encode("utf-8")


def many_rows_csv(kind, rows, compact=False):
    """`rows` data rows of `kind` (distinct where it matters), as bytes. `compact` rows are as
    short as a row of the right width can be, to get past the 5 MB upload limit."""
    header = ",".join(COLUMNS[kind])
    width = len(COLUMNS[kind])
    if compact:
        line = "," * (width - 1) + "x\n"
        return (header + "\n" + line * rows).encode()
    template = {
        "people": "p{i}@ashby.nhs.uk,Person {i},clinical,operational,consultant,,no\n",
        "objectives": "R{i},Objective {i},,dialogue,,,,draft\n",
        "ratings": "2025-06,OBJ-01,r{i}@ashby.nhs.uk,3,\n",
        "pulse": "2025-06,r{i}@ashby.nhs.uk,3,same,\n",
    }[kind]
    return (header + "\n" + "".join(template.format(i=i) for i in range(rows))).encode()


def ten_megabyte_csv(kind):
    """Just over 10 MB: a valid header and rows, padded with a long cell in the last column
    (past the csv module's 128 KB field limit in the last row)."""
    header = ",".join(COLUMNS[kind])
    row = csv_text(kind, [{**VALID_ROW[kind], COLUMNS[kind][-1]: "x" * 1000}]).splitlines()[1]
    body = (row + "\n") * 10_000
    giant = csv_text(kind, [{**VALID_ROW[kind], COLUMNS[kind][-1]: "y" * 300_000}]).splitlines()[1]
    data = (header + "\n" + body + giant + "\n").encode()
    assert len(data) > 10 * 1000 * 1000
    return data


# ----------------------------------------------------------------------------- database state


def _tracked_models():
    models = []
    for label in ("partnership", "objectives", "surveys"):
        models.extend(apps.get_app_config(label).get_models())
    return models


VOLATILE_COLUMNS = {"last_login"}  # signing in to look at a page is not the import writing


def db_snapshot():
    """Every row of the app's tables (raw SQL, for speed): equal snapshots = nothing written."""
    snapshot = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in _tracked_models():
            columns = [f.column for f in model._meta.concrete_fields if f.column not in VOLATILE_COLUMNS]
            table = quote(model._meta.db_table)
            cursor.execute(f"SELECT {', '.join(map(quote, columns))} FROM {table} ORDER BY 1")  # noqa: S608
            snapshot[model._meta.label] = cursor.fetchall()
    return snapshot


def snapshot_diff(before, after):
    """Which tables changed, e.g. ['partnership.User: 3 -> 4 rows']."""
    changed = []
    for label, rows in after.items():
        if rows != before.get(label):
            changed.append(f"{label}: {len(before.get(label, []))} -> {len(rows)} rows")
    return changed


@contextlib.contextmanager
def rolled_back():
    """Run a block (requests included: ATOMIC_REQUESTS nests as a savepoint) and undo its writes,
    so every payload starts from the same data."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# ------------------------------------------------------------------------------- HTML checks

# Fragments that only appear in a page when a payload was rendered unescaped.
DANGEROUS_FRAGMENTS = (
    "<script>alert",
    "onerror=alert(1)>",
    "onload=alert(1)>",
    'onmouseover="alert(1)',
    'href="javascript:',
    "href='javascript:",
    'src="javascript:',
    "<iframe",
    "<style>body{display:none}",
    "</textarea><script",
)
SPECIAL = re.compile(r"[<>]")
QUOTES = re.compile(r"[\"'&]")


def needs_escaping(payload):
    """True for a payload whose raw presence in a page would mean it was not escaped."""
    return bool(SPECIAL.search(payload) or (QUOTES.search(payload) and len(payload.strip()) >= 6))


def html_problems(html, payloads=()):
    """Why `html` is unsafe, or [] when it is: no dangerous fragment anywhere, and no payload
    with HTML-significant characters present raw (Django escapes < > & " ' everywhere)."""
    problems = []
    lowered = html.lower()
    for fragment in DANGEROUS_FRAGMENTS:
        if fragment.lower() in lowered:
            problems.append(f"unescaped {fragment!r} in the page")
    escaped_forms = [escape(payload) for payload in payloads]
    for payload in payloads:
        if not needs_escaping(payload):
            continue
        for variant in {payload, payload.strip(), " ".join(payload.split())}:
            # In a page showing several payloads, one payload may be another's escaped form.
            if any(variant in form for form in escaped_forms):
                continue
            if len(variant) >= 2 and variant in html:
                problems.append(f"payload {describe(payload)} appears unescaped in the page")
                break
    return problems


def page_text(response):
    content_type = response.get("Content-Type", "")
    if "html" not in content_type:
        return ""
    return response.content.decode("utf-8", errors="replace")


def form_errors(response):
    """The errors of the page's form(s), {} when there are none or no form."""
    context = getattr(response, "context", None)
    if not context:
        return {}
    errors = {}
    for key in ("form", "filter_form"):
        form = context.get(key) if hasattr(context, "get") else None
        if form is not None and getattr(form, "errors", None):
            errors.update(form.errors)
    return errors


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture
def world(trust, admin_membership):
    """The Ashby trust with a directorate, one member of each side, a medical director, an agreed
    trust-wide objective OBJ-01 and a draft OBJ-02: what the valid rows of every import refer to."""
    medicine = DirectorateFactory(trust=trust, name="Medicine")
    clin = MembershipFactory(trust=trust, directorate=medicine, user__email="clin@ashby.nhs.uk")
    mgr = MembershipFactory(trust=trust, directorate_manager=True, directorate=medicine, user__email="mgr@ashby.nhs.uk")
    md = MembershipFactory(trust=trust, medical_director=True, user__email="md@ashby.nhs.uk")
    agreed = ObjectiveFactory(
        trust=trust, ref="OBJ-01", title="Shared objective", status="agreed", clinical_lead=clin, managerial_lead=mgr
    )
    draft = ObjectiveFactory(trust=trust, ref="OBJ-02", title="Draft objective", status="draft")
    with scopes_disabled():  # as if written on the site by the medical director
        for objective in (agreed, draft):
            objective.history.update(history_user=md.user)
    return SimpleNamespace(
        trust=trust,
        admin=admin_membership,
        medicine=medicine,
        clin=clin,
        mgr=mgr,
        md=md,
        agreed=agreed,
        draft=draft,
    )


@pytest.fixture
def web(client):
    """The test client, with a 500 returned as a response (to be asserted on), not raised."""
    client.raise_request_exception = False
    return client
